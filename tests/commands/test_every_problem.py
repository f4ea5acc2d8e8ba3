"""Every registered problem through the one run path: evolve, resume, viewers, export, report.

Parametrised over the registry, so an installed plugin (``examples/ahd-binpacking`` in CI) is
driven through the same commands as the built-in problems, with the tiny settings it declares
(:meth:`~ahd.plugins.TaskPlugin.quick_settings`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ahd.cli import app
from ahd.plugins import tasks
from ahd.settings import to_settings
from ahd.store import Store

#: cvrp goes through this path in the session's shared run (``cvrp_run`` in tests/conftest.py:
#: evolve, then ``--resume``; its viewers, export and report in tests/commands and
#: tests/report), which costs a minute of compiling and evaluating to repeat here.
SHARED = "cvrp"
PROBLEMS = sorted(name for name in tasks() if name != SHARED)
#: One problem per plugin class is resumed (the first by name): problems that share a class
#: (cvrp, ovrp and tsp) share its resume path too, and each resume is a round's evaluations;
#: the shared run resumes cvrp's class.
RESUMED = {type(p): name for name, p in sorted(tasks().items(), reverse=True)
           if type(p) is not type(tasks()[SHARED])}.values()


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, f"ahd {' '.join(map(str, args))}:\n{result.output}"
    return result.output


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("problem", PROBLEMS)
def test_problem_runs_resumes_and_is_viewed_through_the_one_run_path(problem, tmp_path):
    plugin = tasks()[problem]
    settings = plugin.quick_settings(tmp_path / "files")
    run = tmp_path / "run"
    sets = [x for k, v in settings.items() for x in ("--set", f"{k}={v}")]
    invoke("evolve", "--problem", problem, *sets, "--rounds", "1", "--offspring", "1",
           "--jobs", "1", "--out", run)
    summary = json.loads((run / "summary.json").read_text())
    assert "budget reached: rounds 1" in summary["stop"]
    with Store.in_run_dir(run, readonly=True) as store:
        stored = store.open_run()
        assert stored.problem == problem and stored.status == "finished"
        first = len(store.candidate_ids())

    if problem in RESUMED:
        # --resume alone: the problem and its settings come from the store.
        invoke("evolve", "--resume", run, "--rounds", "2", "--jobs", "1")
        state = json.loads((run / "state.json").read_text())
        assert state["round"] == 2
    with Store.in_run_dir(run, readonly=True) as store:
        ids = store.candidate_ids()
        assert len(ids) >= first and store.open_run().status == "finished"
        assert len(store.runs()) == 1  # continued, not a second run in the same store

    board = invoke("leaderboard", run)
    assert str(ids[0]) in board
    assert f"for {problem}" in invoke("show", run, str(ids[-1]))
    out = invoke("export", run, str(ids[-1]), "--out-dir", tmp_path / "exported")
    (exported,) = (tmp_path / "exported").glob("*.py")
    assert str(exported) in out
    compile(exported.read_text(), str(exported), "exec")
    invoke("report", run, "--no-routes", "--out", tmp_path / "report.html")
    assert problem in (tmp_path / "report.html").read_text()


def test_a_second_run_in_the_same_directory_is_refused(tmp_path):
    run = tmp_path / "run"
    with Store.in_run_dir(run) as store:
        store.create_run("cvrp", {"task": {}})
    result = CliRunner().invoke(app, ["evolve", "--problem", "cvrp", "--out", str(run)])
    assert result.exit_code == 2
    assert "already holds a run" in result.output and f"--resume {run}" in result.output


def test_resume_refuses_a_changed_task_setting(tmp_path):
    run = tmp_path / "run"
    settings = tasks()["cvrp"].quick_settings(tmp_path)
    with Store.in_run_dir(run) as store:
        store.create_run("cvrp", {"task": to_settings(tasks()["cvrp"].configure(settings))})
    result = CliRunner().invoke(app, ["evolve", "--resume", str(run), "--size", "99"])
    assert result.exit_code == 2 and "different settings (size)" in result.output
    result = CliRunner().invoke(app, ["evolve", "--resume", str(run), "--problem", "tsp"])
    assert result.exit_code == 2 and "is a cvrp run, not tsp" in result.output


@pytest.mark.parametrize("flag", [["--domain", "x"], ["--expansions", "5"]])
def test_flags_of_another_problem_are_refused(flag):
    result = CliRunner().invoke(app, ["evolve", "--problem", "cvrp", *flag])
    assert result.exit_code == 2 and "does not apply to --problem cvrp" in result.output


def test_set_reaches_config_fields_and_names_bad_ones(tmp_path):
    result = CliRunner().invoke(app, ["evolve", "--problem", "cvrp", "--set", "colour=red",
                                      "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "unknown setting colour" in result.output
    result = CliRunner().invoke(app, ["evolve", "--problem", "cvrp", "--set", "size=many",
                                      "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "size: 'many' is not a valid int" in result.output
    assert not Path(tmp_path / "r" / "ahd.sqlite").exists()
