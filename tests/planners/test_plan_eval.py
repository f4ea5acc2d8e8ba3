"""``ahd plan-eval``: task discovery, planner specs, scores and report on known records, and
end-to-end evaluations on project-made suites (a timeout, an invalid plan, a memory failure,
kill and resume)."""

import csv
import json
import math
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import typer
from cli_apps import command_app
from typer.testing import CliRunner

from ahd.planners.competition import (
    Limits,
    PlannerSpecError,
    Report,
    ResultsError,
    ResultsStore,
    RunRecord,
    SuiteError,
    agile_score,
    discover,
    evaluate,
    parse_memory,
    parse_planner,
    quality_score,
    reference_costs,
    score_runs,
)
from ahd.planners.competition.ahd_planner import SEARCH_CONFIGS
from ahd.planners.competition.cli import register
from ahd.planners.competition.command_planner import CommandPlanner
from ahd.planners.competition.planners_registry import fast_downward_paths
from ahd.planners.domains import write_suite

CLI_CODE = (
    "import typer\n"
    "from ahd.planners.competition.cli import register\n"
    "app = typer.Typer()\n"
    "@app.callback()\n"
    "def main() -> None:\n"
    "    pass\n"
    "register(app)\n"
    "app()\n"
)


def cli_app() -> typer.Typer:
    return command_app(register)


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    """gripper and miconic, 1 training and 2 easy test tasks each (small ones)."""
    root = tmp_path_factory.mktemp("suite")
    write_suite(root, domains=["gripper", "miconic"], n_train=1, n_test=2)
    return root


def md_table(md: str, title: str) -> dict[str, list[str]]:
    """The rows of the markdown table under ``## title``, keyed by their first cell."""
    section = md.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("| ")]
    return {r[0]: r[1:] for r in rows[1:]}


def write_script(path: Path, body: str) -> Path:
    path.write_text(textwrap.dedent(body))
    return path


# ------------------------------------------------------------------------------- suite


def test_discover_filters_and_keys(suite):
    tasks = discover(suite)
    assert [t.key for t in tasks] == [
        "gripper/testing/easy/p01.pddl", "gripper/testing/easy/p02.pddl",
        "miconic/testing/easy/p01.pddl", "miconic/testing/easy/p02.pddl",
    ]
    assert {t.split for t in tasks} == {"testing/easy"}
    assert tasks[0].domain_file == (suite / "gripper" / "domain.pddl").resolve()
    assert len(discover(suite, splits=["training"])) == 2
    assert len(discover(suite, splits=None)) == 6
    assert [t.key for t in discover(suite, domains=["mic*"], tasks=["p02"])] == [
        "miconic/testing/easy/p02.pddl"]
    # one domain folder keeps the suite's keys
    assert [t.key for t in discover(suite / "gripper")][:1] == ["gripper/testing/easy/p01.pddl"]
    with pytest.raises(SuiteError, match="no task matches"):
        discover(suite, domains=["nosuch"])
    with pytest.raises(SuiteError, match="no such suite"):
        discover(suite / "missing")


def test_pair_list_and_reference_costs(suite, tmp_path):
    listing = tmp_path / "pairs.txt"
    d = suite / "gripper" / "domain.pddl"
    p = suite / "gripper" / "testing" / "easy" / "p01.pddl"
    listing.write_text(f"# comment\n{d} {p}\n\n")
    (task,) = discover(listing)
    assert (task.domain, task.split, task.name) == ("gripper", "pairs", "p01")
    listing.write_text(f"{d}\n")
    with pytest.raises(SuiteError, match=":1: expected"):
        discover(listing)
    (tmp_path / "upper_bounds.json").write_text(json.dumps({"a/testing/easy/p01.pddl": 7}))
    assert reference_costs(tmp_path) == {"a/testing/easy/p01.pddl": 7.0}
    assert reference_costs(suite) == {}


# ----------------------------------------------------------------------- specs, limits


def test_planner_specs(tmp_path):
    p = parse_planner("ahd:hff")
    assert (p.kind, p.label) == ("ahd", "ahd:hff")
    p = parse_planner("mine=cmd:prog --x {problem}")
    assert (p.kind, p.label, p.spec) == ("cmd", "mine", "cmd:prog --x {problem}")
    assert p.words[-1] == "{plan}"  # the paths are appended when the template lacks {plan}
    h = write_script(tmp_path / "blocks.py", "def h(state, task):\n    return 0\n")
    p = parse_planner("ahd:blocks.py", cwd=tmp_path)
    assert p.path_template == str(h)
    p = parse_planner("ahd:hff:lazy-pref")
    assert (p.config, p.search, p.label) == ("hff", "lazy-pref", "ahd:hff:lazy-pref")
    p = parse_planner("ahd:blocks.py:ehc", cwd=tmp_path)
    assert (p.path_template, p.search) == (str(h), "ehc")
    p = parse_planner("ahd:lama@3")
    assert (p.config, p.search, p.seed, p.label) == ("hff", "lama", 3, "ahd:lama@3")
    (tmp_path / "a@b").mkdir()
    h2 = write_script(tmp_path / "a@b" / "h.py", "def h(state, task):\n    return 0\n")
    assert parse_planner("ahd:a@b/h.py", cwd=tmp_path).path_template == str(h2)
    for bad, match in [("ahd:hff:ehc@1", "takes none"),
                       ("ahd:nosuch", "built-in heuristic"), ("ahd:missing.py", "no such"),
                       ("ahd:goalcount:lazy-pref", "preferred operators come from"),
                       ("xyz:1", "unknown planner kind"), ("hff", "KIND:CONFIG"),
                       ("pyperplan:hzz", "heuristics"), ("cmd:", "KIND:CONFIG")]:
        with pytest.raises(PlannerSpecError, match=match):
            parse_planner(bad, cwd=tmp_path)
    if not isinstance(fast_downward_paths(), str):
        assert parse_planner("fd:lama-first").unavailable() is None
        with pytest.raises(PlannerSpecError, match="unknown Fast Downward"):
            parse_planner("fd:no-such-alias")


def test_ahd_runner_takes_the_search_configuration(suite, tmp_path, capsys):
    from ahd.planners.competition import run_ahd

    task = discover(suite)[0]
    planner = parse_planner("ahd:hff:lazy-pref")
    argv = planner.invocation(task, tmp_path, Limits(time=30), time.time() + 30).argv
    assert argv[-2:] == ["--lazy", "--preferred"]
    assert run_ahd.main(argv[3:]) == 0
    seeded = parse_planner("ahd:hff:lazy-pref@7").invocation(task, tmp_path, Limits(time=30),
                                                             time.time() + 30).argv
    assert seeded[-4:] == ["--lazy", "--preferred", "--seed", "7"]
    result = json.loads(capsys.readouterr().out.split("AHD-RESULT ")[-1])
    assert result["status"] == "solved" and (tmp_path / "plan").is_file()


def test_an_exported_heuristic_runs_with_the_search_it_was_evolved_for(suite, tmp_path):
    from ahd.planners.evolve_export import declared_search, export_heuristic, search_name

    task = discover(suite)[0]
    source = "def h(state, task):\n    return len(task.goal - state)\n"
    out = tmp_path / "gen"
    lazy = export_heuristic(source, out, "x", ["Run: test"], search_name("gbfs", True, True,
                                                                         False))
    plain = write_script(out / f"{task.domain}.py", source)
    assert declared_search(lazy) == "lazy-pref" and declared_search(plain) is None
    (out / "other.py").write_bytes(lazy.read_bytes())
    for spec, search in [("ahd:gen/other.py", "lazy-pref"), ("ahd:gen/other.py:eager", "eager"),
                         ("ahd:gen/{domain}.py", "eager"), ("ahd:hff", "eager")]:
        planner = parse_planner(spec, cwd=tmp_path)
        assert planner.search_for(task) == search, spec
        argv = planner.invocation(task, tmp_path, Limits(time=30), time.time() + 30).argv
        assert argv[argv.index("--deadline") + 2:] == SEARCH_CONFIGS[search], spec
    # {domain} files are read per task: the same spec runs each with its own search
    plain.write_bytes(lazy.read_bytes())
    assert parse_planner("ahd:gen/{domain}.py", cwd=tmp_path).search_for(task) == "lazy-pref"
    assert [search_name("ehc", False, False, False), search_name("gbfs", True, True, True),
            search_name("gbfs", False, False, True)] == ["ehc", "lama", "lm"]


def test_parse_memory():
    assert parse_memory("8G") == 8192
    assert parse_memory("512M") == 512
    assert parse_memory("1.5GiB") == 1536
    assert parse_memory("2048") == 2048
    for bad in ("8X", "", "-1G", "0"):
        with pytest.raises(ValueError):
            parse_memory(bad)


# --------------------------------------------------------------------- scores, report


def test_agile_and_quality_scores():
    assert agile_score(0.5, 300) == 1.0
    assert agile_score(1.0, 300) == 1.0
    assert agile_score(300, 300) == 0.0
    assert agile_score(10, 100) == pytest.approx(0.5)
    assert quality_score(20, 10) == 0.5
    assert quality_score(10, 12) == 1.0  # better than the reference: capped
    assert quality_score(0, 0) == 1.0


def rec(planner, task, status, cost=None, t=1.0):
    domain = task.split("/")[0]
    return RunRecord(planner=planner, task=task, domain=domain, split="testing/easy",
                     status=status, cost=cost, time=t, fingerprint=planner,
                     started="s", finished="f")


def test_report_tables_on_known_outcomes(tmp_path):
    records = [
        rec("A", "d1/testing/easy/p1.pddl", "solved", 10, 0.5),
        rec("B", "d1/testing/easy/p1.pddl", "solved", 20, 10.0),
        rec("A", "d1/testing/easy/p2.pddl", "timeout", None, 105.0),
        rec("B", "d1/testing/easy/p2.pddl", "solved", 8, 100.0),
        rec("A", "d2/testing/easy/p1.pddl", "invalid", None, 0.2),
        rec("B", "d2/testing/easy/p1.pddl", "solved", 5, 1.0),
    ]
    reference = {"d1/testing/easy/p2.pddl": 4.0}
    report = Report(records, {"A": "A", "B": "B"}, 100.0, reference=reference)
    scores = {(s.planner, s.task): s for s in report.scores}
    assert scores[("B", "d1/testing/easy/p1.pddl")].quality == 0.5
    assert scores[("B", "d1/testing/easy/p1.pddl")].agile == pytest.approx(0.5)
    assert scores[("B", "d1/testing/easy/p2.pddl")].quality == 0.5  # reference 4, cost 8
    assert scores[("B", "d1/testing/easy/p2.pddl")].agile == 0.0  # at the limit
    assert not scores[("A", "d2/testing/easy/p1.pddl")].solved
    md = report.markdown()
    coverage = md_table(md, "Coverage (tasks solved)")
    assert coverage == {"d1": ["testing/easy", "2", "1", "2"],
                        "d2": ["testing/easy", "1", "0", "1"], "**total**": ["", "3", "1", "3"]}
    quality = md_table(md, "IPC quality score (sum)")
    assert quality["**total**"] == ["", "3", "1.00", "2.00"]
    assert "A` d2/testing/easy/p1.pddl: invalid" in md
    files = report.write(tmp_path)
    assert files["cactus"].stat().st_size > 1000
    with open(files["summary"]) as fh:
        total = {r["planner"]: r for r in csv.DictReader(fh) if r["domain"] == "total"}
    assert (total["A"]["solved"], total["B"]["solved"]) == ("1", "3")
    assert float(total["B"]["quality"]) == pytest.approx(0.5 + 0.5 + 1.0)
    # the IPC rule: A's invalid plan in d2 zeroes A's d2 (nothing else there), B unaffected
    strict = score_runs(records, 100.0, reference, invalid_zeroes_domain=True)
    assert sum(s.solved for s in strict) == 4


def test_store_refuses_other_settings_and_relabelled_planners(tmp_path):
    with ResultsStore.in_dir(tmp_path) as store:
        store.check_settings({"time_limit_s": 10.0})
        store.check_settings({"time_limit_s": 10.0})
        with pytest.raises(ResultsError, match="time_limit_s: stored 10.0, now 20.0"):
            store.check_settings({"time_limit_s": 20.0})
        store.register_planners({"x": "ahd:hff"})
        with pytest.raises(ResultsError, match="label 'x'"):
            store.register_planners({"x": "ahd:hadd"})


# ------------------------------------------------------------------------ end to end

WRONG_PLAN = """
import sys
open(sys.argv[3], "w").write("(fly-to-the-moon)\\n")
"""

SLEEPY_HEURISTIC = """
import time

def h(state, task):
    time.sleep(60)
    return 0
"""


@pytest.mark.slow
def test_evaluation_table_with_timeout_invalid_plan_and_memory_failure(suite, tmp_path):
    """Four planners with known outcomes on four tasks, run through the command line."""
    wrong = write_script(tmp_path / "wrong.py", WRONG_PLAN)
    heur = tmp_path / "heur"
    heur.mkdir()
    write_script(heur / "gripper.py", SLEEPY_HEURISTIC)  # no miconic.py: not run there
    out = tmp_path / "eval"
    args = [
        "plan-eval", str(suite), "--planner", "ahd:goalcount",
        "--planner", f"wrong=cmd:{sys.executable} {wrong} {{domain}} {{problem}} {{plan}}",
        "--planner", f"sleepy=ahd:{heur}/{{domain}}.py",
        "--planner", f"hog=cmd:{sys.executable} -c 'bytearray(8 * 2**30)'",
        "--time", "8s", "--grace", "1s", "--memory", "2G", "--jobs", "2", "--out", str(out),
    ]
    result = CliRunner().invoke(cli_app(), args)
    assert result.exit_code == 0, result.output
    with ResultsStore.in_dir(out, readonly=True) as store:
        rows = {(r.planner, r.task): r for r in store.records()}
        attempts = store.attempt_counts()
    tasks = [t.key for t in discover(suite)]
    gripper = [t for t in tasks if t.startswith("gripper")]
    assert len(rows) == 4 + 4 + 2 + 4
    for t in tasks:
        good = rows[("ahd:goalcount", t)]
        assert good.status == "solved", good
        assert good.cost is not None and good.expanded > 0 and good.peak_mb > 50
        assert rows[("wrong", t)].status == "invalid"
        assert "unknown action fly-to-the-moon" in rows[("wrong", t)].error
        assert rows[("hog", t)].status == "memory", rows[("hog", t)]
    for t in gripper:
        assert rows[("sleepy", t)].status == "timeout"
        assert 9.0 <= rows[("sleepy", t)].time < 20
    assert set(attempts.values()) == {1}

    md = (out / "report.md").read_text()
    assert md_table(md, "Coverage (tasks solved)") == {
        "gripper": ["testing/easy", "2", "2", "0", "0", "0"],
        "miconic": ["testing/easy", "2", "2", "0", "–", "0"],
        "**total**": ["", "4", "4", "0", "0/2", "0"],
    }
    outcomes = md_table(md, "Outcomes")
    assert outcomes["wrong"][1] == "4" and outcomes["sleepy"][3] == "2"  # invalid, timeout
    assert outcomes["hog"][4] == "4" and outcomes["sleepy"][-1] == "2"  # memory, not run
    with open(out / "runs.csv") as fh:
        runs = list(csv.DictReader(fh))
    for r in runs:
        if r["status"] == "solved":
            assert float(r["quality"]) == 1.0  # the only solver: its cost is the best known
            t = float(r["time"])
            expected = 1.0 if t <= 1 else 1 - math.log(t) / math.log(8)
            assert float(r["agile"]) == pytest.approx(expected, abs=1e-3)
        else:
            assert float(r["quality"]) == float(r["agile"]) == 0.0
    assert (out / "cactus.png").stat().st_size > 1000

    # a second call runs nothing; other limits on the same folder are refused
    again = CliRunner().invoke(cli_app(), args)
    assert again.exit_code == 0 and "0 runs this time" in again.output
    other = CliRunner().invoke(cli_app(), [*args[:-6], "--time", "9s", "--out", str(out)])
    assert other.exit_code == 2 and "other settings" in other.output
    only = CliRunner().invoke(cli_app(), ["plan-eval", str(suite), "--report-only",
                                          "--out", str(out)])
    assert only.exit_code == 0 and "## Coverage" in only.output


@pytest.mark.slow
@pytest.mark.skipif(isinstance(fast_downward_paths(), str), reason="no Fast Downward here")
def test_fast_downward_and_pyperplan_runs(suite, tmp_path):
    """lama-first and GBFS h_FF through the shipped FD driver, and pyperplan."""
    res = evaluate(suite, ["fd:lama-first", "fd:gbfs-ff", "pyperplan:hff"],
                   Limits(time=30, memory_mb=2048, grace=2), out_dir=tmp_path / "fd",
                   tasks=["p01"])
    assert len(res.report.records) == 6
    for r in res.report.records:
        assert r.status == "solved", r
        assert r.expanded is not None and r.expanded >= 1


class CountingPlanner(CommandPlanner):
    """A real command planner (it writes no plan) whose one-time preparation is counted and
    fails with a warning."""

    prepared = 0

    def prepare(self) -> str | None:
        type(self).prepared += 1
        return "no toolchain"


def test_a_planner_is_prepared_once_before_its_runs_and_not_on_a_resume(suite, tmp_path,
                                                                        capfd):
    planner = CountingPlanner("counting", f"cmd:{sys.executable} -c pass", f"{sys.executable} "
                              "-c pass")
    res = evaluate(suite, [planner], Limits(time=5), out_dir=tmp_path)
    assert CountingPlanner.prepared == 1 and len(res.report.records) == 4
    assert "warning: counting: no toolchain" in capfd.readouterr().err
    evaluate(suite, [planner], Limits(time=5), out_dir=tmp_path)  # nothing left to run
    assert CountingPlanner.prepared == 1
    # ahd's own: the search's machine code loads (or compiles) in a process of its own.
    assert parse_planner("ahd:lama").prepare() is None


def test_missing_fast_downward_is_reported_unavailable_and_retried(suite, tmp_path,
                                                                   monkeypatch):
    from ahd.planners.competition import fast_downward

    monkeypatch.setattr(fast_downward, "fast_downward_paths", lambda: "not built here")
    res = evaluate(suite, ["fd:lama-first"], Limits(time=5), out_dir=tmp_path, tasks=["p01"])
    assert {r.status for r in res.report.records} == {"unavailable"}
    assert "`fd:lama-first` is unavailable here: not built here" in res.report.markdown()
    again = evaluate(suite, ["fd:lama-first"], Limits(time=5), out_dir=tmp_path,
                     tasks=["p01"])
    assert again.ran == 2  # an unavailable planner is tried again on resume


def test_pyperplan_refuses_negative_preconditions_clearly(tmp_path):
    write_suite(tmp_path / "s", domains=["ferry"], n_train=1, n_test=1)
    res = evaluate(tmp_path / "s", ["pyperplan:hff"], Limits(time=30), out_dir=tmp_path / "o")
    (r,) = res.report.records
    assert r.status == "error" and "negative preconditions" in r.error


NAP_PLANNER = """
import sys, time
time.sleep(1.0)
open(sys.argv[3], "w").write("(nap)\\n")
"""


def _rows(db: Path) -> dict[tuple[str, str], str]:
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        rows = conn.execute("SELECT planner, task, finished FROM results").fetchall()
        conn.close()
    except sqlite3.OperationalError:
        return {}
    return {(p, t): f for p, t, f in rows}


@pytest.mark.slow
def test_sigkill_then_resume_reruns_nothing_finished(suite, tmp_path):
    nap = write_script(tmp_path / "nap.py", NAP_PLANNER)
    out = tmp_path / "eval"
    argv = [sys.executable, "-c", CLI_CODE, "plan-eval", str(suite),
            "--planner", "ahd:goalcount",
            "--planner", f"nap=cmd:{sys.executable} {nap}",
            "--time", "60s", "--grace", "1s", "--jobs", "1", "--out", str(out)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = out / "results.sqlite"
    deadline = time.monotonic() + 90
    while len(_rows(db)) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _rows(db)
    assert 3 <= len(before) < 8, "the evaluation should have been killed mid-way"

    resumed = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    after = _rows(db)
    assert len(after) == 8
    assert {k: after[k] for k in before} == before  # finished rows untouched
    with ResultsStore.in_dir(out, readonly=True) as store:
        attempts = store.attempt_counts()
    assert all(attempts[k] == 1 for k in before)  # nothing finished was started again
    assert sum(attempts.values()) <= 8 + 1  # at most the run in flight was repeated
    assert f"{8 - len(before)} runs this time" in resumed.stdout
