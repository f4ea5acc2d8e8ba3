"""Routing at scale: the ahd LNS against PyVRP (and OR-Tools) on CVRPLIB X with n > 500 and on
the Belgium XXL instances (3,000 to 20,000 customers), over several seeds and time limits.

Every (instance, time limit, seed, solver) run is a fresh single-threaded process
(``common.run_worker``), ``--jobs`` at once, so give it no more jobs than cores. Conventions:

- References. X: ``bks.csv``; Belgium: the ``Cost`` line of each ``.sol``. Before anything runs,
  the parent re-costs every reference ``.sol`` beside a selected instance (X and Belgium) with
  the trusted verifier (``ahd.problems.verify.verify``) and refuses, in one line, a file whose
  recomputed cost differs from its reference: every gap is measured against a checked value.
- Memory. Instances are read with ``distances="auto"``: above 4,000 nodes without a matrix
  (``ahd`` computes distances from coordinates). PyVRP and OR-Tools need the dense integer
  matrix (``baselines.int_matrix``); where it cannot fit, the run is ``no memory`` untried.
  Each worker's address space is limited to ``--mem-gib`` (default: memory available at start
  / ``--jobs``), so a too-large allocation fails there (``no memory``), not in the OOM killer.
- ``ahd``: ``run_lns`` with the default seed pools, after an untimed numba warm-up on a
  10-customer sub-instance of the same distance layout. Its ``time_limit`` bounds the search
  loop only; PyVRP's ``MaxRuntime`` likewise starts after its own construction. The wall time of
  the whole solver call is recorded beside.
- Per run, in ``OUT`` with ``.raw.json`` in place of ``.md`` (saved after each run, so rerunning
  the command resumes; ``--from-json`` only re-renders): verified cost, gap
  ``100 * (cost - ref) / ref``, wall and CPU seconds of the solver call, the worker's peak
  resident memory (``ru_maxrss`` at its end), seconds from the start of the call to the first
  feasible solution (ahd: set-up plus ``trace[0, 0]``; PyVRP: from its per-iteration
  statistics; OR-Tools: not known), ahd's iterations, the SHA-256 of the routes (verified,
  then dropped: at 20,000 customers the routes of every run made the file megabytes), or how
  the run failed (``error``, ``timeout``, ``infeasible``, ``no memory``).
- ``OUT`` (markdown): per set, one row per instance, one column per solver x time limit (mean
  gap over seeds +- standard error), the mean over instances and the paired difference
  ahd - PyVRP; then memory, first feasible and wall time at the smallest time limit; then what
  was not run.

Time limits are seconds or per customer (``--time 60 n/2``: 60 s, and half a second per
customer, the issue's target; a per-customer limit is kept in the records as its negated
factor, ``-0.5``).

Example (the XXL runs need time: raise ``--timeout-factor`` if set-up is slow)::

    python benchmarks/routing_scale.py --time 60 300 --seeds 0 1 2 --solvers ahd pyvrp \\
        --jobs 1 --out benchmarks/results/routing_scale.md
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from baselines import SOLVERS  # noqa: E402
from routing_quality import finish_record, layout, sub_instance, summary_row, timed_solution  # noqa: E402

from ahd.problems.instance import RoutingInstance  # noqa: E402

#: Variants of ahd that show what its large-instance parts are worth: ``ahd-whole`` without
#: decomposition (one LNS on the whole instance), ``ahd-insertion`` also without the savings
#: start (cheapest insertion, as before both), ``ahd-limit`` with the annealing schedule fitted
#: to the time limit (``schedule="limit"``, the default before the anytime schedule).
ALL_SOLVERS = ("ahd", "ahd-whole", "ahd-insertion", "ahd-limit", "pyvrp", "ortools")
SETS = {"x": "CVRPLIB X, n > 500 (gap to BKS, %)",
        "xxl": "Belgium XXL (gap to the checked .sol cost, %)"}
MEMORY_WORDS = ("MemoryError", "bad_alloc", "Cannot allocate memory", "distance matrix needs")
INFEASIBLE_WORDS = ("no feasible", "found no solution")


# --------------------------------------------------------------------------- time limits


def parse_time(text: str) -> float:
    """A limit in seconds (``60``), or per customer: ``n/2`` (half a second per customer),
    ``3n``; per-customer limits are kept as their negated factor (``n/2`` is -0.5)."""
    text = str(text).strip()
    try:
        if text.startswith("n/"):
            factor = 1.0 / float(text[2:])
        elif text.endswith("n"):
            factor = float(text[:-1])
        else:
            seconds = float(text)
            if not seconds > 0:
                raise ValueError
            return seconds
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give seconds (60) or a limit per customer (n/2, 3n)") from None
    if not factor > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the factor must be positive")
    return -factor


def time_key(t: float) -> tuple[bool, float]:
    """Table order: limits in seconds, then per-customer limits (longer on these sizes)."""
    return (t < 0, abs(t))


def time_label(t: float) -> str:
    if t >= 0:
        return f"{t:g} s"
    return "n/2 s" if -t == 0.5 else f"{-t:g}n s"


def seconds(t: float, customers: int) -> float:
    return t if t >= 0 else -t * customers


# --------------------------------------------------------------------------- worker side


def run_ahd(inst: RoutingInstance, time_limit: float, seed: int, box: dict, **options):
    from ahd.problems.engine.lns import LNSConfig, run_lns

    res = run_lns(inst, LNSConfig(time_limit=time_limit, seed=seed, **options))
    box.update(end=time.perf_counter(), search_s=float(res.elapsed),
               first_in_search=float(res.trace[0, 0]) if len(res.trace) else None,
               first_cost=float(res.trace[0, 2]) if len(res.trace) else None,
               iterations=int(res.iterations))
    return res.routes, float(res.cost)


def run_pyvrp(inst: RoutingInstance, time_limit: float, seed: int, box: dict):
    """``baselines.solve_pyvrp``, with ``pyvrp.solve`` wrapped to keep its ``Result``: its
    statistics (one datum and runtime per iteration) give the first feasible best."""
    import pyvrp

    solve = pyvrp.solve

    def keep(*args, **kwargs):
        res = solve(*args, **kwargs)
        box.update(end=time.perf_counter(), search_s=float(res.runtime))
        feasible = [d.best_feas for d in res.stats.data]
        if True in feasible:
            box["first_in_search"] = float(np.sum(res.stats.runtimes[: feasible.index(True) + 1]))
        return res

    pyvrp.solve = keep
    try:
        return SOLVERS["pyvrp"](inst, time_limit, seed=seed)
    finally:
        pyvrp.solve = solve


RUNNERS = {"ahd": run_ahd, "pyvrp": run_pyvrp,
           "ahd-whole": lambda inst, t, seed, box: run_ahd(inst, t, seed, box,
                                                           decompose="off"),
           "ahd-limit": lambda inst, t, seed, box: run_ahd(inst, t, seed, box,
                                                           schedule="limit"),
           "ahd-insertion": lambda inst, t, seed, box: run_ahd(
               inst, t, seed, box, construction="insertion", decompose="off"),
           "ortools": lambda inst, t, seed, box: SOLVERS["ortools"](inst, t, seed=seed)}


def worker(task: dict) -> dict:
    """One run in this process: routes, own cost, wall/CPU seconds, peak memory, first feasible."""
    from ahd.problems.instance_limits import available_memory, matrix_memory_problem
    from ahd.problems.io import read_instance

    if task.get("mem_bytes"):
        resource.setrlimit(resource.RLIMIT_AS, (task["mem_bytes"], resource.RLIM_INFINITY))
    inst = read_instance(task["path"])
    solver, seed = task["solver"], task["seed"]
    if not solver.startswith("ahd"):  # the dense matrix must fit: refuse before allocating
        budget = min(filter(None, (available_memory(), task.get("mem_bytes"))), default=None)
        problem = matrix_memory_problem(inst.n + 1, budget)
        if problem:
            return {"status": "no memory", "error": problem}
    else:
        # numba compilation, untimed, on 10 customers in the same layout (matrix or
        # coordinates), both constructions included
        run_ahd(sub_instance(inst), 0.2, seed, {}, construction="savings")
    box: dict = {"before_mib": peak_mib()}

    def solve():
        box["t0"] = time.perf_counter()
        routes, cost = RUNNERS[solver](inst, task.get("seconds", task["time_limit"]), seed,
                                       box)
        return routes, cost, {k: box[k] for k in ("iterations", "search_s", "first_cost")
                              if box.get(k) is not None}

    out = timed_solution(solve)
    if box.get("first_in_search") is not None:
        setup = box["end"] - box["t0"] - box["search_s"]
        out["first_feasible_s"] = round(setup + box["first_in_search"], 3)
    out.update(peak_mib=peak_mib(), peak_before_call_mib=box["before_mib"])
    return out


def peak_mib() -> float:
    """Peak resident memory of this process so far, MiB (``ru_maxrss`` is KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --------------------------------------------------------------------------- parent side


def dimension(path: Path) -> int:
    """``DIMENSION`` from a VRPLIB header, without reading the coordinates."""
    with open(path) as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key.strip().upper() == "DIMENSION":
                return int(value.strip())
            if "SECTION" in key.upper():
                break
    sys.exit(f"{path}: no DIMENSION line")


def available(args) -> list[dict]:
    """Every instance of both sets (X: DIMENSION > 500), before the name and size filters."""
    from ahd.problems.io import read_reference_values

    bks = Path(args.x_dir) / "bks.csv"
    if args.x_dir and not bks.is_file():
        sys.exit(f"{bks}: no such file (give --x-dir the CVRPLIB X folder, or '' to skip it)")
    refs = read_reference_values(bks) if args.x_dir else {}
    paths = [("x", Path(args.x_dir) / f"{name}.vrp") for name in refs]
    paths += [("xxl", p) for p in sorted(Path(args.xxl_dir).glob("*.vrp"))] if args.xxl_dir else []
    found = [{"set": key, "name": p.stem, "ref": refs.get(p.stem) if key == "x" else None,
              "kind": "cvrp", "path": str(p), "n": dimension(p)} for key, p in paths if p.is_file()]
    found = [i for i in found if i["set"] == "xxl" or i["n"] > 500]
    return sorted(found, key=lambda r: (r["set"], r["n"], r["name"]))


def checked_reference(info: dict) -> RoutingInstance:
    """Read the instance; fill or check ``info["ref"]`` with its verified ``.sol``, or exit."""
    from ahd.problems.io import read_instance, read_solution
    from ahd.problems.verify import verify

    inst = read_instance(info["path"])
    sol = Path(info["path"]).with_suffix(".sol")
    if not sol.is_file():
        if info["ref"] is None:
            sys.exit(f"{sol}: missing; the reference of {info['name']} cannot be checked")
        return inst
    routes, cost = read_solution(sol)
    ref = info["ref"] if info["ref"] is not None else cost
    if ref is None:
        sys.exit(f"{sol}: no Cost line, so {info['name']} has no reference")
    checked = verify(inst, routes)
    if abs(checked - ref) > 1e-6 * max(1.0, abs(ref)):
        sys.exit(f"{sol}: routes re-cost to {checked:.6g}, not the reference {ref:.6g}; "
                 "refusing to measure gaps against it")
    info["ref"] = float(ref)
    return inst


def result_key(name: str, solver: str, time_limit: float, seed: int) -> str:
    return f"{name}|{solver}|{time_limit:g}|{seed}"


def classify(rec: dict) -> dict:
    """Name a failed worker's cause from its last error line: ``no memory`` or ``infeasible``."""
    err = str(rec.get("error", "")) if rec.get("status") == "error" else ""
    for word, signs in (("no memory", MEMORY_WORDS), ("infeasible", INFEASIBLE_WORDS)):
        if any(w in err for w in signs):
            return {**rec, "status": word}
    return rec


def run_all(args) -> dict:
    """Check the references, then run every (time, instance, seed, solver) not yet recorded."""
    from ahd.problems.instance_limits import available_memory

    every = available(args)
    if not every:
        sys.exit("no instances: give --x-dir and/or --xxl-dir with .vrp files")
    chosen = [i for i in every if i["n"] <= (args.max_n or i["n"]) and (not args.instances or any(
        fnmatch.fnmatchcase(i["name"], p) for p in args.instances))]
    cache = {info["path"]: checked_reference(info) for info in chosen}
    log = common.ResultLog(args.out.with_suffix(".raw.json"))
    log.stamp(__file__)
    meta = log.meta
    meta["available"] = {i["name"]: {"set": i["set"], "n": i["n"]} for i in every}
    for key, new in (("times", args.time), ("seeds", args.seeds), ("solvers", args.solvers)):
        meta[key] = sorted(set(meta.get(key, [])) | set(new),
                           key=time_key if key == "times" else None)
    free = available_memory()
    mem = int(args.mem_gib * 2**30) if args.mem_gib else (free // args.jobs if free else None)
    tasks = [({"path": info["path"], "solver": s, "time_limit": t, "seed": seed,
               "seconds": seconds(t, info["n"] - 1), "mem_bytes": mem}, info)
             for t in args.time for info in chosen for seed in args.seeds for s in args.solvers
             if log.todo(result_key(info["name"], s, t, seed), args.rerun_failed)]
    print(f"{len(chosen)} instances, references checked; {len(tasks)} runs to do, {args.jobs} at"
          f" once, {mem / 2**30 if mem else float('inf'):.1f} GiB each", file=sys.stderr)
    runs = common.run_parallel(__file__, tasks, args.jobs, args.timeout_factor)
    for done, (task, info, out) in enumerate(runs, 1):
        rec = classify(finish_record(task, info, out, cache))
        rec["set"] = info["set"]
        routes = rec.pop("routes", None)  # verified above; too large to keep at this scale
        if routes is not None:
            rec["routes_sha256"] = hashlib.sha256(json.dumps(routes).encode()).hexdigest()
        log.add(result_key(info["name"], task["solver"], task["time_limit"], task["seed"]), rec)
        what = f"gap {rec['gap']:7.3f}%" if rec["status"] == "ok" else rec["status"].upper()
        extra = "".join(f"  {k} {rec[k]:g}" for k in ("wall_s", "peak_mib", "first_feasible_s")
                        if k in rec)
        print(f"[{done}/{len(tasks)}] {info['name']:12s} {task['solver']:7s}"
              f" {time_label(task['time_limit'])} seed {task['seed']}  {what}{extra}"
              + (f"  ({rec['error']})" if rec.get("error") else ""), file=sys.stderr, flush=True)
    return log.raw


# --------------------------------------------------------------------------- markdown


def fmt(values: list[float], digits: int = 2) -> str:
    """Mean +- standard error, or the value alone when there is one."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    m, se = common.mean_se(values)
    return f"{m:.{digits}f} ± {se:.{digits}f}"


def gap_cell(runs: list[dict]) -> str:
    gaps = [r["gap"] for r in runs if "gap" in r]
    if not gaps:
        return "/".join(sorted({r.get("status", "?") for r in runs}))
    return fmt(gaps) + ("" if len(gaps) == len(runs) else f" ({len(gaps)}/{len(runs)} ok)")


def gap_table(title: str, recs: list[dict]) -> list[str]:
    cols, _, names = layout(recs, ALL_SOLVERS)
    cols.sort(key=lambda col: time_key(col[0]))
    runs: dict[tuple, list[dict]] = {}
    for r in recs:
        runs.setdefault((r["name"], r["solver"], r["time_limit"]), []).append(r)
    gaps = {k: [r["gap"] for r in v if "gap" in r] for k, v in runs.items()}
    mean_gap = {k: float(np.mean(g)) for k, g in gaps.items() if g}
    rows = [[name, n - 1, *(gap_cell(runs.get((name, s, t), [])) for t, s in cols)]
            for n, name in names]
    means, diffs = [], []
    for t, s in cols:
        both = [name for _, name in names if all((name, s2, t) in mean_gap
                                                 for t2, s2 in cols if t2 == t)]
        means.append(f"{fmt([mean_gap[(x, s, t)] for x in both])} ({len(both)})" if both else "")
        ok = {(r["name"], r["seed"], r["solver"]): r["gap"] for r in recs
              if r["time_limit"] == t and "gap" in r}
        pairs = [ok[(x, seed, "ahd")] - g for (x, seed, s2), g in ok.items()
                 if s2 == "pyvrp" and (x, seed, "ahd") in ok]
        lower = sum(d < 0 for d in pairs)
        diffs.append(f"{fmt(pairs)} (ahd lower in {lower}/{len(pairs)})"
                     if s == "ahd" and pairs else "")
    header = ["instance", "customers", *(f"{s} {time_label(t)}" for t, s in cols)]
    return [f"## {title}", "", *common.markdown_table(header, rows),
            summary_row("mean over instances every column at this time solved (instances)", means),
            *([summary_row("ahd - pyvrp, paired by instance and seed", diffs)]
              if any(diffs) else []), "", *monotone(recs)]


def monotone(recs: list[dict]) -> list[str]:
    """Per solver, how many (instance, seed) runs ended worse with the longer time limit."""
    lines = []
    for s in ALL_SOLVERS:
        cost = {(r["name"], r["seed"], r["time_limit"]): r["cost"] for r in recs
                if r["solver"] == s and "gap" in r}
        times = sorted({t for _, _, t in cost}, key=time_key)
        for lo, hi in zip(times[:-1], times[1:], strict=True):
            pairs = [(cost[(x, seed, lo)], c) for (x, seed, t), c in cost.items()
                     if t == hi and (x, seed, lo) in cost]
            worse = sum(c_hi > c_lo for c_lo, c_hi in pairs)
            if pairs:
                lines.append(f"- {s}: {worse} of {len(pairs)} (instance, seed) runs ended worse"
                             f" at {time_label(hi)} than at {time_label(lo)}.")
    return [*lines, ""] if lines else []


def cost_table(recs: list[dict]) -> list[str]:
    t = min((r["time_limit"] for r in recs), key=time_key)
    recs = [r for r in recs if r["time_limit"] == t]
    solvers = [s for s in ALL_SOLVERS if any(r["solver"] == s for r in recs)]
    names = sorted({(r["set"], r["n"], r["name"]) for r in recs})
    rows = []
    for _, n, name in names:
        row: list = [name, n - 1]
        for s in solvers:
            mine = [r for r in recs if r["name"] == name and r["solver"] == s]
            ok = [r for r in mine if "gap" in r]
            for key, digits in (("peak_mib", 0), ("first_feasible_s", 2), ("wall_s", 1)):
                v = [r[key] for r in ok if key in r]
                row.append(f"{np.mean(v):.{digits}f}" if v else "")
            if s.startswith("ahd"):
                v = [common.gap(r["first_cost"], r["ref"]) for r in ok if "first_cost" in r]
                row.append(f"{np.mean(v):.2f}" if v else "")
            if mine and not ok:
                row[-3 - s.startswith("ahd")] = gap_cell(mine)
        rows.append(row)
    header = ["instance", "customers", *(f"{s} {what}" for s in solvers for what in (
        ("MiB", "first feasible s", "wall s") + (("start gap %",) if s.startswith("ahd") else ())))]
    return [f"## Peak memory and time at {time_label(t)} (mean over seeds)", "",
            *common.markdown_table(header, rows), ""]


def not_run(meta: dict, recs: list[dict]) -> list[str]:
    """What the recorded grid (instances x time limits x solvers x seeds) lacks, in words."""
    names, times = list(meta.get("available", {})), meta.get("times", [])
    grid = len(meta.get("solvers", [])) * len(meta.get("seeds", []))
    have = Counter((r["name"], r["time_limit"]) for r in recs)
    never = [x for x in names if not any(have[(x, t)] for t in times)]
    out = [f"- Not run at all: {', '.join(never)}." if never else "- Every instance was run."]
    for t in times:
        missing = [x for x in names if x not in never and not have[(x, t)]]
        partial = [f"{x} ({have[(x, t)]}/{grid})" for x in names if 0 < have[(x, t)] < grid]
        if missing:
            out.append(f"- Not run at {time_label(t)}: {', '.join(missing)}.")
        if partial:
            out.append(f"- Incomplete at {time_label(t)} (runs recorded / solvers x seeds): "
                       f"{', '.join(partial)}.")
    grid_line = (f"Grid: every instance in the data folders x the time limits"
                 f" ({', '.join(time_label(t) for t in times)}), solvers"
                 f" ({', '.join(meta.get('solvers', []))}) and seeds"
                 f" ({', '.join(map(str, meta.get('seeds', [])))}) of the commands above.")
    return ["## Not run", "", grid_line, "", *out, ""]


def render(raw: dict) -> str:
    recs = list(raw.get("results", {}).values())
    meta = raw.get("meta", {})
    machine = f"{common.machine_line(meta['machine'])}." if meta.get("machine") else None
    lines = [
        "A gap cell is the mean over seeds of `100 * (cost - ref) / ref` in percent ± its"
        " standard error (one value: one seed), each run one process on one core, cost"
        " recomputed by `ahd.problems.verify`; `(k/m ok)` when only k of m seeds gave a verified"
        " solution, a word when none did (error, timeout, infeasible, no memory). References"
        " were checked by re-costing their `.sol` before running. The mean row averages the"
        " per-instance means over the instances every column of that time limit solved (± SE"
        " over instances); the paired row is the mean of `gap(ahd) - gap(pyvrp)` over (instance,"
        " seed) pairs both solved, ± SE over pairs (treats pairs as independent; negative: ahd"
        " better). Time limits bound each solver's search loop, not its set-up: see `wall s`.",
        "",
        "Peak memory is the worker's `ru_maxrss` at its end: interpreter, imports and ahd's"
        " untimed warm-up included, numba compilation too when its disk cache is cold (the raw"
        " file keeps the peak before the solver call as `peak_before_call_mib`); PyVRP's"
        " includes its per-iteration statistics. First feasible: seconds from the start of the"
        " solver call to its first feasible solution (PyVRP: end of its first iteration with a"
        " feasible best; OR-Tools: not measured). Start gap: the gap of ahd's first feasible"
        " solution (its construction), before any search.",
        "",
    ]
    share = common.cpu_shares(recs)
    if share:
        lines += [f"CPU / wall time of the solver calls: median {np.median(share):.2f}, min"
                  f" {np.min(share):.2f} over {len(share)} runs (below 1: a shared core).", ""]
    for key, title in SETS.items():
        if mine := [r for r in recs if r.get("set") == key]:
            lines += gap_table(title, mine)
    if recs:
        lines += cost_table(recs)
    lines += not_run(meta, recs)
    return common.markdown_report("Routing at scale", meta.get("commands", []), machine, lines,
                                  machine_first=True)


# --------------------------------------------------------------------------- CLI


def parse_args(argv=None):
    p = common.base_parser(__doc__, "benchmarks/results/routing_scale.md", jobs=1, resume=True,
                           worker=True)
    p.add_argument("--x-dir", default="../shared/data/cvrplib-x",
                   help="X-*.vrp with bks.csv ('' to skip); instances with DIMENSION > 500")
    p.add_argument("--xxl-dir", default="../shared/data/cvrp-xxl",
                   help="Belgium *.vrp with their .sol ('' to skip)")
    p.add_argument("--time", type=parse_time, nargs="+", default=[60.0, 300.0],
                   help="limits: seconds (60) or per customer (n/2: half a second each, 3n)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds, one run each")
    p.add_argument("--instances", nargs="+", help="only names matching these patterns (X-n5*)")
    p.add_argument("--max-n", type=int, help="largest DIMENSION (depot included)")
    p.add_argument("--solvers", nargs="+", default=["ahd", "pyvrp"], choices=ALL_SOLVERS)
    p.add_argument("--mem-gib", type=float,
                   help="address-space limit of each run (default: available memory / jobs)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    return common.resumable_main(parse_args(argv), worker, run_all, render)


if __name__ == "__main__":
    sys.exit(main())
