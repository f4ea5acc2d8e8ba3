"""Run directory faults: a damaged resume point is refused before any worker starts, and a run
stopped by a read-only directory, a full disk or Ctrl-C says why, records it where the store
can still be written, and resumes after the fix to exactly what a run resumed without a fault
stores (and so, by the cluster test, what an uninterrupted run stores). The resumes here use
one sandbox worker where the reference used two: where candidates ran changes nothing either.

The faults are real: the read-only directory is a read-only bind mount (root ignores
permissions; see ``readonly_dir``), the full disk a small tmpfs mounted in a private mount
namespace (``unshare -m``). Where neither can be made, those tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from dataclasses import asdict
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from operator_sources import RANDOM_DESTROY, constant_destroy
from readonly_dir import AHD, read_only_command, snapshot, truly_read_only
from shared_run import SharedRun, fingerprint
from typer.testing import CliRunner

from ahd.candidate import Candidate
from ahd.cli import app
from ahd.evolve.budget import Spent
from ahd.evolve.run import STOP_RESERVE, STOP_RESERVE_BYTES
from ahd.store import MIGRATIONS, SCHEMA_VERSION, Evaluation, Store
from ahd.store.connection import connect_read_only
from ahd.store.schema import statements

# ------------------------------------------------------------------ a damaged resume point


def _hand_made_run(run_dir: Path) -> dict:
    """A store with a run and two candidates, and a valid state naming them (no evolution:
    the refusals below must happen before anything would run)."""
    with Store.in_run_dir(run_dir) as store:
        store.create_run("cvrp", {"task": {"size": 10, "n_train": 2, "n_validation": 2},
                                  "evolve": {}, "proposer": "offline"}, seed=0)
        ids = [store.add_candidate(Candidate(src, ("destroy",), "cvrp"))[0]
               for src in (RANDOM_DESTROY, constant_destroy(1))]
        for i in range(40):  # enough pages that a truncated file misses some
            store.add_candidate(Candidate(constant_destroy(100 + i) + "#" * 3000,
                                          ("destroy",), "cvrp"))
    state = {"round": 1, "population": {"destroy": ids, "repair": []}, "credit": {},
             "uses": {}, "synergy": [], "seed_train": 1.0, "failures": {},
             "snapshots": [{"round": 0, "members": {"destroy": ids}, "fitness": 1.0},
                           {"round": 1, "members": {"destroy": ids[:1]}, "fitness": 0.9}],
             "spent": asdict(Spent()), "rng": np.random.default_rng(0).bit_generator.state,
             "inflight": None}
    (run_dir / "state.json").write_text(json.dumps(state))
    return state


def _damage(run_dir: Path, state: dict, kind: str) -> str:
    """Damage the run directory; the words the refusal must contain."""
    path, store = run_dir / "state.json", run_dir / "ahd.sqlite"
    if kind == "empty state":
        path.write_text("")
        return "empty"
    if kind == "truncated state":
        text = json.dumps(state)
        path.write_text(text[: len(text) // 2])
        return "not valid JSON"
    if kind == "missing key":
        path.write_text(json.dumps({k: v for k, v in state.items() if k != "rng"}))
        return "lacks rng"
    if kind == "unknown population id":
        path.write_text(json.dumps({**state, "population": {"destroy": [1, 999]}}))
        return "999"
    if kind == "round beyond the snapshots":
        path.write_text(json.dumps({**state, "round": 0}))
        return "inconsistent"
    if kind == "state older than the store":
        with Store.in_run_dir(run_dir) as s:
            s.open_run()
            s.add_candidate(Candidate(constant_destroy(7), ("destroy",), "cvrp", generation=3))
        return "not the run's last state"
    if kind == "truncated store":
        data = store.read_bytes()
        store.write_bytes(data[: len(data) // 2])
        return "ahd.sqlite: cannot resume"
    if kind == "not a sqlite file":
        store.write_text("this is not a database\n" * 100)
        return "store cannot be read"
    raise AssertionError(kind)


DAMAGES = ["empty state", "truncated state", "missing key", "unknown population id",
           "round beyond the snapshots", "state older than the store", "truncated store",
           "not a sqlite file"]


@pytest.mark.parametrize("kind", DAMAGES)
def test_a_damaged_run_directory_is_refused_before_any_worker_starts(tmp_path, kind):
    run_dir = tmp_path / "run"
    state = _hand_made_run(run_dir)
    # The undamaged directory passes the same checks (so the refusal below is the damage's).
    from ahd.evolve.resume import check_resume

    assert check_resume(run_dir).problem == "cvrp"
    words = _damage(run_dir, state, kind)
    before = snapshot(run_dir)
    result = CliRunner().invoke(app, ["evolve", "--resume", str(run_dir), "--rounds", "2"])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and words in errors[0], result.output
    assert "Traceback" not in result.output and "sandbox worker" not in result.output
    assert snapshot(run_dir) == before  # nothing written, not even -wal/-shm files


def test_resume_discards_what_the_unsaved_round_stored_and_reuses_its_ids(tmp_path):
    """The round after the saved one is redone from a clean slate: its new candidates and
    every evaluation of its contexts go, and the redone round's candidates get the same ids."""
    with Store.in_run_dir(tmp_path) as store:
        store.create_run("cvrp")
        old = store.add_candidate(Candidate(constant_destroy(1), ("destroy",), "cvrp"))[0]
        new = store.add_candidate(Candidate(constant_destroy(2), ("destroy",), "cvrp",
                                            generation=2))[0]
        store.add_evaluations([Evaluation(cid, "i1", "train", "ok", 1.0, 0.1, None, {}, ctx)
                               for cid in (old, new) for ctx in ("team:1", "team:2", "smoke:2")])
        assert store.discard_unsaved(1, ["team:2", "smoke:2"]) == (1, 5)  # 2 + 3
        assert [e.context for e in store.evaluations_for(old)] == ["team:1"]
        again = store.add_candidate(Candidate(constant_destroy(3), ("destroy",), "cvrp",
                                              generation=2))
        assert again == (new, True)


def test_resume_migrates_a_store_from_before_stop_reasons(tmp_path):
    """A schema-1 store (no ``stop_reason``) that passes the checks is migrated by the resume
    check, and its run reads as before."""
    raw = sqlite3.connect(tmp_path / "ahd.sqlite")
    for statement in statements(MIGRATIONS[0]):
        raw.execute(statement)
    raw.execute("INSERT INTO runs (created, problem, status) VALUES ('t', 'cvrp', 'running')")
    raw.execute("PRAGMA user_version = 1")
    raw.commit()
    raw.close()
    from ahd.evolve.resume import check_resume

    assert check_resume(tmp_path).problem == "cvrp"
    with Store.in_run_dir(tmp_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.open_run()
        assert store.stop_reason() is None
        store.set_run_status("interrupted", reason="disk full")
        assert (store.run.status, store.stop_reason()) == ("interrupted", "disk full")


# ------------------------------------------------------------------ faults during a run


def _run_row(run_dir: Path) -> tuple[str, str | None]:
    conn = connect_read_only(run_dir / "ahd.sqlite")
    try:
        return conn.execute("SELECT status, stop_reason FROM runs").fetchone()
    finally:
        conn.close()


def _ahd(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AHD, *args], text=True, capture_output=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200"})


def _one_error(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    assert "Traceback" not in output, output
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def runs(cvrp_run) -> SharedRun:
    """The session's run (``cvrp_run`` in tests/conftest.py): ``round1`` stopped by its
    budget after round 1, and ``resumed``, a copy resumed to round 2 without a fault. A run
    resumed after a fault must store exactly what ``resumed`` stores; that this also equals
    an uninterrupted 2-round run is the cluster test's check (tests/commands/
    test_evolve_cluster.py), which runs one."""
    return cvrp_run


def _copy(runs: SharedRun, dst: Path) -> Path:
    """A copy of the run stopped after round 1, to fault and resume. Its numba cache also
    holds round 2's candidates, compiled by the resumed run (the same code, so the same
    machine code): a resume here loads them instead of compiling them again, which changes
    what it stores no more than a warm cache does on a user's machine."""
    shutil.copytree(runs.round1, dst, symlinks=True)
    shutil.copytree(runs.resumed / "numba", dst / "numba", symlinks=True, dirs_exist_ok=True)
    (dst / "summary.json").unlink()
    return dst


def _resume_and_compare(run_dir: Path, reference: Path) -> None:
    """Resume ``run_dir`` to round 2; it must store what ``reference`` stores."""
    proc = _ahd(["evolve", "--resume", str(run_dir), "--rounds", "2", "--jobs", "1"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert fingerprint(run_dir) == fingerprint(reference)
    assert _run_row(run_dir) == ("finished", "budget reached: rounds 2 of 2")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_read_only_directory_is_reported_before_the_workers_and_nothing_is_written(
        runs, tmp_path):
    if not truly_read_only():
        pytest.skip("cannot make a directory read-only here (root without mount namespaces)")
    run_dir = _copy(runs, tmp_path / "run")
    before = snapshot(run_dir)
    proc = read_only_command(run_dir, ["evolve", "--resume", str(run_dir), "--rounds", "2"],
                             cwd=tmp_path)
    _one_error(proc, "read-only file system", "nothing was started",
               f"ahd evolve --resume {run_dir}")
    assert "sandbox worker" not in proc.stdout + proc.stderr
    # Not a byte written, the status as the budget left it: resuming it after the fix is
    # resuming the untouched run, as ``runs.resumed`` did.
    assert snapshot(run_dir) == before
    assert _run_row(run_dir) == ("finished", "budget reached: rounds 1 of 1")
    from ahd.evolve.resume import check_resume

    assert check_resume(run_dir).problem == "cvrp"


@cache
def _tmpfs_works() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = Path(os.environ.get("TMPDIR", "/tmp"))
    try:
        return subprocess.run(["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=64k '
                               'tmpfs "$0"', str(probe)], capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


#: In a private mount namespace: a tmpfs of $1 bytes on $2, the run copied in, resumed there,
#: and copied out to $3 (outside the tmpfs) whatever happened; the command's exit status.
_FULL_DISK = ('mount -t tmpfs -o size="$1" tmpfs "$2" && cp -a "$4" "$2/run" && '
              'shift 4 && "$@"; rc=$?; cp -a "$0/run" "$0.out"; exit $rc')


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_full_disk_stops_the_run_and_resume_loses_nothing(runs, tmp_path):
    if not _tmpfs_works():
        pytest.skip("cannot mount a tmpfs in a private mount namespace here")
    base = _copy(runs, tmp_path / "base")
    used = sum(p.stat().st_size + 4096 for p in base.rglob("*") if p.is_file())
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    # Room for what round 2 needs to start, not for all it writes.
    room = used + STOP_RESERVE_BYTES + 65536
    cmd = [*AHD, "evolve", "--resume", str(mnt / "run"), "--rounds", "2", "--jobs", "1"]
    proc = subprocess.run(["unshare", "-m", "sh", "-c", _FULL_DISK, str(mnt), str(room),
                           str(mnt), str(tmp_path), str(base), *cmd], text=True,
                          capture_output=True, timeout=600)
    line = _one_error(proc, "disk full", f"ahd evolve --resume {mnt / 'run'}")
    run_dir = tmp_path / "mnt.out"
    status, reason = _run_row(run_dir)
    # The run's stop reserve made room to record the fault.
    assert "could not record it" not in line
    assert status == "interrupted" and "disk full" in reason
    assert not (run_dir / STOP_RESERVE).exists()
    _resume_and_compare(run_dir, runs.resumed)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize(("sig", "status", "says"), [
    (signal.SIGINT, 130, "Ctrl-C"),
    (signal.SIGTERM, 143, "SIGTERM"),  # kill, a batch system's time limit, docker stop
], ids=["ctrl_c", "sigterm"])
def test_a_signal_marks_the_run_interrupted_in_one_line(runs, tmp_path, sig, status, says):
    run_dir = _copy(runs, tmp_path / "run")
    evolve = subprocess.Popen([*AHD, "evolve", "--resume", str(run_dir), "--rounds", "2",
                               "--jobs", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while _run_row(run_dir)[0] != "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    evolve.send_signal(sig)
    output, _ = evolve.communicate(timeout=300)
    proc = subprocess.CompletedProcess(evolve.args, evolve.returncode, output, "")
    assert evolve.returncode == status, output
    _one_error(proc, f"interrupted ({says})", f"ahd evolve --resume {run_dir}")
    run_status, reason = _run_row(run_dir)
    assert run_status == "interrupted" and reason.startswith(f"interrupted ({says})")


def test_resume_is_refused_in_one_line_without_a_store(tmp_path):
    proc = _ahd(["evolve", "--resume", str(tmp_path)], timeout=120)
    _one_error(proc, "no run to resume")
