"""``ahd report``: the data collected from a run directory, the HTML page, the PNG plots and the
command's errors, on synthetic run directories (fast) and on a real short ``ahd evolve`` run.

The runs (``synthetic_run``, the session's ``real_run``) and ``page_text`` are fixtures in this
folder's ``conftest.py``, shared with ``test_report_browser.py``.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ahd.candidate import Candidate
from ahd.report import ReportError, collect_run, render_html, write_pngs
from ahd.store import Evaluation, Store

SECTION_IDS = ("summary", "convergence", "leaderboard", "lineage", "usage", "llm", "failures",
               "routes", "planning", "config")
#: A link or source that would need the network to view the page.
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_report_of_a_real_run_matches_the_store(real_run, report_app, page_text, tmp_path):
    run_dir, output = real_run
    pngs = tmp_path / "png"
    result = CliRunner().invoke(report_app, ["report", str(run_dir), "--png", str(pngs)])
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


def test_finished_run_with_llm_calls(synthetic_run, page_text, tmp_path):
    run_dir = synthetic_run(tmp_path / "run")
    report = collect_run(run_dir, routes=False)
    assert report.status.state == "finished"
    assert [p.fitness for p in report.rounds] == [11.0, 10.0, 10.5]
    assert [p.best for p in report.rounds] == [11.0, 10.0, 10.0]
    assert [p.evaluations for p in report.rounds] == [2, 6, 10]
    assert [p.calls for p in report.rounds] == [0, 3, 5]
    assert [round(p.cost, 6) for p in report.rounds] == [0.0, 0.03, 0.06]
    assert report.llm_totals["calls"] == 5 and report.llm_totals["cached"] == 1
    assert report.llm_totals["prompt_tokens"] == 400  # the cached answer's 100 not again
    assert [p.tokens for p in report.rounds] == [0, 450, 600]
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


def test_running_and_killed_runs(synthetic_run, page_text, tmp_path):
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


def test_run_without_state_rebuilds_rounds_from_the_store(synthetic_run, page_text, tmp_path):
    run_dir = synthetic_run(tmp_path / "run", llm=False, finished=False, state=False)
    report = collect_run(run_dir, routes=False)
    assert [p.fitness for p in report.rounds] == [11.0, 10.0, 10.5]
    assert report.rounds_source.startswith("the store")
    assert report.failures.kinds == {} and report.llm_calls == []
    text = page_text(render_html(report))
    assert "no state.json yet" in text and "offline run" in text


def test_planning_run_coverage(page_text, tmp_path):
    with Store.in_run_dir(tmp_path) as store:
        store.create_run("blocksworld", {"task": {"problem": "blocksworld"}})
        heuristic = Candidate("def h(state):\n    return 1\n", ("h",), "blocksworld")
        cid, _ = store.add_candidate(heuristic)
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


def test_png_files(synthetic_run, tmp_path):
    report = collect_run(synthetic_run(tmp_path / "run"), routes=False)
    written, skipped = write_pngs(report, tmp_path / "png", dpi=50)
    names = {p.name for p in written}
    assert {"convergence_evaluations.png", "convergence_cost.png", "llm_usage.png",
            "failures.png", "lineage.png", "operator_usage.png", "membership.png"} == names
    assert set(skipped) == {"routes"}
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in written)


def test_command_line_errors(synthetic_run, report_app, tmp_path):
    runner = CliRunner()
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
        result = runner.invoke(report_app, ["report", str(path)])
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and message in lines[0], result.output
    with pytest.raises(ReportError, match="no such run directory"):
        collect_run(tmp_path / "missing")
    run_dir = synthetic_run(tmp_path / "run")
    result = runner.invoke(report_app, ["report", str(run_dir), "--top", "0"])
    assert result.exit_code == 2 and "--top must be at least 1" in result.output
    out = tmp_path / "elsewhere" / "r.html"
    result = runner.invoke(report_app, ["report", str(run_dir), "--no-routes", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and not (run_dir / "report.html").exists()
    assert out.read_text().startswith("<!DOCTYPE html>")
