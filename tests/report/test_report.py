"""``ahd report``: the data collected from a run directory, the HTML page, the PNG plots and the
command's errors, on synthetic run directories (fast) and on a real short ``ahd evolve`` run.

The helpers :func:`real_run` and :func:`synthetic_run` are shared with
``test_report_browser.py``, so the real run is made once per session.
"""

from __future__ import annotations

import html
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ahd.candidate import Candidate, Origin
from ahd.commands.report_cli import register
from ahd.report import ReportError, collect_run, render_html, write_pngs
from ahd.store import Evaluation, Store

SECTION_IDS = ("summary", "convergence", "leaderboard", "lineage", "usage", "llm", "failures",
               "routes", "planning", "config")
EVOLVE_ARGS = [
    "evolve", "--problem", "cvrp", "--size", "15", "--train", "2", "--validation", "2",
    "--iterations", "80", "--rounds", "2", "--offspring", "2", "--jobs", "2", "--time", "10m",
]
#: A link or source that would need the network to view the page.
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
_RUNS: dict[str, tuple[Path, str]] = {}


def report_app() -> typer.Typer:
    """``ahd``'s command line with ``report`` in it (a fresh app until ahd.cli registers it)."""
    from ahd.cli import app

    if any(cmd.name == "report" for cmd in app.registered_commands):
        return app
    fresh = typer.Typer()
    fresh.callback()(lambda: None)
    register(fresh)
    return fresh


def page_text(page: str) -> str:
    """The page's visible text (tags dropped, entities decoded), for content checks."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


# ----------------------------------------------------------------------------- synthetic runs


def _code(role: str, value: int) -> str:
    if role == "destroy":
        return f"def destroy(inst, sol, n_remove, removed):\n    return {value}\n"
    if role == "repair":
        return f"def repair(inst, sol, removed, k, penalty):\n    x = {value}\n"
    return f"def {role}(state):\n    return {value}\n"


def _team(store: Store, members: dict[str, list[int]], instances: dict[str, float],
          split: str, context: str, round_: int) -> None:
    rows = []
    for instance, objective in instances.items():
        for role, ids in members.items():
            for cid in ids:
                rows.append(Evaluation(cid, instance, split, "ok", objective, 0.1, None,
                                       {"round": round_, "role": role}, context))
    store.add_evaluations(rows)


def synthetic_run(run_dir: Path, *, llm: bool = True, finished: bool = True,
                  state: bool = True) -> Path:
    """A small CVRP run written through the store API: 3 rounds, failures, LLM calls.

    Round 0 scores the seeds (1, 2 destroy; 3, 4 repair) at 11; round 1 adds destroy 5
    (team 10, validated 20.5 and the winner), a statically invalid 6 and a crashing 7; round 2
    adds repair 8 and the joint 9 (team 10.5). Evaluations per round: 2, 6, 10.
    """
    store = Store.in_run_dir(run_dir)
    task = {"problem": "cvrp", "size": 12, "n_train": 2, "n_validation": 2, "iterations": 50,
            "seed": 0, "time_cap": 20.0, "instances_dir": None}
    model = "gpt-4o-mini" if llm else None
    store.create_run("cvrp", {"task": task, "model": model}, seed=0)

    def add(role: str, value: int, origin: Origin, parents=(), generation=0, roles=None) -> int:
        roles = roles or (role,)
        source = "\n".join(_code(r, value + i) for i, r in enumerate(roles))
        cand = Candidate(source, roles, "cvrp", parents, origin, generation=generation)
        return store.add_candidate(cand)[0]

    def call(cost: float, cached: bool = False, status: str = "ok") -> None:
        if llm:
            store.record_llm_call(model, 100, 50, cost, 0.5, cached, status)
        time.sleep(0.005)

    seeds = [add("destroy", 1, Origin("seed", "d1")), add("destroy", 2, Origin("seed", "d2")),
             add("repair", 3, Origin("seed", "r1")), add("repair", 4, Origin("seed", "r2"))]
    assert seeds == [1, 2, 3, 4]
    train = ("cvrp-uniform-n12-s1000", "cvrp-uniform-n12-s1001")
    team0 = {"destroy": [1, 2], "repair": [3, 4]}
    _team(store, team0, dict(zip(train, (10.0, 12.0), strict=True)), "train", "team:0", 0)
    time.sleep(0.005)
    llm_origin = Origin("llm", "mutate_logic", "mutate_logic.txt", model or "", 100, 50, 0.01)
    call(0.01)
    assert add("destroy", 5, llm_origin, (1, 2), 1) == 5
    call(0.02)
    assert add("destroy", 6, llm_origin, (1,), 1) == 6
    call(0.0, status="error")
    assert add("destroy", 7, llm_origin, (2,), 1) == 7
    store.add_evaluations([
        Evaluation(6, "smoke", "train", "invalid", error="static: name 'os' is not allowed",
                   metrics={"round": 1}, context="smoke:1"),
        Evaluation(7, "smoke", "train", "error", error="ZeroDivisionError: division by zero\n"
                   "  File candidate.py, line 2", metrics={"round": 1}, context="smoke:1"),
    ])
    team1 = {"destroy": [1, 2, 5], "repair": [3, 4]}
    _team(store, team1, dict(zip(train, (9.0, 11.0), strict=True)), "train", "team:1", 1)
    time.sleep(0.005)
    call(0.03)
    assert add("repair", 8, llm_origin, (3,), 2) == 8
    call(0.0, cached=True)
    assert add("destroy", 9, Origin("llm", "joint"), (5, 8), 2, ("destroy", "repair")) == 9
    team2 = {"destroy": [1, 5, 9], "repair": [3, 8, 9]}
    _team(store, team2, dict(zip(train, (9.5, 11.5), strict=True)), "train", "team:2", 2)
    val = ("cvrp-uniform-n12-s2000", "cvrp-uniform-n12-s2001")
    _team(store, team0, dict(zip(val, (20.0, 22.0), strict=True)), "validation",
          "team:validation", 3)
    _team(store, team1, dict(zip(val, (19.5, 21.5), strict=True)), "validation",
          "team:validation", 3)
    if finished:
        store.set_run_status("finished")
    store.close()
    snapshots = [
        {"round": 0, "members": team0, "fitness": 11.0, "validation": None},
        {"round": 1, "members": team1, "fitness": 10.0, "validation": 20.5},
        {"round": 2, "members": team2, "fitness": 10.5, "validation": 21.0},
    ]
    if state:
        (run_dir / "state.json").write_text(json.dumps({
            "round": 2, "population": {"destroy": [1, 5, 9], "repair": [3, 8, 9]},
            "credit": {"1": 0.8, "3": 1.0, "5": 1.4, "8": 1.1, "9": 0.7},
            "uses": {"1": 30.0, "3": 25.0, "5": 40.0, "8": 20.0, "9": 10.0},
            "synergy": [], "snapshots": snapshots, "seed_train": 11.0,
            "failures": {"static": 1, "smoke": 1, "proposer": 1},
            "spent": {"calls": 5, "tokens": 750, "cost": 0.06, "evaluations": 14,
                      "seconds": 3.0, "rounds": 2, "best": 10.0},
        }))
    if finished:
        (run_dir / "summary.json").write_text(json.dumps({
            "seed_train": 11.0, "seed_validation": 21.0, "failures": {"static": 1},
            "stop": "budget reached: rounds 2 of 2", "winner_round": 1, "winner_train": 10.0,
            "winner_validation": 20.5, "winner_members": team1,
        }))
    return run_dir


# ----------------------------------------------------------------------------- the real run


def real_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A short real offline ``ahd evolve`` run (about a minute), made once per session;
    returns its directory and the command's output (its progress lines)."""
    if "real" not in _RUNS:
        from ahd.cli import app

        run_dir = tmp_path_factory.mktemp("report") / "run"
        result = CliRunner().invoke(app, [*EVOLVE_ARGS, "--out", str(run_dir)])
        assert result.exit_code == 0, result.output
        _RUNS["real"] = (run_dir, result.output)
    return _RUNS["real"]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_report_of_a_real_run_matches_the_store(tmp_path_factory, tmp_path):
    run_dir, output = real_run(tmp_path_factory)
    pngs = tmp_path / "png"
    result = CliRunner().invoke(report_app(), ["report", str(run_dir), "--png", str(pngs)])
    assert result.exit_code == 0, result.output
    page = (run_dir / "report.html").read_text()
    for key in SECTION_IDS:
        assert f'<section id="{key}">' in page
    assert not EXTERNAL.search(page)
    text = page_text(page)
    assert "offline run: no LLM calls" in text

    report = collect_run(run_dir, routes=False)
    summary = json.loads((run_dir / "summary.json").read_text())
    state = json.loads((run_dir / "state.json").read_text())
    assert report.status.state == "finished"
    with Store.in_run_dir(run_dir, readonly=True) as store:
        run = store.open_run()
        board = store.leaderboard(split="train", top=20, run_id=run.id)
        assert [op.id for op in report.leaderboard] == [row.candidate_id for row in board]
        for op, row in zip(report.leaderboard, board, strict=True):
            assert op.mean_objective == row.mean_objective
            assert op.source == store.get_candidate(row.candidate_id).source
            assert f'id="code-{op.id}"' in page
            # the code is in the page (highlighted: compare the visible text)
            for line in op.source.strip().splitlines()[:5]:
                assert line in text
            assert f"{row.mean_objective:.6g}" in text
        assert report.llm_totals == store.llm_totals(run.id)
    # Convergence: the snapshots, and evaluation counts equal to the run's own progress lines.
    assert [p.fitness for p in report.rounds] == [s["fitness"] for s in state["snapshots"]]
    counted = {int(r): int(n) for r, n in re.findall(r"round (\d+): team .*? evals (\d+)",
                                                     output)}
    assert counted and all(p.evaluations == counted[p.round] for p in report.rounds
                           if p.round in counted)
    assert report.team is not None and report.team.members == summary["winner_members"]
    assert report.team.validation == summary["winner_validation"]
    assert f"{summary['winner_validation']:.6g}" in text
    assert (f"{summary['validation_gain_pct']:+.2f}% ± {summary['validation_gain_se_pct']:.2f}% "
            "standard error vs the seed team") in text
    for kind, n in summary["failures"].items():
        assert report.failures.kinds[kind] == n

    # Routes: the winner re-run on the first validation instance, verified and as stored.
    from ahd.problems.evaluate import InstanceSpec
    from ahd.problems.verify import verify

    with_routes = collect_run(run_dir, routes=True)
    routes = with_routes.routes
    assert routes is not None and routes.error is None, routes
    instance = InstanceSpec("cvrp", 15, 2000).build()
    assert routes.instance == instance.name
    assert routes.cost == pytest.approx(verify(instance, routes.routes))
    if routes.stored is not None:
        assert routes.cost == pytest.approx(routes.stored)
    assert '<svg class="plot routes"' in page and f"{routes.cost:.6g}" in text

    written = sorted(p.name for p in pngs.iterdir())
    assert {"convergence_evaluations.png", "lineage.png", "routes.png",
            "operator_usage.png", "membership.png"} <= set(written)
    assert "convergence_cost.png" not in written  # offline: said so instead
    for name in written:
        assert (pngs / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------- synthetic tests


def test_finished_run_with_llm_calls(tmp_path):
    run_dir = synthetic_run(tmp_path / "run")
    report = collect_run(run_dir, routes=False)
    assert report.status.state == "finished"
    assert [p.fitness for p in report.rounds] == [11.0, 10.0, 10.5]
    assert [p.best for p in report.rounds] == [11.0, 10.0, 10.0]
    assert [p.evaluations for p in report.rounds] == [2, 6, 10]
    assert [p.calls for p in report.rounds] == [0, 3, 5]
    assert [round(p.cost, 6) for p in report.rounds] == [0.0, 0.03, 0.06]
    assert report.llm_totals["calls"] == 5 and report.llm_totals["cached"] == 1
    assert report.team.label == "winner" and report.team.round == 1
    assert {n.id for n in report.lineage} == {1, 2, 5}
    assert report.failures.kinds == {"static": 1, "smoke": 1, "proposer": 1}
    assert report.failures.statuses["smoke"] == {"invalid": 1, "error": 1}
    assert report.failures.statuses["team"] == {"ok": 6}
    assert any("ZeroDivisionError" in ex.error for ex in report.failures.examples)
    joint = {(m.candidate_id, m.role): m.rounds for m in report.membership}
    assert joint[(9, "destroy")] == (2,) and joint[(9, "repair")] == (2,)
    assert report.coverage is None

    page = render_html(report)
    assert not EXTERNAL.search(page)
    text = page_text(page)
    for key in SECTION_IDS:
        assert f'<section id="{key}">' in page
    assert page.count('<img class="plot"') == 6  # both convergences, usage, membership, LLM,
    assert page.count('<svg class="plot') == 1  # failures; lineage as SVG (no routes here)
    assert "gpt-4o-mini" in text and "ZeroDivisionError: division by zero" in text
    assert "routes not computed" in text and "not a planning run" in text
    assert "(+2.38% vs the seed team on validation)" in text


def test_running_and_killed_runs(tmp_path):
    run_dir = synthetic_run(tmp_path / "run", finished=False)
    report = collect_run(run_dir, routes=False)
    assert report.status.state == "killed"  # says running, nobody has it open
    assert report.team.label.startswith("best training team so far")
    assert report.team.round == 1 and report.stop is None
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "c.execute('PRAGMA journal_mode=WAL'); c.execute('SELECT count(*) FROM runs')\n"
         "print('ready', flush=True); time.sleep(60)\n",
         str(run_dir / "ahd.sqlite")],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        report = collect_run(run_dir, routes=False)
        assert report.status.state == "running"
        assert str(holder.pid) in report.status.detail
        assert "running" in page_text(render_html(report))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (run_dir / "ahd.sqlite-shm").exists()  # left behind by the kill
    report = collect_run(run_dir, routes=False)
    assert report.status.state == "killed"
    assert "killed" in page_text(render_html(report))


def test_run_without_state_rebuilds_rounds_from_the_store(tmp_path):
    run_dir = synthetic_run(tmp_path / "run", llm=False, finished=False, state=False)
    report = collect_run(run_dir, routes=False)
    assert [p.fitness for p in report.rounds] == [11.0, 10.0, 10.5]
    assert report.rounds_source.startswith("the store")
    assert report.failures.kinds == {} and report.llm_calls == []
    text = page_text(render_html(report))
    assert "no state.json yet" in text and "offline run" in text


def test_planning_run_coverage(tmp_path):
    with Store.in_run_dir(tmp_path) as store:
        store.create_run("blocksworld", {"task": {"problem": "blocksworld"}})
        cid, _ = store.add_candidate(Candidate(_code("h", 1), ("h",), "blocksworld"))
        store.add_evaluations([
            Evaluation(cid, "p01", "train", "ok", 4.0, context="team:0",
                       metrics={"round": 0, "role": "h"}),
            Evaluation(cid, "p02", "train", "timeout", context="team:0",
                       metrics={"round": 0, "role": "h"}),
        ])
    report = collect_run(tmp_path, routes=True)
    assert report.routes is None
    assert [(c.instance, c.solved, c.total) for c in report.coverage] == [("p01", 1, 1),
                                                                           ("p02", 0, 1)]
    text = page_text(render_html(report))
    assert "this problem draws no solutions" in text and "p02" in text


def test_png_files(tmp_path):
    report = collect_run(synthetic_run(tmp_path / "run"), routes=False)
    written, skipped = write_pngs(report, tmp_path / "png", dpi=50)
    names = {p.name for p in written}
    assert {"convergence_evaluations.png", "convergence_cost.png", "llm_usage.png",
            "failures.png", "lineage.png", "operator_usage.png", "membership.png"} == names
    assert set(skipped) == {"routes"}
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in written)


def test_command_line_errors(tmp_path):
    runner = CliRunner()
    app = report_app()
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "ahd.sqlite").write_text("not a database, just text " * 100)
    cases = {
        tmp_path / "missing": "no such run directory",
        tmp_path / "file": "not a directory",
        tmp_path / "empty": "not an ahd run directory (no ahd.sqlite)",
        tmp_path / "bad": "not a usable ahd store",
    }
    for path, message in cases.items():
        result = runner.invoke(app, ["report", str(path)])
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and message in lines[0], result.output
    with pytest.raises(ReportError, match="no such run directory"):
        collect_run(tmp_path / "missing")
    run_dir = synthetic_run(tmp_path / "run")
    result = runner.invoke(app, ["report", str(run_dir), "--top", "0"])
    assert result.exit_code == 2 and "--top must be at least 1" in result.output
    out = tmp_path / "elsewhere" / "r.html"
    result = runner.invoke(app, ["report", str(run_dir), "--no-routes", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and not (run_dir / "report.html").exists()
    assert out.read_text().startswith("<!DOCTYPE html>")
