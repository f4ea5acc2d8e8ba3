"""``ahd evolve --scheduler``: a real run on a dask LocalCluster (worker processes over TCP on
127.0.0.1) reaches the same store as the local backend, and a run whose scheduler is lost
resumes on the local backend."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from shared_run import ARGS, fingerprint
from typer.testing import CliRunner

from ahd.cli import app


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_an_uninterrupted_cluster_run_equals_a_resumed_local_run(cvrp_run, tmp_path):
    """Two rounds without a stop on a 2-worker cluster store exactly what the session's
    ``cvrp_run`` (tests/conftest.py) stores: the same settings, round 1 on a local pool of 2
    workers, stopped by its budget, and round 2 resumed there. So neither where a candidate
    ran nor a resume changes a run (the fault tests in test_run_faults.py compare with that
    resumed run; resuming a cluster run locally is the lost-scheduler test's)."""
    cluster = tmp_path / "cluster"
    # Round 1's and 2's candidates already compiled (the same code gives the same machine
    # code, so a warm cache changes what a run stores no more than on a user's machine).
    shutil.copytree(cvrp_run.resumed / "numba", cluster / "numba", symlinks=True)
    result = CliRunner().invoke(app, [*ARGS, "--rounds", "2", "--scheduler", "local:2",
                                      "--out", str(cluster)])
    assert result.exit_code == 0, result.output
    assert "dask cluster: 2 sandbox worker(s)" in result.output and "round 2:" in result.output
    run = fingerprint(cluster)
    assert len(run["candidates"]) > 7 and run["evaluations"]  # seeds and 2 rounds' offspring
    assert run == fingerprint(cvrp_run.resumed)


@pytest.mark.slow
def test_unreachable_scheduler_stops_before_any_work(tmp_path):
    start = time.monotonic()
    result = CliRunner().invoke(app, [*ARGS, "--rounds", "1", "--scheduler",
                                      "tcp://127.0.0.1:1", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert lines == [lines[0]] and "cannot reach the dask scheduler" in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "r" / "ahd.sqlite").exists()
    assert time.monotonic() - start < 15  # a refused connection is not retried for 20 s


@pytest.mark.parametrize("value", ["local:0", "local:two"])
def test_bad_scheduler_value_is_refused(tmp_path, value):
    result = CliRunner().invoke(app, [*ARGS, "--scheduler", value, "--out", str(tmp_path)])
    assert result.exit_code == 2 and "expected local:N" in result.output


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_lost_scheduler_stops_the_run_which_resumes_locally(tmp_path):
    """The README's by-hand cluster (``dask scheduler``, ``dask worker``); the scheduler is
    killed mid-run: one line, the run saved, and ``--resume`` finishes it on the local pool."""
    info = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler = _start([*dask, "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        "--scheduler-file", str(info)])
    worker = _start([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                     str(info), "--nworkers", "1", "--nthreads", "1", "--no-dashboard"])
    run_dir = tmp_path / "run"
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        cmd = [sys.executable, "-c", "from ahd.cli import app; app()", *ARGS, "--rounds", "50",
               "--scheduler", address, "--out", str(run_dir)]
        evolve = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True)
        state = run_dir / "state.json"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not state.exists():  # round 0 saved
            time.sleep(0.5)
        os.killpg(scheduler.pid, signal.SIGKILL)
        output, _ = evolve.communicate(timeout=120)
    finally:
        for proc in (scheduler, worker):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert evolve.returncode == 2, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"ahd evolve --resume {run_dir}" in errors[0], output
    assert "Traceback" not in output, output
    done = json.loads(state.read_text())["round"]
    result = CliRunner().invoke(app, [*ARGS, "--rounds", str(done + 1), "--jobs", "1",
                                      "--resume", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert f"round {done + 1}:" in result.output
