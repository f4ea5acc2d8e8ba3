"""SIGKILL an evaluation run mid-flight, reopen the store, resume: nothing lost, nothing twice.

The same file is the worker: run as a script it plays an evaluation run that adds candidates
and commits their evaluations, one transaction per candidate, with small pauses standing for
the evaluation time.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

from ahd.candidate import Candidate
from ahd.store import STORE_FILENAME, Evaluation, NotFoundError, Store, pending_work

INSTANCES = ("i1", "i2", "i3")
N_CANDIDATES = 300
#: Seconds per simulated evaluation in the worker: the full run would take about 10 s.
PAUSE = 0.01
KILL_AFTER = 20


def make_candidate(i: int, parent: int | None) -> Candidate:
    return Candidate(
        f"def destroy(inst, sol, n_remove, removed):\n    return {i}\n",
        ("destroy",),
        "cvrp",
        parents=() if parent is None else (parent,),
        generation=i,
    )


def objective(i: int, instance: str) -> float:
    return i + INSTANCES.index(instance) / 10


def run_evaluation(run_dir: Path, n: int, pause: float = 0.0) -> int:
    """Add candidates 0..n-1 and evaluate what the store lacks; return evaluations performed.

    Called again after a kill, it is the resume: ``add_candidate`` returns the ids of the
    candidates already stored and ``pending_work`` skips the evaluations already committed.
    """
    performed = 0
    with Store.in_run_dir(run_dir) as store:
        try:
            store.open_run()
        except NotFoundError:
            store.create_run("cvrp", {"n": n}, seed=0, versions={})
        parent = None
        for i in range(n):
            cid, _ = store.add_candidate(make_candidate(i, parent))
            batch = []
            for _, instance in pending_work(store, [cid], INSTANCES):
                time.sleep(pause)  # the evaluation itself; lost if killed here
                batch.append(Evaluation(cid, instance, "train", "ok", objective(i, instance)))
            store.add_evaluations(batch)
            performed += len(batch)
            parent = cid
    return performed


def test_sigkill_loses_only_work_in_flight_and_resume_completes(tmp_path):
    # Imported here: the worker (this file run as a script) has no tests/helpers on its path.
    from sqlite_probe import count_rows

    run_dir = tmp_path / "run"
    db = run_dir / STORE_FILENAME
    worker = subprocess.Popen(
        [sys.executable, __file__, str(run_dir), str(N_CANDIDATES), str(PAUSE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not (db.exists() and count_rows(db, "candidates") >= KILL_AFTER):
            if worker.poll() is not None:
                raise AssertionError(f"worker ended early: {worker.stderr.read().decode()}")
            assert time.monotonic() < deadline, "worker made no progress"
            time.sleep(0.01)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.communicate()
    assert worker.returncode == -signal.SIGKILL
    assert (run_dir / f"{STORE_FILENAME}-wal").exists()  # recovery has real work to do

    with Store.in_run_dir(run_dir) as store:
        assert store.integrity_check() == "ok"
        kept_candidates = len(store.candidate_ids())
        kept = store._conn.execute("SELECT count(*) FROM evaluations").fetchone()[0]
    assert KILL_AFTER <= kept_candidates < N_CANDIDATES
    assert 0 < kept < N_CANDIDATES * len(INSTANCES)

    performed = run_evaluation(run_dir, N_CANDIDATES)
    assert performed == N_CANDIDATES * len(INSTANCES) - kept  # nothing evaluated twice

    with Store.in_run_dir(run_dir, readonly=True) as store:
        assert store.integrity_check() == "ok"
        assert len(store.runs()) == 1
        ids = store.candidate_ids(run_id=1)
        assert len(ids) == N_CANDIDATES
        hashes = [store.get_candidate(cid).code_hash for cid in ids]
        assert len(set(hashes)) == N_CANDIDATES
        pairs = store._conn.execute(
            "SELECT candidate_id, instance, count(*) FROM evaluations GROUP BY 1, 2"
        ).fetchall()
        assert len(pairs) == N_CANDIDATES * len(INSTANCES)
        assert all(n == 1 for _, _, n in pairs)
        for i, cid in enumerate(ids):
            candidate = store.get_candidate(cid)
            assert candidate.generation == i
            assert candidate.parents == (() if i == 0 else (ids[i - 1],))
            evals = store.evaluations_for(cid)
            assert [(e.instance, e.objective) for e in evals] == [
                (name, objective(i, name)) for name in INSTANCES
            ]
        assert pending_work(store, ids, INSTANCES) == []


if __name__ == "__main__":
    run_evaluation(Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
