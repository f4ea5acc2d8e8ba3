"""Solution quality of the ahd LNS against OR-Tools, PyVRP and LKH on CVRPLIB X and TSPLIB.

Every (instance, time limit, solver) run happens in its own fresh Python process pinned to one
thread (``NUMBA_NUM_THREADS=1``, ``OMP_NUM_THREADS=1``), at most ``--jobs`` at once, so give it
no more jobs than cores. The parent re-verifies every solution with the trusted verifier
(``ahd.problems.verify.verify``), computes ``gap = 100 * (cost - ref) / ref`` against the
best-known (``bks.csv``) or optimal (``opt.csv``) value, and writes

- ``OUT`` (markdown): one table per problem, one row per instance, one column per
  solver x time limit, then a ``mean`` row over the instances every column solved and a
  ``wins vs OR-Tools`` row (instances where the column's cost is strictly below OR-Tools');
- ``OUT`` with ``.raw.json`` in place of ``.md``: every run (cost, gap, wall time, routes),
  written after each run. A rerun with the same ``--out`` skips runs already recorded, so an
  interrupted benchmark continues where it stopped; ``--from-json`` only re-renders the table.

Solvers: ``ahd`` (``ahd.problems.engine.lns.run_lns``, after an untimed warm-up call on a
10-customer sub-instance so numba compilation is not charged to the run), ``ortools``,
``pyvrp``, ``elkai`` (TSP only) from ``baselines.py``, and ``nn`` (nearest-neighbour
construction; a sanity floor and a stand-in for testing this script).

Example::

    python benchmarks/routing_quality.py --cvrp-dir ../shared/data/cvrplib-x \\
        --tsp-dir ../shared/data/tsplib --time 10 60 --max-n 500 \\
        --solvers ahd ortools pyvrp elkai --jobs 2 --out benchmarks/results/routing_quality.md
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import (  # noqa: E402
    SOLVERS,
    SUPPORTED_KINDS,
    load_instance,
    machine_info,
    machine_line,
    routes_cost,
)

from ahd.problems.instance import RoutingInstance  # noqa: E402

ALL_SOLVERS = ("ahd", "ortools", "pyvrp", "elkai", "nn")
KIND_OF_SET = {"cvrp": "CVRPLIB X (gap to BKS, %)", "tsp": "TSPLIB (gap to optimum, %)"}
WORKER_ENV = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
}


# --------------------------------------------------------------------------- solvers in a worker


def solve_nn(instance: RoutingInstance, time_limit: float, seed: int = 0):
    """Nearest-neighbour construction: extend the route to the closest customer that fits."""
    del time_limit, seed
    d, dem, cap = instance.dist, instance.demand, instance.capacity
    left = np.ones(instance.n + 1, dtype=bool)
    left[0] = False
    routes, route, load, here = [], [], 0.0, 0
    while left.any():
        fits = left & (load + dem <= cap)
        if not fits.any():
            routes.append(route)
            route, load, here = [], 0.0, 0
            continue
        nxt = int(np.argmin(np.where(fits, d[here], np.inf)))
        route.append(nxt)
        load += dem[nxt]
        left[nxt] = False
        here = nxt
    routes.append(route)
    return routes, routes_cost(instance, routes)


def _sub_instance(inst: RoutingInstance, k: int = 10) -> RoutingInstance:
    """The depot and the first ``k`` customers: same kind and dtypes, for a numba warm-up."""
    m = min(k, inst.n) + 1
    return RoutingInstance(
        name=f"{inst.name}-warmup",
        kind=inst.kind,
        dist=inst.dist[:m, :m].copy(),
        demand=inst.demand[:m].copy(),
        capacity=inst.capacity,
        coords=None if inst.coords is None else inst.coords[:m].copy(),
    )


def solve_ahd(instance: RoutingInstance, time_limit: float, seed: int = 0):
    from ahd.problems.engine.lns import LNSConfig, run_lns

    run_lns(_sub_instance(instance), LNSConfig(time_limit=0.2, seed=seed))  # compile, untimed
    t = time.perf_counter()
    res = run_lns(instance, LNSConfig(time_limit=time_limit, seed=seed))
    solve_ahd.extra = {
        "iterations": int(res.iterations),
        "search_s": float(getattr(res, "elapsed", time.perf_counter() - t)),
        "python_mode": bool(getattr(res, "python_mode", False)),
    }
    return res.routes, float(res.cost)


def worker(task: dict) -> dict:
    """Run one task in this process; returns routes and the solver-reported cost."""
    inst = load_instance(task["path"])
    fn = {"ahd": solve_ahd, "nn": solve_nn, **SOLVERS}[task["solver"]]
    t, c = time.perf_counter(), time.process_time()
    routes, cost = fn(inst, task["time_limit"], seed=task["seed"])
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    out = {"routes": [[int(c) for c in r] for r in routes], "reported_cost": float(cost)}
    out.update(wall_s=round(wall, 3), cpu_s=round(cpu, 3))
    out.update(getattr(fn, "extra", {}))
    return out


# --------------------------------------------------------------------------- parent side


def _verify(inst: RoutingInstance, routes) -> float:
    from ahd.problems.verify import verify

    return verify(inst, routes)


def list_instances(args) -> list[dict]:
    """Reference-csv instances, filtered by ``--max-n``, ``--instances`` and ``--limit``."""
    sets = [
        ("cvrp", args.cvrp_dir, "bks.csv", "bks", ".vrp"),
        ("tsp", args.tsp_dir, "opt.csv", "opt", ".tsp"),
    ]
    found = []
    for kind, folder, csv_name, col, ext in sets:
        if folder is None:
            continue
        folder = Path(folder)
        with open(folder / csv_name, newline="") as fh:
            rows = list(csv.DictReader(fh))
        chosen = []
        for row in rows:
            path = folder / f"{row['name']}{ext}"
            if args.instances and row["name"] not in args.instances:
                continue
            if int(row["n"]) > args.max_n or not path.exists():
                continue
            chosen.append(
                {
                    "name": row["name"],
                    "kind": kind,
                    "n": int(row["n"]),
                    "ref": float(row[col]),
                    "path": str(path),
                }
            )
        chosen.sort(key=lambda r: (r["n"], r["name"]))
        found += chosen[: args.limit] if args.limit else chosen
    return found


def result_key(name: str, solver: str, time_limit: float) -> str:
    return f"{name}|{solver}|{time_limit:g}"


def load_raw(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text())
    return {"meta": {}, "results": {}}


def save_raw(path: Path, raw: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(raw, indent=1))
    os.replace(tmp, path)


def run_task(task: dict, script: str, hard_timeout: float) -> dict:
    """Run ``task`` in a fresh interpreter; returns its output dict or an error record."""
    env = {**os.environ, **WORKER_ENV}
    cmd = [sys.executable, script, "--worker", json.dumps(task)]
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=hard_timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"killed after {hard_timeout:.0f}s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        return {"status": "error", "error": " ".join(tail)[-500:] or f"rc {proc.returncode}"}
    out = json.loads(lines[-1][len("RESULT ") :])
    out["process_wall_s"] = round(time.perf_counter() - t, 3)
    return out


def finish_record(task: dict, inst_info: dict, out: dict, cache: dict) -> dict:
    """The raw record of one run: the task, the worker's output, and the verified cost and gap."""
    rec = {k: task[k] for k in ("solver", "time_limit", "seed")}
    rec.update({k: inst_info[k] for k in ("name", "kind", "n", "ref")})
    rec.update(out)
    if "routes" in out:
        try:
            if task["path"] not in cache:
                cache[task["path"]] = load_instance(task["path"])
            cost = _verify(cache[task["path"]], out["routes"])
        except Exception as exc:  # InfeasibleSolution or anything a broken result raises
            rec.update(status="infeasible", error=str(exc))
        else:
            rec.update(
                status="ok", cost=cost, gap=100 * (cost - inst_info["ref"]) / inst_info["ref"]
            )
            if abs(cost - out["reported_cost"]) > 1e-6 * max(1.0, abs(cost)):
                rec["note"] = f"solver reported {out['reported_cost']:g}"
    return rec


def run_all(args, raw_path: Path) -> dict:
    raw = load_raw(raw_path)
    raw.setdefault("meta", {}).update(machine=machine_info())
    raw["meta"].setdefault("commands", [])
    command = " ".join(shlex.quote(a) for a in ["python", *sys.argv])
    if command not in raw["meta"]["commands"]:
        raw["meta"]["commands"].append(command)
    results = raw.setdefault("results", {})

    instances = list_instances(args)
    tasks = []
    for t in args.time:
        for info in instances:
            for solver in args.solvers:
                if solver in SUPPORTED_KINDS and info["kind"] not in SUPPORTED_KINDS[solver]:
                    continue
                old = results.get(result_key(info["name"], solver, t))
                if old and (old.get("status") == "ok" or not args.rerun_failed):
                    continue
                tasks.append(
                    (
                        {
                            "path": info["path"],
                            "solver": solver,
                            "time_limit": t,
                            "seed": args.seed,
                        },
                        info,
                    )
                )
    print(
        f"{len(instances)} instances, {len(tasks)} runs to do, {args.jobs} at once", file=sys.stderr
    )
    save_raw(raw_path, raw)

    cache: dict[str, RoutingInstance] = {}
    script = str(Path(__file__).resolve())
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            pool.submit(run_task, task, script, args.timeout_factor * task["time_limit"] + 120): (
                task,
                info,
            )
            for task, info in tasks
        }
        for done, fut in enumerate(as_completed(futures), 1):
            task, info = futures[fut]
            rec = finish_record(task, info, fut.result(), cache)
            results[result_key(info["name"], task["solver"], task["time_limit"])] = rec
            save_raw(raw_path, raw)
            what = f"gap {rec['gap']:7.3f}%" if rec["status"] == "ok" else rec["status"].upper()
            wall = f"  wall {rec['wall_s']:.1f}s" if "wall_s" in rec else ""
            wall += f" cpu {rec['cpu_s']:.1f}s" if "cpu_s" in rec else ""
            print(
                f"[{done}/{len(tasks)}] {info['name']:12s} {task['solver']:8s} "
                f"{task['time_limit']:g}s  {what}{wall}"
                + (f"  ({rec['error']})" if rec.get("error") else ""),
                file=sys.stderr,
                flush=True,
            )
    return raw


# --------------------------------------------------------------------------- markdown


def _fmt_gap(rec: dict | None) -> str:
    if rec is None:
        return ""
    if rec.get("status") != "ok":
        return rec.get("status", "?")
    return f"{rec['gap']:.2f}"


def render(raw: dict) -> str:
    results = list(raw.get("results", {}).values())
    meta = raw.get("meta", {})
    lines = ["# Routing quality", ""]
    if meta.get("machine"):
        lines.append(f"Machine: {machine_line(meta['machine'])}.")
        lines.append("")
    for cmd in meta.get("commands", []):
        lines.append(f"Command: `{cmd}`")
    lines += [
        "",
        "Each cell is `100 * (cost - ref) / ref` in percent for one run (one process, one core,"
        " the seed in the raw file); cost recomputed by `ahd.problems.verify`. Bold: the best cost"
        " in the row at that time limit. A word instead of a number: the run failed that way"
        " (infeasible, error, timeout). The first `mean` row averages over the instances every"
        " column of that time limit solved, the second over those the column itself solved;"
        " `wins vs OR-Tools` counts instances where the column's cost is strictly lower than"
        " OR-Tools' at the same time limit.",
        "",
    ]
    share = [r["cpu_s"] / r["wall_s"] for r in results if r.get("wall_s", 0) > 1 and "cpu_s" in r]
    if share:
        lines += [
            f"CPU time / wall time of the solver calls (1.0 = a full core): median"
            f" {np.median(share):.2f}, min {np.min(share):.2f} over {len(share)} runs; well below"
            " 1 means the machine was shared and wall-clock-limited solvers got less CPU (LKH's"
            " limit counts CPU time, so elkai runs longer instead).",
            "",
        ]
    for kind in ("cvrp", "tsp"):
        recs = [r for r in results if r["kind"] == kind]
        if recs:
            lines += _table(kind, recs)
    return "\n".join(lines) + "\n"


def _table(kind: str, recs: list[dict]) -> list[str]:
    times = sorted({r["time_limit"] for r in recs})
    solvers = [s for s in ALL_SOLVERS if any(r["solver"] == s for r in recs)]
    solvers += sorted({r["solver"] for r in recs} - set(solvers))
    cols = [
        (t, s)
        for t in times
        for s in solvers
        if any(r["solver"] == s and r["time_limit"] == t for r in recs)
    ]
    by = {(r["name"], r["solver"], r["time_limit"]): r for r in recs}
    names = sorted({(r["n"], r["name"]) for r in recs})
    out = [f"## {KIND_OF_SET.get(kind, kind)}", ""]
    out.append("| instance | n | " + " | ".join(f"{s} {t:g}s" for t, s in cols) + " |")
    out.append("|---|---:|" + "---:|" * len(cols))
    for n, name in names:
        cells = []
        for t, s in cols:
            rec = by.get((name, s, t))
            cell = _fmt_gap(rec)
            ok_here = [by.get((name, s2, t2)) for t2, s2 in cols if t2 == t]
            best = min((r["cost"] for r in ok_here if r and r.get("status") == "ok"), default=None)
            if rec and rec.get("status") == "ok" and best is not None and rec["cost"] == best:
                cell = f"**{cell}**"
            cells.append(cell)
        out.append(f"| {name} | {n} | " + " | ".join(cells) + " |")

    common_cells, own_cells, win_cells = [], [], []
    for t, s in cols:
        same_t = [s2 for t2, s2 in cols if t2 == t]
        common = [
            name
            for _, name in names
            if all(by.get((name, s2, t), {}).get("status") == "ok" for s2 in same_t)
        ]
        gaps = [by[(name, s, t)]["gap"] for name in common]
        common_cells.append(f"{np.mean(gaps):.2f} ({len(gaps)})" if gaps else "")
        own = [r["gap"] for r in recs if r["solver"] == s and r["time_limit"] == t and "gap" in r]
        tried = sum(r["solver"] == s and r["time_limit"] == t for r in recs)
        own_cells.append(f"{np.mean(own):.2f} ({len(own)}/{tried})" if own else f"- (0/{tried})")
        if s == "ortools" or "ortools" not in same_t:
            win_cells.append("")
            continue
        pairs = [(by.get((name, s, t)), by.get((name, "ortools", t))) for _, name in names]
        pairs = [(a, b) for a, b in pairs if a and b and b.get("status") == "ok"]
        wins = sum(a.get("status") == "ok" and a["cost"] < b["cost"] for a, b in pairs)
        win_cells.append(f"{wins}/{len(pairs)}")
    for label, row in (
        ("mean, instances all columns solved (count)", common_cells),
        ("mean, instances this column solved (solved/run)", own_cells),
        ("wins vs OR-Tools", win_cells),
    ):
        out.append(f"| {label} | | " + " | ".join(row) + " |")
    out.append("")
    return out


# --------------------------------------------------------------------------- CLI


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cvrp-dir", help="folder with X-*.vrp and bks.csv")
    p.add_argument("--tsp-dir", help="folder with *.tsp and opt.csv")
    p.add_argument("--time", type=float, nargs="+", default=[10.0], help="time limits (s)")
    p.add_argument("--max-n", type=int, default=500, help="largest DIMENSION (depot included)")
    p.add_argument("--limit", type=int, default=0, help="first K instances of each set by n")
    p.add_argument("--instances", nargs="+", help="only these instance names")
    p.add_argument(
        "--solvers", nargs="+", default=["ahd", "ortools", "pyvrp", "elkai"], choices=ALL_SOLVERS
    )
    p.add_argument("--jobs", type=int, default=1, help="parallel runs; at most one per core")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="benchmarks/results/routing_quality.md")
    p.add_argument("--from-json", action="store_true", help="only re-render OUT from its raw json")
    p.add_argument("--rerun-failed", action="store_true", help="redo recorded non-ok runs")
    p.add_argument(
        "--timeout-factor", type=float, default=3.0, help="kill a run after FACTOR * time + 120 s"
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        print("RESULT " + json.dumps(worker(json.loads(args.worker))), flush=True)
        return 0
    out = Path(args.out)
    raw_path = out.with_suffix(".raw.json")
    if args.from_json:
        raw = load_raw(raw_path)
    else:
        if not (args.cvrp_dir or args.tsp_dir):
            sys.exit("give --cvrp-dir and/or --tsp-dir (or --from-json)")
        out.parent.mkdir(parents=True, exist_ok=True)
        raw = run_all(args, raw_path)
    out.write_text(render(raw))
    print(f"wrote {out} and {raw_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
