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
``ahd.heuristic_file``; default: the seed pool).

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

import argparse
import hashlib
import json
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import load_instance, machine_info, machine_line, solve_pyvrp  # noqa: E402
from routing_quality import (  # noqa: E402
    _sub_instance,
    list_instances,
    load_raw,
    result_key,
    run_task,
    save_raw,
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
        x_args = argparse.Namespace(
            cvrp_dir=args.cvrp_dir, tsp_dir=None, instances=args.instances, max_n=args.max_n,
            limit=args.limit,
        )
        for info in list_instances(x_args):
            found.append({**info, "set": "x", "index": None})
    if args.synthetic:
        found += list_synthetic(args.synthetic, args.limit)
    return found


# --------------------------------------------------------------------------- worker


def _pools(heuristic: str | None) -> dict:
    if heuristic is None:
        return {}
    from ahd.heuristic_file import load_heuristic_file

    return load_heuristic_file(heuristic).lns_kwargs()


def _run_solver(solver: str, inst: RoutingInstance, time_limit: float, seed: int, pools: dict):
    """Routes, cost and per-stage details of one solver run."""
    if solver == "pyvrp":
        routes, cost = solve_pyvrp(inst, time_limit, seed=seed)
        return routes, cost, []
    from ahd.problems.engine.config import LNSConfig
    from ahd.problems.pipelines import run_pipeline

    config = LNSConfig(time_limit=time_limit, seed=seed)
    res = run_pipeline(solver, inst, time_limit, config=config, **pools)
    stages = [
        {"name": s.name, "cost": s.cost, "seconds": round(s.seconds, 3), **s.detail}
        for s in res.stages
    ]
    return res.routes, res.cost, stages


def worker(task: dict) -> dict:
    """Run one task in this process (after an untimed warm-up) and report its solution."""
    inst = task_instance(task)
    pools = _pools(task.get("heuristic"))
    if task["solver"] != "pyvrp":  # numba compilation (and OR-Tools import) off the clock
        _run_solver(task["solver"], _sub_instance(inst), 0.2, task["seed"], pools)
    t, c = time.perf_counter(), time.process_time()
    routes, cost, stages = _run_solver(
        task["solver"], inst, task["time_limit"], task["seed"], pools
    )
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return {
        "routes": [[int(x) for x in r] for r in routes],
        "reported_cost": float(cost),
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "stages": stages,
    }


# --------------------------------------------------------------------------- parent side


def heuristic_tag(path: str | None) -> str:
    """``seed pool`` or ``NAME (sha256:12 hex)``: what the LNS ran, recorded in the raw file."""
    if path is None:
        return "seed pool"
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    return f"{Path(path).name} (sha256:{digest})"


def finish_record(task: dict, info: dict, out: dict, cache: dict) -> dict:
    """The raw record of one run, with the cost recomputed by the trusted verifier."""
    from ahd.problems.verify import verify

    rec = {k: task[k] for k in ("solver", "time_limit", "seed")}
    rec.update({k: info[k] for k in ("name", "set", "n", "ref")})
    rec.update(out)
    if "routes" not in out:
        return rec
    key = (task["path"], task.get("index"))
    try:
        if key not in cache:
            cache[key] = task_instance(task)
        cost = verify(cache[key], out["routes"])
    except Exception as exc:  # InfeasibleSolution or anything a broken result raises
        rec.update(status="infeasible", error=str(exc))
        return rec
    rec.update(status="ok", cost=cost)
    if info["ref"]:
        rec["gap"] = 100 * (cost - info["ref"]) / info["ref"]
    return rec


def plan(args, results: dict, instances: list[dict]) -> list[tuple[dict, dict]]:
    """Tasks not yet recorded (or recorded as failed, with ``--rerun-failed``)."""
    tasks = []
    for t in args.time:
        for info in instances:
            for solver in args.solvers:
                old = results.get(result_key(info["name"], solver, t))
                if old and (old.get("status") == "ok" or not args.rerun_failed):
                    continue
                task = {
                    "path": info["path"], "index": info["index"], "solver": solver,
                    "time_limit": t, "seed": args.seed, "heuristic": args.heuristic,
                }
                tasks.append((task, info))
    return tasks


def run_all(args, raw_path: Path) -> dict:
    raw = load_raw(raw_path)
    meta = raw.setdefault("meta", {})
    tag = heuristic_tag(args.heuristic)
    if meta.setdefault("heuristic", tag) != tag:
        sys.exit(f"{raw_path} holds runs of {meta['heuristic']}, not {tag}; use another --out")
    meta.update(machine=machine_info())
    command = " ".join(shlex.quote(a) for a in ["python", *sys.argv])
    if command not in meta.setdefault("commands", []):
        meta["commands"].append(command)
    results = raw.setdefault("results", {})
    instances = list_all(args)
    tasks = plan(args, results, instances)
    print(f"{len(instances)} instances, {len(tasks)} runs to do, {args.jobs} at once",
          file=sys.stderr)
    save_raw(raw_path, raw)
    cache: dict = {}
    script = str(Path(__file__).resolve())
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            pool.submit(
                run_task, task, script, args.timeout_factor * task["time_limit"] + 120
            ): (task, info)
            for task, info in tasks
        }
        for done, fut in enumerate(as_completed(futures), 1):
            task, info = futures[fut]
            rec = finish_record(task, info, fut.result(), cache)
            results[result_key(info["name"], task["solver"], task["time_limit"])] = rec
            save_raw(raw_path, raw)
            what = f"cost {rec['cost']:.6g}" if rec["status"] == "ok" else rec["status"].upper()
            print(f"[{done}/{len(tasks)}] {info['name']:16s} {task['solver']:18s} "
                  f"{task['time_limit']:g}s  {what}" + (f"  ({rec['error']})"
                                                       if rec.get("error") else ""),
                  file=sys.stderr, flush=True)
    return raw


# --------------------------------------------------------------------------- markdown


def render(raw: dict) -> str:
    meta = raw.get("meta", {})
    results = list(raw.get("results", {}).values())
    lines = ["# OR-Tools pipelines", ""]
    if meta.get("machine"):
        lines += [f"Machine: {machine_line(meta['machine'])}.", ""]
    lines += [f"Command: `{cmd}`" for cmd in meta.get("commands", [])]
    lines += [
        "",
        f"LNS operators: {meta.get('heuristic', 'seed pool')}. Every solver gets the same"
        " search time per instance (numba compilation in an untimed warm-up); one process, one"
        " core per run; costs recomputed by `ahd.problems.verify`. `ortools-warmstart`: the LNS"
        " for half the time, then OR-Tools guided local search from its solution.",
        "",
    ]
    share = [r["cpu_s"] / r["wall_s"] for r in results if r.get("wall_s", 0) > 1 and "cpu_s" in r]
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
    return "\n".join(lines) + "\n"


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
        out[(r["name"], r["solver"], r["time_limit"])] = 100 * (r["cost"] - ref) / ref
    return out


def _table(title: str, recs: list[dict], per_instance: bool) -> list[str]:
    times = sorted({r["time_limit"] for r in recs})
    solvers = [s for s in ALL_SOLVERS if any(r["solver"] == s for r in recs)]
    cols = [(t, s) for t in times for s in solvers
            if any(r["solver"] == s and r["time_limit"] == t for r in recs)]
    by = {(r["name"], r["solver"], r["time_limit"]): r for r in recs}
    gaps = _gaps(recs)
    names = sorted({(r["n"], r["name"]) for r in recs})
    out = [f"## {title}", "",
           "| instance | n | " + " | ".join(f"{s} {t:g}s" for t, s in cols) + " |",
           "|---|---:|" + "---:|" * len(cols)]
    if per_instance:
        for n, name in names:
            cells = []
            for t, s in cols:
                rec = by.get((name, s, t))
                gap = gaps.get((name, s, t))
                cell = f"{gap:.2f}" if gap is not None else (rec or {}).get("status", "")
                row = [by.get((name, s2, t)) for t2, s2 in cols if t2 == t]
                best = min((r["cost"] for r in row if r and r.get("status") == "ok"),
                           default=None)
                if gap is not None and rec["cost"] == best:
                    cell = f"**{cell}**"
                cells.append(cell)
            out.append(f"| {name} | {n} | " + " | ".join(cells) + " |")
    out += _summary_rows(cols, names, by, gaps)
    out.append("")
    return out


def _summary_rows(cols, names, by, gaps) -> list[str]:
    mean_cells, cost_cells, win_cells = [], [], []
    for t, s in cols:
        same_t = [s2 for t2, s2 in cols if t2 == t]
        common = [name for _, name in names
                  if all((name, s2, t) in gaps for s2 in same_t)]
        g = [gaps[(name, s, t)] for name in common]
        mean_cells.append(f"{np.mean(g):.2f} ({len(g)})" if g else "")
        c = [by[(name, s, t)]["cost"] for name in common]
        cost_cells.append(f"{np.mean(c):.6g}" if c else "")
        pairs = [(by.get((name, s, t)), by.get((name, "ortools", t))) for _, name in names]
        pairs = [(a, b) for a, b in pairs if a and b and b.get("status") == "ok"]
        wins = sum(a.get("status") == "ok" and a["cost"] < b["cost"] for a, b in pairs)
        win_cells.append("" if s == "ortools" or not pairs else f"{wins}/{len(pairs)}")
    return [
        "| mean gap, instances all columns solved (count) | | " + " | ".join(mean_cells) + " |",
        "| mean cost, same instances | | " + " | ".join(cost_cells) + " |",
        "| wins vs OR-Tools | | " + " | ".join(win_cells) + " |",
    ]


# --------------------------------------------------------------------------- CLI


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cvrp-dir", help="folder with X-*.vrp and bks.csv")
    p.add_argument("--synthetic", help="cvrp100_test.npy (rows [demand, x, y], capacity 50)")
    p.add_argument("--heuristic", help="exported heuristic file (default: the seed pool)")
    p.add_argument("--time", type=float, nargs="+", default=[10.0], help="time limits (s)")
    p.add_argument("--max-n", type=int, default=500, help="largest X DIMENSION (depot included)")
    p.add_argument("--limit", type=int, default=0, help="first K instances of each set")
    p.add_argument("--instances", nargs="+", help="only these X instance names")
    p.add_argument("--solvers", nargs="+", default=list(DEFAULT_SOLVERS), choices=ALL_SOLVERS)
    p.add_argument("--jobs", type=int, default=1, help="parallel runs; at most one per core")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="benchmarks/results/ortools_pipeline.md")
    p.add_argument("--from-json", action="store_true", help="only re-render OUT from its raw json")
    p.add_argument("--rerun-failed", action="store_true", help="redo recorded non-ok runs")
    p.add_argument("--timeout-factor", type=float, default=3.0,
                   help="kill a run after FACTOR * time + 120 s")
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
        if not (args.cvrp_dir or args.synthetic):
            sys.exit("give --cvrp-dir and/or --synthetic (or --from-json)")
        if args.heuristic:
            from ahd.heuristic_file import HeuristicFileError, load_heuristic_file

            try:
                load_heuristic_file(args.heuristic)  # fail here, not in every worker
            except HeuristicFileError as exc:
                sys.exit(str(exc))
            args.heuristic = str(Path(args.heuristic).resolve())
        out.parent.mkdir(parents=True, exist_ok=True)
        raw = run_all(args, raw_path)
    out.write_text(render(raw))
    print(f"wrote {out} and {raw_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
