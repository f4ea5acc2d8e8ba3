"""Memory and time to a first feasible solution on generated CVRP instances of up to 30,000
customers (larger than any file in ../shared/data), solved without a distance matrix.

Instances follow the Belgium XXL recipe of Arnold, Gendreau & Sörensen in what matters for
memory and speed: customers on an integer grid (here uniform on ``[0, 1000]^2``, all
distinct, ``EUC_2D``), demands uniform in {1, 2, 3} and a capacity of 50 (Flanders1's), so about
``n / 25`` routes. Each size runs ``ahd`` (seed pools, one core) for ``--time`` seconds in a
fresh process after an untimed numba warm-up, and records the worker's peak resident memory
(``ru_maxrss`` at its end), the seconds from the start of the call to its first feasible
solution (set-up, i.e. neighbour lists and the first solution, plus the search's first trace
entry), iterations and the verified cost. There is no reference cost: these figures say what
fits and how soon, not how good; ``routing_scale.py`` measures quality. The dense matrix the
engine no longer allocates is shown for scale (``8 m^2`` bytes).

Example::

    python benchmarks/routing_memory.py --sizes 10000 20000 30000 --time 60 \\
        --out benchmarks/results/routing_memory.md
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from routing_quality import sub_instance  # noqa: E402
from routing_scale import peak_mib, run_ahd  # noqa: E402

CAPACITY = 50.0


def belgium_like(n: int, seed: int):
    """``n`` customers as described in the module docstring (``rng`` from ``seed``)."""
    from ahd.problems.generators import make_instance

    rng = np.random.default_rng(seed)
    cells = rng.choice(1001 * 1001, size=n + 1, replace=False)
    coords = np.stack([cells // 1001, cells % 1001], axis=1).astype(float)
    demand = np.r_[0.0, rng.integers(1, 4, n)].astype(float)
    return make_instance(f"belgium-like-n{n}-s{seed}", "cvrp", coords, demand, CAPACITY,
                         "EUC_2D")


def worker(task: dict) -> dict:
    """One size in this process: peak memory, first feasible, iterations, verified cost."""
    import time

    from ahd.problems.verify import verify

    inst = belgium_like(task["n"], task["seed"])
    run_ahd(sub_instance(inst), 0.2, task["seed"], {})  # numba compilation, untimed
    box: dict = {"t0": time.perf_counter()}
    routes, _ = run_ahd(inst, task["time_limit"], task["seed"], box)
    wall = box["end"] - box["t0"]
    first = wall - box["search_s"] + box["first_in_search"]
    return {"dense": bool(inst.dense), "cost": verify(inst, routes), "routes": len(routes),
            "iterations": box["iterations"], "wall_s": round(wall, 2),
            "first_feasible_s": round(first, 2), "peak_mib": peak_mib()}


def run_all(args) -> dict:
    log = common.ResultLog(args.out.with_suffix(".raw.json"))
    log.stamp(__file__)
    tasks = [({"n": n, "seed": args.seed, "time_limit": args.time}, None) for n in args.sizes
             if log.todo(f"{n}|{args.time:g}|{args.seed}", args.rerun_failed)]
    for task, _, out in common.run_parallel(__file__, tasks, 1, args.timeout_factor):
        log.add(f"{task['n']}|{task['time_limit']:g}|{task['seed']}", {**task, **out})
        print(f"n {task['n']}: {out}", file=sys.stderr, flush=True)
    return log.raw


def render(raw: dict) -> str:
    rows = []
    for rec in sorted(raw.get("results", {}).values(), key=lambda r: (r["n"], r["time_limit"])):
        m = rec["n"] + 1
        if rec.get("status", "ok") != "ok":
            rows.append([rec["n"], f"{8 * m * m / 2**30:.2f}", rec["status"], "", "", "", ""])
            continue
        rows.append([rec["n"], f"{8 * m * m / 2**30:.2f}", f"{rec['peak_mib']:.0f}",
                     f"{rec['first_feasible_s']:.1f}", f"{rec['time_limit']:g}",
                     f"{rec['iterations']:,}", f"{rec['cost']:.0f} ({rec['routes']} routes)"])
    header = ["customers", "dense matrix (GiB, not allocated)", "peak RSS (MiB)",
              "first feasible (s)", "time limit (s)", "iterations", "verified cost"]
    meta = raw.get("meta", {})
    machine = f"{common.machine_line(meta['machine'])}." if meta.get("machine") else None
    notes = ["Peak RSS: the worker's `ru_maxrss` at its end (interpreter, imports and the"
             " untimed warm-up included); the first worker of a cold numba cache compiles the"
             " engine and peaks higher than the rest. First feasible: from the start of the"
             " solver call (neighbour lists, first solution, and from 5,000 customers the"
             " descent and the sub-problems' compilation). One process at a time.", ""]
    return common.markdown_report("Routing memory at scale", meta.get("commands", []), machine,
                                  [*notes, *common.markdown_table(header, rows)],
                                  machine_first=True)


def parse_args(argv=None):
    p = common.base_parser(__doc__, "benchmarks/results/routing_memory.md", seed=True,
                           resume=True, worker=True)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000, 30_000])
    p.add_argument("--time", type=float, default=60.0, help="search time limit (s)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    return common.resumable_main(parse_args(argv), worker, run_all, render)


if __name__ == "__main__":
    sys.exit(main())
