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

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import machine_info, machine_line  # noqa: E402

BARE = {"destroy": ["random_removal"], "repair": ["greedy_repair"], "improve": []}
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


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


def run_task(task: dict, hard_timeout: float) -> dict:
    env = {**os.environ, **WORKER_ENV}
    env.pop("NUMBA_DISABLE_JIT", None)
    if task["backend"] == "python":
        env["NUMBA_DISABLE_JIT"] = "1"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(task)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=hard_timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"killed after {hard_timeout:.0f}s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        return {"error": " ".join(tail)[-400:] or f"rc {proc.returncode}"}
    return json.loads(lines[-1][len("RESULT ") :])


def render(rows: list[dict], command: str, info: dict) -> str:
    out = [
        "# LNS speed: numba vs plain Python",
        "",
        f"Machine: {machine_line(info)}.",
        "",
        f"Command: `{command}`",
        "",
        "Instances: `x_cvrp(n, numpy.random.default_rng(seed))`. `bare` = random removal +"
        " greedy repair, no local search; `full` = default pools with local search. it/s ="
        " iterations / search seconds (compilation, set-up and the initial solution excluded);"
        " python = the same code under `NUMBA_DISABLE_JIT=1`. One process per cell, run one at"
        " a time.",
        "",
        "| n | mode | numba it/s | python it/s | speed-up | numba iterations / s"
        " | python iterations / s | numba best cost |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
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
        out.append(
            f"| {r['n']} | {r['mode']} | {rate(nb)} | {rate(py)} | {speed} | {count(nb)}"
            f" | {count(py)} | {cost} |"
        )
    share = [
        x["cpu_s"] / x["wall_s"]
        for r in rows
        for x in (r.get("numba", {}), r.get("python", {}))
        if x.get("wall_s", 0) > 0 and "cpu_s" in x
    ]
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
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 400, 1000])
    p.add_argument("--modes", nargs="+", default=["bare", "full"], choices=["bare", "full"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--numba-time", type=float, default=20.0, help="search seconds, numba run")
    p.add_argument("--python-time", type=float, default=60.0, help="search seconds, Python run")
    p.add_argument("--out", default="benchmarks/results/lns_speed.md")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print("RESULT " + json.dumps(worker(json.loads(args.worker))), flush=True)
        return 0

    command = " ".join(shlex.quote(a) for a in ["python", *sys.argv])
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
                res = run_task(task, hard_timeout=3 * limit + 600)
                row[backend] = res
                what = (
                    f"{res['it_per_s']:,.0f} it/s ({res['iterations']:,} it in "
                    f"{res['elapsed']:.1f}s, wall {res['wall_s']:.1f}s)"
                    if "it_per_s" in res
                    else f"ERROR {res['error']}"
                )
                print(f"n={n:5d} {mode:4s} {backend:6s} {what}", file=sys.stderr, flush=True)
            rows.append(row)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(rows, command, machine_info()))
    out.with_suffix(".raw.json").write_text(
        json.dumps({"command": command, "rows": rows}, indent=1)
    )
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
