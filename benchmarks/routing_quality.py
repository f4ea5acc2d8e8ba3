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

import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from baselines import SOLVERS, SUPPORTED_KINDS, load_instance, routes_cost  # noqa: E402

from ahd.problems.instance import RoutingInstance  # noqa: E402

ALL_SOLVERS = ("ahd", "ortools", "pyvrp", "elkai", "nn")
KIND_OF_SET = {"cvrp": "CVRPLIB X (gap to BKS, %)", "tsp": "TSPLIB (gap to optimum, %)"}


# --------------------------------------------------------------------------- solvers in a worker


def solve_nn(instance: RoutingInstance, time_limit: float, seed: int = 0):
    """Nearest-neighbour construction: extend the route to the closest customer that fits."""
    del time_limit, seed
    d, dem, cap = instance.matrix(), instance.demand, instance.capacity
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


def sub_instance(inst: RoutingInstance, k: int = 10) -> RoutingInstance:
    """The depot and the first ``k`` customers: same kind, dtypes and distance layout (matrix
    or coordinates), for a numba warm-up."""
    m = min(k, inst.n) + 1
    return RoutingInstance(
        name=f"{inst.name}-warmup",
        kind=inst.kind,
        dist=None if inst.dist is None else inst.dist[:m, :m].copy(),
        demand=inst.demand[:m].copy(),
        capacity=inst.capacity,
        coords=None if inst.coords is None else inst.coords[:m].copy(),
        edge_weight_type=inst.edge_weight_type,
    )


def solve_ahd(instance: RoutingInstance, time_limit: float, seed: int = 0):
    from ahd.problems.engine.lns import LNSConfig, run_lns

    run_lns(sub_instance(instance), LNSConfig(time_limit=0.2, seed=seed))  # compile, untimed
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

    def solve():
        routes, cost = fn(inst, task["time_limit"], seed=task["seed"])
        return routes, cost, getattr(fn, "extra", {})

    return timed_solution(solve)


def timed_solution(solve) -> dict:
    """A worker's answer: ``solve()``'s routes and own cost, its wall and CPU seconds (CPU below
    wall means a shared core), and the extra fields it returns with them."""
    t, c = time.perf_counter(), time.process_time()
    routes, cost, extra = solve()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return {"routes": [[int(x) for x in r] for r in routes], "reported_cost": float(cost),
            "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), **extra}


# --------------------------------------------------------------------------- parent side


def list_instances(args) -> list[dict]:
    """Reference-csv instances, filtered by ``--max-n``, ``--instances`` and ``--limit``."""
    sets = [
        ("cvrp", args.cvrp_dir, "bks.csv", "bks", ".vrp"),
        ("tsp", getattr(args, "tsp_dir", None), "opt.csv", "opt", ".tsp"),
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


def verify_routes(rec: dict, cache: dict, key: object, load) -> dict:
    """``rec`` with ``status`` and the cost the trusted verifier recomputes from its routes.

    Solvers report their own cost, possibly of a rounded matrix; every table trusts only this.
    ``load()`` builds the instance, cached under ``key``; a record without routes (a failed
    run) is left as it is.
    """
    from ahd.problems.verify import verify

    if "routes" not in rec:
        return rec
    try:
        if key not in cache:
            cache[key] = load()
        cost = verify(cache[key], rec["routes"])
    except Exception as exc:  # InfeasibleSolution or anything a broken result raises
        rec.update(status="infeasible", error=str(exc))
    else:
        rec.update(status="ok", cost=cost)
    return rec


def finish_record(task: dict, inst_info: dict, out: dict, cache: dict) -> dict:
    """The raw record of one run: the task, the worker's output, and the verified cost and gap."""
    rec = {k: task[k] for k in ("solver", "time_limit", "seed")}
    rec.update({k: inst_info[k] for k in ("name", "kind", "n", "ref")}, **out)
    verify_routes(rec, cache, task["path"], lambda: load_instance(task["path"]))
    if rec.get("status") == "ok":
        rec["gap"] = common.gap(rec["cost"], inst_info["ref"])
        if abs(rec["cost"] - out["reported_cost"]) > 1e-6 * max(1.0, abs(rec["cost"])):
            rec["note"] = f"solver reported {out['reported_cost']:g}"
    return rec


def run_all(args) -> dict:
    """Run every (time, instance, solver) not yet recorded in ``OUT.raw.json``; the raw data."""
    if not (args.cvrp_dir or args.tsp_dir):
        sys.exit("give --cvrp-dir and/or --tsp-dir (or --from-json)")
    log = common.ResultLog(args.out.with_suffix(".raw.json"))
    log.stamp(__file__)
    instances = list_instances(args)
    tasks = []
    for t in args.time:
        for info in instances:
            for solver in args.solvers:
                if info["kind"] not in SUPPORTED_KINDS.get(solver, (info["kind"],)):
                    continue
                if log.todo(result_key(info["name"], solver, t), args.rerun_failed):
                    task = {"path": info["path"], "solver": solver, "time_limit": t,
                            "seed": args.seed}
                    tasks.append((task, info))
    print(
        f"{len(instances)} instances, {len(tasks)} runs to do, {args.jobs} at once", file=sys.stderr
    )
    cache: dict[str, RoutingInstance] = {}
    runs = common.run_parallel(__file__, tasks, args.jobs, args.timeout_factor)
    for done, (task, info, out) in enumerate(runs, 1):
        rec = finish_record(task, info, out, cache)
        log.add(result_key(info["name"], task["solver"], task["time_limit"]), rec)
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
    return log.raw


# --------------------------------------------------------------------------- markdown


def render(raw: dict) -> str:
    results = list(raw.get("results", {}).values())
    meta = raw.get("meta", {})
    machine = f"{common.machine_line(meta['machine'])}." if meta.get("machine") else None
    lines = [
        "Each cell is `100 * (cost - ref) / ref` in percent for one run (one process, one core,"
        " the seed in the raw file); cost recomputed by `ahd.problems.verify`. Bold: the best cost"
        " in the row at that time limit. A word instead of a number: the run failed that way"
        " (infeasible, error, timeout). The first `mean` row averages over the instances every"
        " column of that time limit solved, the second over those the column itself solved;"
        " `wins vs OR-Tools` counts instances where the column's cost is strictly lower than"
        " OR-Tools' at the same time limit.",
        "",
    ]
    share = common.cpu_shares(results)
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
    return common.markdown_report("Routing quality", meta.get("commands", []), machine, lines,
                                  machine_first=True)


# Table pieces shared with ortools_pipeline.py: columns are (time limit, solver), rows
# instances, ``gaps`` maps (name, solver, time) to the gap of each verified run.


def layout(recs: list[dict], order: tuple[str, ...]) -> tuple[list, dict, list]:
    """Columns (time, solver) in table order, records by (name, solver, time), (n, name) rows."""
    times = sorted({r["time_limit"] for r in recs})
    solvers = [s for s in order if any(r["solver"] == s for r in recs)]
    solvers += sorted({r["solver"] for r in recs} - set(solvers))
    cols = [
        (t, s)
        for t in times
        for s in solvers
        if any(r["solver"] == s and r["time_limit"] == t for r in recs)
    ]
    by = {(r["name"], r["solver"], r["time_limit"]): r for r in recs}
    return cols, by, sorted({(r["n"], r["name"]) for r in recs})


def instance_table(cols, names, by, gaps, per_instance: bool = True) -> list[str]:
    """Header and one row per instance: each column's gap, bold where its cost is the best of
    the row at that time limit, or the word for how the run failed."""
    rows = []
    for n, name in names if per_instance else []:
        cells = []
        for t, s in cols:
            rec, g = by.get((name, s, t)), gaps.get((name, s, t))
            ok = [r["cost"] for t2, s2 in cols
                  if t2 == t and (r := by.get((name, s2, t))) and r.get("status") == "ok"]
            cell = f"{g:.2f}" if g is not None else (rec or {}).get("status", "")
            cells.append(f"**{cell}**" if g is not None and rec["cost"] == min(ok) else cell)
        rows.append([name, n, *cells])
    return common.markdown_table(["instance", "n", *(f"{s} {t:g}s" for t, s in cols)], rows)


def solved_by_all(cols, names, gaps, t: float) -> list[str]:
    """The instances every column of time limit ``t`` solved: where means are comparable."""
    same_t = [s2 for t2, s2 in cols if t2 == t]
    return [name for _, name in names if all((name, s2, t) in gaps for s2 in same_t)]


def wins_vs_ortools(by, names, s: str, t: float) -> tuple[int, int]:
    """Instances where column (t, s) is strictly cheaper than OR-Tools, of those OR-Tools solved."""
    pairs = [(by.get((name, s, t)), by.get((name, "ortools", t))) for _, name in names]
    pairs = [(a, b) for a, b in pairs if a and b and b.get("status") == "ok"]
    return sum(a.get("status") == "ok" and a["cost"] < b["cost"] for a, b in pairs), len(pairs)


def summary_row(label: str, cells: list[str]) -> str:
    return f"| {label} | | " + " | ".join(cells) + " |"


def _table(kind: str, recs: list[dict]) -> list[str]:
    cols, by, names = layout(recs, ALL_SOLVERS)
    gaps = {key: r["gap"] for key, r in by.items() if "gap" in r}
    out = [f"## {KIND_OF_SET.get(kind, kind)}", "", *instance_table(cols, names, by, gaps)]
    common_cells, own_cells, win_cells = [], [], []
    for t, s in cols:
        g = [gaps[(name, s, t)] for name in solved_by_all(cols, names, gaps, t)]
        common_cells.append(f"{np.mean(g):.2f} ({len(g)})" if g else "")
        own = [r["gap"] for r in recs if r["solver"] == s and r["time_limit"] == t and "gap" in r]
        tried = sum(r["solver"] == s and r["time_limit"] == t for r in recs)
        own_cells.append(f"{np.mean(own):.2f} ({len(own)}/{tried})" if own else f"- (0/{tried})")
        wins, pairs = wins_vs_ortools(by, names, s, t)
        here = (t, "ortools") in cols
        win_cells.append("" if s == "ortools" or not here else f"{wins}/{pairs}")
    out += [
        summary_row("mean, instances all columns solved (count)", common_cells),
        summary_row("mean, instances this column solved (solved/run)", own_cells),
        summary_row("wins vs OR-Tools", win_cells),
        "",
    ]
    return out


# --------------------------------------------------------------------------- CLI


def add_set_options(p) -> None:
    """The instance and time options routing_quality.py and ortools_pipeline.py share."""
    p.add_argument("--cvrp-dir", help="folder with X-*.vrp and bks.csv")
    p.add_argument("--time", type=float, nargs="+", default=[10.0], help="time limits (s)")
    p.add_argument("--max-n", type=int, default=500, help="largest DIMENSION (depot included)")
    p.add_argument("--limit", type=int, default=0, help="first K instances of each set")
    p.add_argument("--instances", nargs="+", help="only these instance names")


def parse_args(argv=None):
    p = common.base_parser(__doc__, "benchmarks/results/routing_quality.md", jobs=1, seed=True,
                           resume=True, worker=True)
    add_set_options(p)
    p.add_argument("--tsp-dir", help="folder with *.tsp and opt.csv")
    p.add_argument(
        "--solvers", nargs="+", default=["ahd", "ortools", "pyvrp", "elkai"], choices=ALL_SOLVERS
    )
    return p.parse_args(argv)


def main(argv=None) -> int:
    return common.resumable_main(parse_args(argv), worker, run_all, render)


if __name__ == "__main__":
    sys.exit(main())
