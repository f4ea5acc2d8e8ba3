"""SIGKILL a sandboxed evaluation run mid-flight, reopen the store, resume: nothing lost,
nothing evaluated twice, nothing committed before the kill changed.

The run itself is ``tests/_evaluation_run.py``: 8 destroy candidates x 2 instances through
:func:`ahd.problems.evaluate.evaluate_and_store` and a real one-worker sandbox pool.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlite_probe import count_rows

from ahd.store import STORE_FILENAME, Store, pending_work

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="the sandbox needs fork()"),
]

SCRIPT = Path(__file__).with_name("_evaluation_run.py")
KILL_AFTER = 2


def load_run_module():
    spec = importlib.util.spec_from_file_location("_evaluation_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_mod = load_run_module()
TOTAL = run_mod.N_CANDIDATES * len(run_mod.INSTANCES)


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for its new parent to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def evaluation_rows(store: Store) -> list[tuple]:
    return store._conn.execute(
        "SELECT id, candidate_id, instance, split, context, objective, time, status, error,"
        " metrics, created FROM evaluations ORDER BY id"
    ).fetchall()


def test_sigkill_mid_evaluation_then_resume(tmp_path):
    run_dir = tmp_path / "run"
    db = run_dir / STORE_FILENAME
    with open(tmp_path / "stderr", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(run_dir)], stdout=subprocess.DEVNULL, stderr=err
        )
        try:
            deadline = time.monotonic() + 240
            while count_rows(db, "evaluations") < KILL_AFTER:
                if proc.poll() is not None:
                    raise AssertionError(
                        f"run ended early:\n{(tmp_path / 'stderr').read_text()[-3000:]}"
                    )
                assert time.monotonic() < deadline, "the run committed nothing in time"
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    # The run's sandbox workers live in their own sessions; they notice their pool is gone
    # and exit by themselves.
    pids = [int(p) for p in (run_dir / run_mod.WORKER_PIDS).read_text().split()]
    deadline = time.monotonic() + 30
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in pids if alive(p)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"sandbox workers {left} outlived their pool"

    with Store.in_run_dir(run_dir) as store:
        assert store.integrity_check() == "ok"
        before = evaluation_rows(store)
        assert KILL_AFTER <= len(before) < TOTAL
        assert len(store.candidate_ids()) == run_mod.N_CANDIDATES

    with run_mod.start_pool() as pool, Store.in_run_dir(run_dir) as store:
        run = store.open_run()
        ids = store.candidate_ids(run_id=run.id)
        names = [spec.build().name for spec in run_mod.INSTANCES]
        pending = pending_work(store, ids, names)
        assert len(pending) == TOTAL - len(before)
        records = run_mod.evaluate(store, run.id, pool)

    assert sorted((r.candidate_id, r.instance) for r in records) == sorted(pending)
    assert all(r.status == "ok" for r in records), records

    with Store.in_run_dir(run_dir, readonly=True) as store:
        assert store.integrity_check() == "ok"
        assert len(store.runs()) == 1
        assert store.candidate_ids() == ids  # the resume added no candidate
        after = evaluation_rows(store)
        assert len(after) == TOTAL
        pairs = store._conn.execute(
            "SELECT candidate_id, instance, count(*) FROM evaluations GROUP BY 1, 2"
        ).fetchall()
        assert len(pairs) == TOTAL and all(n == 1 for _, _, n in pairs)
        by_id = {row[0]: row for row in after}
        for row in before:  # committed before the kill: untouched
            assert by_id[row[0]] == row
        assert all(row[7] == "ok" for row in after)
        assert pending_work(store, ids, names) == []
