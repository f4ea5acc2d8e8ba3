"""OR-Tools alone, OR-Tools warm-started from an (evolved) LNS, the LNS alone, and PyVRP.

Every solver gets the same time budget per instance (``--time`` seconds of search); the
question is whether handing an evolved heuristic's solution to OR-Tools beats OR-Tools alone,
and how it compares with the heuristic itself and with PyVRP. Sets:

- CVRPLIB X (``--cvrp-dir``, instances with DIMENSION <= ``--max-n``; gap to ``bks.csv``);
- the 64 CVRP100 test instances of the G-LNS/ReEvo convention (``--synthetic FILE.npy``, rows
  ``[demand, x, y]``, depot first, capacity 50, float Euclidean costs; no reference values, so
  the gap is to the best cost any solver found for the instance).

Solvers (``--solvers``): ``ortools`` (PATH_CHEAPEST_ARC + guided local search),
``ortools-warmstart`` (``lns_then_ortools``: the LNS for half the budget, OR-Tools GLS from its
solution for the rest), ``lns`` (the LNS alone), ``pyvrp`` (``baselines.solve_pyvrp``), and on
request ``ortools-then-lns`` and ``ortools-operator`` (the destroy/repair pools inside
OR-Tools' search). The LNS runs the pools of ``--heuristic FILE`` (an exported heuristic, see
``ahd.problems.heuristic_file``; default: the seed pool).

As in ``routing_quality.py``, every run is a fresh single-threaded process (at most ``--jobs``
at once), numba compilation happens in an untimed warm-up, the parent re-verifies every
solution, and ``OUT`` with ``.raw.json`` in place of ``.md`` records every run, so rerunning
the same command resumes (``--from-json`` only re-renders the table). A raw file belongs to
one heuristic: resuming it with another ``--heuristic`` is refused.

Example::

    python benchmarks/ortools_pipeline.py --cvrp-dir ../shared/data/cvrplib-x \\
        --synthetic ../shared/data/synthetic/cvrp100_test.npy --time 10 --max-n 500 \\
        --heuristic generated/cvrp_team.py --jobs 2 --out benchmarks/results/ortools_pipeline.md
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from baselines import load_instance, solve_pyvrp  # noqa: E402
from routing_quality import (  # noqa: E402
    _sub_instance,
    add_set_options,
    instance_table,
    layout,
    list_instances,
    result_key,
    solved_by_all,
    summary_row,
    timed_solution,
    verify_routes,
    wins_vs_ortools,
)

from ahd.problems.instance import RoutingInstance  # noqa: E402

PIPELINE_SOLVERS = ("ortools", "ortools-warmstart", "lns", "ortools-then-lns", "ortools-operator")
ALL_SOLVERS = (*PIPELINE_SOLVERS, "pyvrp")
DEFAULT_SOLVERS = ("ortools", "ortools-warmstart", "lns", "pyvrp")
#: Capacity of the G-LNS/ReEvo CVRP test sets.
SYNTHETIC_CAPACITY = 50.0


# --------------------------------------------------------------------------- instances


def synthetic_instance(path: str, index: int) -> RoutingInstance:
    """Instance ``index`` of a ``cvrp*_test.npy`` file (rows ``[demand, x, y]``, depot first)."""
    from ahd.problems.generators import make_instance

    data = np.load(path)[index]
    name = f"{Path(path).stem}-{index:02d}"
    return make_instance(name, "cvrp", data[:, 1:], data[:, 0], SYNTHETIC_CAPACITY)


def task_instance(task: dict) -> RoutingInstance:
    if task.get("index") is not None:
        return synthetic_instance(task["path"], task["index"])
    return load_instance(task["path"])


def list_synthetic(path: str, limit: int) -> list[dict]:
    """One entry per instance of a ``cvrp*_test.npy`` file (the first ``limit`` if set)."""
    shape = np.load(path, mmap_mode="r").shape
    count = min(shape[0], limit) if limit else shape[0]
    stem = Path(path).stem
    return [
        {"name": f"{stem}-{i:02d}", "set": "synthetic", "n": int(shape[1]), "ref": None,
         "path": path, "index": i}
        for i in range(count)
    ]


def list_all(args) -> list[dict]:
    found = []
    if args.cvrp_dir:
        found += [{**info, "set": "x", "index": None} for info in list_instances(args)]
    if args.synthetic:
        found += list_synthetic(args.synthetic, args.limit)
    return found


# --------------------------------------------------------------------------- worker


def _pools(heuristic: str | None) -> dict:
    if heuristic is None:
        return {}
    from ahd.problems.heuristic_file import load_heuristic_file

    return load_heuristic_file(heuristic).lns_kwargs()


def _run_solver(solver: str, inst: RoutingInstance, time_limit: float, seed: int, pools: dict):
    """Routes, cost and per-stage details of one solver run."""
    if solver == "pyvrp":
        routes, cost = solve_pyvrp(inst, time_limit, seed=seed)
        return routes, cost, {"stages": []}
    from ahd.problems.engine.config import LNSConfig
    from ahd.problems.pipelines import run_pipeline

    config = LNSConfig(time_limit=time_limit, seed=seed)
    res = run_pipeline(solver, inst, time_limit, config=config, **pools)
    stages = [
        {"name": s.name, "cost": s.cost, "seconds": round(s.seconds, 3), **s.detail}
        for s in res.stages
    ]
    return res.routes, res.cost, {"stages": stages}


def worker(task: dict) -> dict:
    """Run one task in this process (after an untimed warm-up) and report its solution."""
    inst = task_instance(task)
    pools = _pools(task.get("heuristic"))
    if task["solver"] != "pyvrp":  # numba compilation (and OR-Tools import) off the clock
        _run_solver(task["solver"], _sub_instance(inst), 0.2, task["seed"], pools)
    return timed_solution(lambda: _run_solver(
        task["solver"], inst, task["time_limit"], task["seed"], pools))


# --------------------------------------------------------------------------- parent side


def heuristic_tag(path: str | None) -> str:
    """``seed pool`` or ``NAME (sha256:12 hex)``: what the LNS ran, recorded in the raw file."""
    if path is None:
        return "seed pool"
    return f"{Path(path).name} (sha256:{common.file_sha256(path)[:12]})"


def finish_record(task: dict, info: dict, out: dict, cache: dict) -> dict:
    """The raw record of one run, with the cost recomputed by the trusted verifier."""
    rec = {k: task[k] for k in ("solver", "time_limit", "seed")}
    rec.update({k: info[k] for k in ("name", "set", "n", "ref")}, **out)
    key = (task["path"], task.get("index"))
    verify_routes(rec, cache, key, lambda: task_instance(task))
    if rec.get("status") == "ok" and info["ref"]:
        rec["gap"] = common.gap(rec["cost"], info["ref"])
    return rec


def run_all(args) -> dict:
    """Run every (time, instance, solver) not yet recorded in ``OUT.raw.json``; the raw data."""
    if not (args.cvrp_dir or args.synthetic):
        sys.exit("give --cvrp-dir and/or --synthetic (or --from-json)")
    if args.heuristic:
        from ahd.problems.heuristic_file import HeuristicFileError, load_heuristic_file

        try:
            load_heuristic_file(args.heuristic)  # fail here, not in every worker
        except HeuristicFileError as exc:
            sys.exit(str(exc))
        args.heuristic = str(Path(args.heuristic).resolve())
    log = common.ResultLog(args.out.with_suffix(".raw.json"))
    tag = heuristic_tag(args.heuristic)
    if log.meta.setdefault("heuristic", tag) != tag:
        sys.exit(f"{log.path} holds runs of {log.meta['heuristic']}, not {tag}; use another --out")
    log.stamp(__file__)
    instances = list_all(args)
    tasks = [
        ({"path": info["path"], "index": info["index"], "solver": solver, "time_limit": t,
          "seed": args.seed, "heuristic": args.heuristic}, info)
        for t in args.time for info in instances for solver in args.solvers
        if log.todo(result_key(info["name"], solver, t), args.rerun_failed)
    ]
    print(f"{len(instances)} instances, {len(tasks)} runs to do, {args.jobs} at once",
          file=sys.stderr)
    cache: dict = {}
    runs = common.run_parallel(__file__, tasks, args.jobs, args.timeout_factor)
    for done, (task, info, out) in enumerate(runs, 1):
        rec = finish_record(task, info, out, cache)
        log.add(result_key(info["name"], task["solver"], task["time_limit"]), rec)
        what = f"cost {rec['cost']:.6g}" if rec["status"] == "ok" else rec["status"].upper()
        print(f"[{done}/{len(tasks)}] {info['name']:16s} {task['solver']:18s} "
              f"{task['time_limit']:g}s  {what}" + (f"  ({rec['error']})"
                                                   if rec.get("error") else ""),
              file=sys.stderr, flush=True)
    return log.raw


# --------------------------------------------------------------------------- markdown


def render(raw: dict) -> str:
    meta = raw.get("meta", {})
    results = list(raw.get("results", {}).values())
    machine = f"{common.machine_line(meta['machine'])}." if meta.get("machine") else None
    lines = [
        f"LNS operators: {meta.get('heuristic', 'seed pool')}. Every solver gets the same"
        " search time per instance (numba compilation in an untimed warm-up); one process, one"
        " core per run; costs recomputed by `ahd.problems.verify`. `ortools-warmstart`: the LNS"
        " for half the time, then OR-Tools guided local search from its solution.",
        "",
    ]
    share = common.cpu_shares(results)
    if share:
        lines += [
            f"CPU time / wall time of the runs: median {np.median(share):.2f}, min"
            f" {np.min(share):.2f} over {len(share)} runs (well below 1: the machine was"
            " shared).",
            "",
        ]
    for set_name, title in (("x", "CVRPLIB X (gap to BKS, %)"),
                            ("synthetic", "CVRP100 test set (gap to the best of the row, %)")):
        recs = [r for r in results if r.get("set") == set_name]
        if recs:
            lines += _table(title, recs, per_instance=set_name == "x")
    return common.markdown_report("OR-Tools pipelines", meta.get("commands", []), machine, lines,
                                  machine_first=True)


def _gaps(recs: list[dict]) -> dict:
    """Gap per (name, solver, time): to the reference, else to the best ok cost of the row."""
    best: dict = {}
    for r in recs:
        if r.get("status") == "ok":
            key = (r["name"], r["time_limit"])
            best[key] = min(best.get(key, np.inf), r["cost"])
    out = {}
    for r in recs:
        if r.get("status") != "ok":
            continue
        ref = r.get("ref") or best[(r["name"], r["time_limit"])]
        out[(r["name"], r["solver"], r["time_limit"])] = common.gap(r["cost"], ref)
    return out


def _table(title: str, recs: list[dict], per_instance: bool) -> list[str]:
    cols, by, names = layout(recs, ALL_SOLVERS)
    gaps = _gaps(recs)
    out = [f"## {title}", "", *instance_table(cols, names, by, gaps, per_instance)]
    mean_cells, cost_cells, win_cells = [], [], []
    for t, s in cols:
        solved = solved_by_all(cols, names, gaps, t)
        g = [gaps[(name, s, t)] for name in solved]
        mean_cells.append(f"{np.mean(g):.2f} ({len(g)})" if g else "")
        c = [by[(name, s, t)]["cost"] for name in solved]
        cost_cells.append(f"{np.mean(c):.6g}" if c else "")
        wins, pairs = wins_vs_ortools(by, names, s, t)
        win_cells.append("" if s == "ortools" or not pairs else f"{wins}/{pairs}")
    return out + [
        summary_row("mean gap, instances all columns solved (count)", mean_cells),
        summary_row("mean cost, same instances", cost_cells),
        summary_row("wins vs OR-Tools", win_cells),
        "",
    ]


# --------------------------------------------------------------------------- CLI


def parse_args(argv=None):
    p = common.base_parser(__doc__, "benchmarks/results/ortools_pipeline.md", jobs=1, seed=True,
                           resume=True, worker=True)
    add_set_options(p)
    p.add_argument("--synthetic", help="cvrp100_test.npy (rows [demand, x, y], capacity 50)")
    p.add_argument("--heuristic", help="exported heuristic file (default: the seed pool)")
    p.add_argument("--solvers", nargs="+", default=list(DEFAULT_SOLVERS), choices=ALL_SOLVERS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    return common.resumable_main(parse_args(argv), worker, run_all, render)


if __name__ == "__main__":
    sys.exit(main())
