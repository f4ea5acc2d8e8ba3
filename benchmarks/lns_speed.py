"""Iterations per second of the numba LNS against the very same code run as plain Python.

Each measurement runs ``ahd.problems.engine.lns.run_lns`` in its own fresh process, one at a
time, on an X-style CVRP instance from ``ahd.problems.generators.x_cvrp(n, default_rng(seed))``.
The Python measurement is the same script with ``NUMBA_DISABLE_JIT=1`` in the environment, so
every operator, the loop and the local search execute as ordinary Python on numpy arrays; the
run must report ``python_mode`` (and the numba run must not), otherwise it is an error.

Two configurations:

- ``bare``: random removal + greedy repair only, no improvement operator, no local search —
  the inner loop the 30x target is about;
- ``full``: the default operator pools and local search (``LNSConfig`` defaults).

Iterations per second is ``result.iterations / result.elapsed`` (search loop only: the engine
excludes compilation, set-up and the initial solution from ``elapsed``). The numba process first
does an untimed warm-up run on the same instance so compilation is not counted even where the
on-disk cache is cold. Writes a markdown table with the machine and the command line.

Example::

    python benchmarks/lns_speed.py --sizes 100 400 1000 --numba-time 20 --python-time 60 \\
        --out benchmarks/results/lns_speed.md
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

BARE = {"destroy": ["random_removal"], "repair": ["greedy_repair"], "improve": []}


def worker(task: dict) -> dict:
    """One measurement in this process (``NUMBA_DISABLE_JIT`` decides the backend)."""
    import numpy as np

    from ahd.problems.engine.lns import LNSConfig, run_lns
    from ahd.problems.generators import x_cvrp

    inst = x_cvrp(task["n"], np.random.default_rng(task["seed"]))
    bare = task["mode"] == "bare"
    ops = BARE if bare else {}
    python = task["backend"] == "python"
    if not python:  # compile everything this configuration uses, untimed
        run_lns(inst, LNSConfig(iterations=50, seed=task["seed"], local_search=not bare), **ops)
    t, c = time.perf_counter(), time.process_time()
    res = run_lns(
        inst,
        LNSConfig(time_limit=task["time_limit"], seed=task["seed"], local_search=not bare),
        **ops,
    )
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    if res.python_mode != python:
        raise RuntimeError(
            f"expected python_mode={python}, got {res.python_mode} ({res.compile_errors})"
        )
    return {
        "iterations": int(res.iterations),
        "elapsed": float(res.elapsed),
        "wall_s": wall,
        "cpu_s": cpu,
        "it_per_s": res.iterations / res.elapsed if res.elapsed > 0 else float("nan"),
        "cost": float(res.cost),
        "routes": len(res.routes),
    }


def render(rows: list[dict], command: str, info: dict) -> str:
    out = [
        "Instances: `x_cvrp(n, numpy.random.default_rng(seed))`. `bare` = random removal +"
        " greedy repair, no local search; `full` = default pools with local search. it/s ="
        " iterations / search seconds (compilation, set-up and the initial solution excluded);"
        " python = the same code under `NUMBA_DISABLE_JIT=1`. One process per cell, run one at"
        " a time.",
        "",
    ]
    table = []
    for r in rows:
        nb, py = r.get("numba", {}), r.get("python", {})

        def rate(x):
            return f"{x['it_per_s']:,.0f}" if "it_per_s" in x else "error"

        def count(x):
            return f"{x['iterations']:,} / {x['elapsed']:.1f}" if "iterations" in x else "-"

        speed = (
            f"{nb['it_per_s'] / py['it_per_s']:.1f}x"
            if "it_per_s" in nb and py.get("it_per_s")
            else "-"
        )
        cost = f"{nb['cost']:.0f}" if "cost" in nb else "-"
        table.append([r["n"], r["mode"], rate(nb), rate(py), speed, count(nb), count(py), cost])
    head = ["n", "mode", "numba it/s", "python it/s", "speed-up", "numba iterations / s",
            "python iterations / s", "numba best cost"]
    out += common.markdown_table(head, table, align="rlrrrrrr")
    runs = [x for r in rows for x in (r.get("numba", {}), r.get("python", {}))]
    share = common.cpu_shares(runs, min_wall=0)
    if share:
        out += [
            "",
            f"CPU time / wall time of the timed calls: min {min(share):.2f}, max"
            f" {max(share):.2f} (below 1: the machine was shared during the measurement).",
        ]
    errors = [
        f"- n={r['n']} {r['mode']} {b}: {r[b]['error']}"
        for r in rows
        for b in ("numba", "python")
        if "error" in r.get(b, {})
    ]
    if errors:
        out += ["", "Errors:", "", *errors]
    title = "LNS speed: numba vs plain Python"
    machine = f"{common.machine_line(info)}."
    return common.markdown_report(title, command, machine, out, machine_first=True)


def main(argv=None) -> int:
    p = common.base_parser(__doc__, "benchmarks/results/lns_speed.md", seed=True, worker=True)
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 400, 1000])
    p.add_argument("--modes", nargs="+", default=["bare", "full"], choices=["bare", "full"])
    p.add_argument("--numba-time", type=float, default=20.0, help="search seconds, numba run")
    p.add_argument("--python-time", type=float, default=60.0, help="search seconds, Python run")
    args = p.parse_args(argv)
    if args.worker:
        return common.answer(worker, args.worker)

    command = common.command_line(__file__, argv)
    rows = []
    for n in args.sizes:
        for mode in args.modes:
            row = {"n": n, "mode": mode}
            for backend, limit in (("numba", args.numba_time), ("python", args.python_time)):
                task = {
                    "n": n,
                    "mode": mode,
                    "backend": backend,
                    "time_limit": limit,
                    "seed": args.seed,
                }
                # set-up in Python (initial cheapest insertion) can take minutes at n = 1000
                jit = {"NUMBA_DISABLE_JIT": "1" if backend == "python" else "0"}
                res = common.run_worker(__file__, task, 3 * limit + 600, env=jit)
                row[backend] = res
                what = (
                    f"{res['it_per_s']:,.0f} it/s ({res['iterations']:,} it in "
                    f"{res['elapsed']:.1f}s, wall {res['wall_s']:.1f}s)"
                    if "it_per_s" in res
                    else f"ERROR {res['error']}"
                )
                print(f"n={n:5d} {mode:4s} {backend:6s} {what}", file=sys.stderr, flush=True)
            rows.append(row)
    common.write_report(args.out, render(rows, command, common.machine_info()))
    raw = {"command": command, "rows": rows}
    common.save_json(args.out.with_suffix(".raw.json"), raw, indent=1)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
