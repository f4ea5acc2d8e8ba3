"""An evaluation run through the real sandbox, for ``tests/problems/test_kill_evaluate.py``.

Run as a script (``python tests/problems/_evaluation_run.py RUN_DIR``) it creates the store in
RUN_DIR and evaluates every candidate on every instance with
:func:`ahd.problems.evaluate.evaluate_and_store`; the test SIGKILLs it midway and resumes with
:func:`evaluate` in its own process.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ahd.candidate import Candidate
from ahd.problems.engine.config import LNSConfig
from ahd.problems.evaluate import WARMUP_SPEC, EvaluationRecord, InstanceSpec, evaluate_and_store
from ahd.sandbox import SandboxLimits, SandboxPool
from ahd.store import Store

N_CANDIDATES = 8
INSTANCES = (InstanceSpec("cvrp", 20, 1), InstanceSpec("cvrp", 24, 2))
CONFIG = LNSConfig(iterations=50, seed=0)
LIMITS = SandboxLimits(wall_time=20.0)
#: File in the run directory listing the script's sandbox worker pids.
WORKER_PIDS = "worker_pids"

TEMPLATE = """
def destroy(inst, sol, n_remove, removed):
    k = 0
    tries = 0
    while k < n_remove and tries < {tries} * n_remove:
        tries += 1
        c = np.random.randint(1, inst.n + 1)
        if sol.route_of[c] >= 0:
            remove_customer(inst, sol, c)
            removed[k] = c
            k += 1
    return k
"""


def make_candidates() -> list[Candidate]:
    """Random-removal variants that differ in one constant (so in their code hash)."""
    return [
        Candidate(TEMPLATE.format(tries=3 + i), ("destroy",), "cvrp", generation=i)
        for i in range(N_CANDIDATES)
    ]


def start_pool() -> SandboxPool:
    return SandboxPool(1, warmup=WARMUP_SPEC, limits=LIMITS, prewarm_numba="basic")


def evaluate(store: Store, run_id: int, pool: SandboxPool) -> list[EvaluationRecord]:
    return evaluate_and_store(store, run_id, make_candidates(), INSTANCES, CONFIG, pool=pool)


def main(run_dir: Path) -> None:
    with Store.in_run_dir(run_dir) as store:
        run = store.create_run("cvrp", {"iterations": CONFIG.iterations}, seed=0, versions={})
        with start_pool() as pool:
            (run_dir / WORKER_PIDS).write_text(" ".join(map(str, pool.worker_pids)))
            evaluate(store, run.id, pool)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
