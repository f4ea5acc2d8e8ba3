"""``ahd plan-eval --scheduler``: runs on real dask clusters (worker processes over TCP on
127.0.0.1), plans validated and stored by the evaluating process.

Checked: requests carry text, not paths; ``local:2`` gives the local run's table and resumes
without running anything; an unreachable scheduler is one line; a worker SIGKILLed mid-run
still leaves every pair recorded once; a run that keeps killing its workers is an ``error``
row, an exception on a worker stops the evaluation; a lost scheduler stops the command in one
line and a rerun resumes.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import dask
import psutil
import pytest
from cli_apps import command_app
from typer.testing import CliRunner

from ahd.planners.competition import Limits, ResultsStore, discover, evaluate, parse_planner
from ahd.planners.competition.cli import register
from ahd.planners.competition.remote import request_for, run_remote
from ahd.planners.competition.validator import ValidatorProcess
from ahd.planners.domains import write_suite
from ahd.sandbox import ClusterError
from ahd.sandbox.cluster import connect

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

#: A planner that claims a plan (exit 0, a plan file) that is no plan: only the parent's
#: validator can tell. Inline, so it needs no file on the workers.
WRONG = ("wrong=cmd:" + sys.executable
         + " -c \"import sys; open(sys.argv[3], 'w').write('(fly-to-the-moon)')\"")

#: An evolved-heuristic stand-in: slow to start (``init``), then blind search, which the tiny
#: tasks allow. It travels to the workers as text.
SLOW_HEURISTIC = """
import time

def init(task):
    time.sleep({sleep})

def h(state, task):
    return 0
"""

#: A planner whose run kills the dask worker that started it (its parent process).
SUICIDE = ("suicide=cmd:" + sys.executable
           + " -c \"import os, signal; os.kill(os.getppid(), signal.SIGKILL)\"")


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    """gripper and miconic, one easy test task each."""
    root = tmp_path_factory.mktemp("suite")
    write_suite(root, domains=["gripper", "miconic"], n_train=1, n_test=1)
    return root


def heuristics(folder: Path, sleep: float) -> str:
    """A per-domain heuristic spec (``{domain}.py`` files) for both suite domains."""
    folder.mkdir(parents=True, exist_ok=True)
    for domain in ("gripper", "miconic"):
        (folder / f"{domain}.py").write_text(SLOW_HEURISTIC.format(sleep=sleep))
    return f"slow=ahd:{folder}/{{domain}}.py"


def workers_tmp(monkeypatch, tmp_path: Path) -> None:
    """Worker processes started from now on keep their run folders under ``tmp_path``: a
    worker killed mid-run cannot remove its own, and the system's temp folder stays clean."""
    folder = tmp_path / "workers-tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))


def rows(out: Path) -> dict[tuple[str, str], tuple]:
    with ResultsStore.in_dir(out, readonly=True) as store:
        return {(r.planner, r.task): (r.status, r.cost, r.expanded) for r in store.records()}


def attempts(out: Path) -> dict[tuple[str, str], int]:
    with ResultsStore.in_dir(out, readonly=True) as store:
        return store.attempt_counts()


def finished(db: Path) -> dict[tuple[str, str], str]:
    """``finished`` of every stored row, read while another process writes the store."""
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        found = conn.execute("SELECT planner, task, finished FROM results").fetchall()
        conn.close()
    except sqlite3.OperationalError:
        return {}
    return {(p, t): f for p, t, f in found}


def test_request_is_plain_data_and_runs_without_the_parents_files(suite, tmp_path):
    """A request names no file of this machine; a worker runs it after they are gone."""
    copy = tmp_path / "copy"
    shutil.copytree(suite, copy)
    spec = heuristics(tmp_path / "heur", sleep=0)
    planner = parse_planner(spec)
    task = discover(copy, domains=["gripper"])[0]
    limits = Limits(time=30, memory_mb=2048, grace=2)
    request = request_for(planner, task, limits)
    blob = pickle.dumps(request)
    assert str(tmp_path).encode() not in blob
    assert request.files == {"gripper.py": (tmp_path / "heur" / "gripper.py").read_bytes()}
    domain_text, problem_text = task.domain_file.read_bytes(), task.problem_file.read_bytes()
    shutil.rmtree(copy)
    shutil.rmtree(tmp_path / "heur")

    reply = run_remote(pickle.loads(blob))
    assert reply.run.status == "plan" and reply.run.plan_file is None
    assert reply.run.expanded > 0 and reply.run.peak_mb > 0 and reply.run.returncode == 0
    assert "AHD-RESULT" in reply.log
    # the parent checks the plan against its own copy of the task
    check = tmp_path / "check"
    check.mkdir()
    for name, text in [("d.pddl", domain_text), ("p.pddl", problem_text),
                       ("plan", reply.plan)]:
        (check / name).write_bytes(text)
    validator = ValidatorProcess()
    try:
        verdict = validator.validate(str(check / "d.pddl"), str(check / "p.pddl"),
                                     str(check / "plan"), timeout=120)
    finally:
        validator.close()
    assert verdict.valid, verdict.reason


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_local_cluster_gives_the_local_table_and_resumes(suite, tmp_path):
    spec = heuristics(tmp_path / "heur", sleep=0)
    common = ["plan-eval", str(suite), "--planner", "ahd:goalcount", "--planner", spec,
              "--planner", WRONG, "--time", "30s", "--grace", "2s", "--memory", "2G"]
    app = command_app(register)
    local, cluster = tmp_path / "local", tmp_path / "cluster"

    start = time.monotonic()
    res = CliRunner().invoke(app, [*common, "--jobs", "2", "--out", str(local)])
    local_s = time.monotonic() - start
    assert res.exit_code == 0, res.output
    start = time.monotonic()
    res = CliRunner().invoke(app, [*common, "--scheduler", "local:2", "--out", str(cluster)])
    cluster_s = time.monotonic() - start
    assert res.exit_code == 0, res.output
    assert "6 runs this time" in res.output
    print(f"local --jobs 2: {local_s:.1f} s, --scheduler local:2: {cluster_s:.1f} s")

    expected = rows(local)
    assert len(expected) == 6
    assert rows(cluster) == expected
    for (planner, _), (status, cost, _) in expected.items():
        assert status == ("invalid" if planner == "wrong" else "solved")
        assert (cost is None) == (planner == "wrong")
    for folder in cluster.glob("runs/slow-*/*/testing/easy/p01"):
        assert (folder / "plan").is_file() and "AHD-RESULT" in (folder / "log.txt").read_text()
    assert "scheduler local:2" in (cluster / "report.md").read_text()

    start = time.monotonic()
    again = CliRunner().invoke(app, [*common, "--scheduler", "local:2", "--out", str(cluster)])
    assert again.exit_code == 0 and "0 runs this time" in again.output
    assert time.monotonic() - start < 10  # nothing pending: no cluster is started
    assert set(attempts(cluster).values()) == {1}


@pytest.mark.slow
def test_unreachable_scheduler_is_one_line(suite, tmp_path):
    argv = [sys.executable, "-c", CLI_CODE, "plan-eval", str(suite), "--planner",
            "ahd:goalcount", "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr + proc.stdout
    assert len(lines) == 1 and lines[0].startswith(
        "error: cannot reach the dask scheduler at tcp://127.0.0.1:1"), proc.stderr


def _evaluate_in_thread(**kwargs) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def work() -> None:
        try:
            box["result"] = evaluate(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            box["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, box


def _planner_in_flight(worker_pids: list[int], for_s: float) -> tuple[int, int] | None:
    """``(worker pid, planner pid)`` of a run that has been going for ``for_s`` seconds."""
    for pid in worker_pids:
        try:
            children = psutil.Process(pid).children()
        except psutil.NoSuchProcess:
            continue
        for child in children:
            try:
                if time.time() - child.create_time() >= for_s:
                    return pid, child.pid
            except psutil.NoSuchProcess:
                continue
    return None


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_worker_killed_mid_run_still_records_every_pair_once(suite, tmp_path, monkeypatch):
    spec = heuristics(tmp_path / "heur", sleep=3)
    out = tmp_path / "eval"
    workers_tmp(monkeypatch, tmp_path)
    client, cluster = connect("local:2")
    try:
        workers = list(client.run(os.getpid).values())
        thread, box = _evaluate_in_thread(
            suite=suite, planners=["ahd:goalcount", spec], limits=Limits(time=60, grace=2),
            out_dir=out, scheduler=cluster.scheduler_address)
        deadline = time.monotonic() + 60
        victim = None
        while victim is None and time.monotonic() < deadline and thread.is_alive():
            victim = _planner_in_flight(workers, for_s=1.0)
            time.sleep(0.1)
        assert victim is not None, "no run was seen in flight"
        os.kill(victim[0], signal.SIGKILL)
        thread.join(180)
        assert not thread.is_alive() and "error" not in box, box.get("error")
        assert not psutil.pid_exists(victim[1])  # the planner died with its worker
    finally:
        client.close()
        cluster.close()
    assert box["result"].ran == 4
    got = rows(out)
    assert len(got) == 4 and {status for status, _, _ in got.values()} == {"solved"}
    assert set(attempts(out).values()) == {1}  # dask ran it again; it was submitted once


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_run_that_keeps_killing_workers_is_an_error_row_and_a_worker_bug_stops(
        suite, tmp_path, monkeypatch):
    out = tmp_path / "eval"
    workers_tmp(monkeypatch, tmp_path)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                          "distributed.scheduler.worker-saturation": 1.0}):
        client, cluster = connect("local:1")
    try:
        res = evaluate(suite, ["ahd:goalcount", SUICIDE], Limits(time=30, grace=2),
                       out_dir=out, domains=["miconic"], scheduler=cluster.scheduler_address)
        # an exception on the worker (here: a template naming no known field) is no planner
        # outcome: the evaluation stops in one line and stores nothing for the pair
        with pytest.raises(ClusterError, match="a dask worker failed to run bad on miconic/"
                                               "testing/easy/p01.pddl: KeyError: 'nosuch'"):
            evaluate(suite, ["bad=cmd:echo {nosuch}"], Limits(time=30, grace=2),
                     out_dir=tmp_path / "bad", domains=["miconic"],
                     scheduler=cluster.scheduler_address)
    finally:
        client.close()
        cluster.close()
    assert res.ran == 2
    got = {r.planner: r for r in res.report.records}
    assert got["ahd:goalcount"].status == "solved"
    assert got["suicide"].status == "error" and "died" in got["suicide"].error
    assert rows(tmp_path / "bad") == {}


def _start(argv: list[str], log: Path) -> subprocess.Popen:
    """A dask command in its own process group, its log to a file (a pipe nobody reads would
    block it once full)."""
    with open(log, "wb") as fh:
        return subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _address(proc: subprocess.Popen, log: Path) -> str:
    """The scheduler's address, from its log."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        for line in log.read_text().splitlines():
            if "Scheduler at:" in line:
                return line.split("Scheduler at:")[1].strip()
        time.sleep(0.1)
    raise AssertionError(f"the scheduler did not start: {log.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_lost_scheduler_stops_in_one_line_and_a_rerun_resumes(suite, tmp_path, monkeypatch):
    """`dask scheduler` and `dask worker` started by hand, as the README says."""
    workers_tmp(monkeypatch, tmp_path)
    scheduler = _start([sys.executable, "-m", "distributed.cli.dask_scheduler",
                        "--host", "127.0.0.1", "--port", "0", "--no-dashboard"],
                       tmp_path / "scheduler.log")
    worker = None
    try:
        address = _address(scheduler, tmp_path / "scheduler.log")
        assert address.startswith("tcp://127.0.0.1:")
        worker = _start([sys.executable, "-m", "distributed.cli.dask_worker", address,
                         "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                         "--host", "127.0.0.1"], tmp_path / "worker.log")
        out = tmp_path / "eval"
        args = ["plan-eval", str(suite), "--planner", "ahd:goalcount",
                "--planner", heuristics(tmp_path / "heur", sleep=30), "--time", "60s",
                "--out", str(out)]
        run = subprocess.Popen([sys.executable, "-c", CLI_CODE, *args, "--scheduler", address],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        db = out / "results.sqlite"
        deadline = time.monotonic() + 90
        while len(finished(db)) < 1 and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.2)
        time.sleep(1.0)
        before = finished(db)
        assert 1 <= len(before) < 4, "the scheduler should be lost mid-way"
        start = time.monotonic()
        scheduler.kill()
        _, err = run.communicate(timeout=60)
        assert time.monotonic() - start < 15
    finally:
        _stop(scheduler)
        if worker is not None:
            _stop(worker)
    assert run.returncode == 1
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[-1].startswith(f"error: lost the dask scheduler at {address}"), err
    assert "rerun the same command to resume" in lines[-1]
    assert [ln for ln in lines if not ln.startswith("[")] == lines[-1:]  # progress, then it

    heuristics(tmp_path / "heur", sleep=0)  # the unfinished runs go faster this time
    resumed = subprocess.run(
        [sys.executable, "-c", CLI_CODE, *args, "--scheduler", "local:1"],
        capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    after = finished(db)
    assert len(after) == 4 and {k: after[k] for k in before} == before
    assert f"{4 - len(before)} runs this time" in resumed.stdout
