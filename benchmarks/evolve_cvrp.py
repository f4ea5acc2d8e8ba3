"""Evolved LNS operators against the seed pools, OR-Tools, PyVRP (and LKH) on the G-LNS test sets.

The question this benchmark answers: does offline evolution on instances the project generates
itself (n = 50) produce operator pools that transfer to the published CVRP100/TSP100 test sets
(``../shared/data/synthetic/{cvrp,tsp}100_test.npy``, the G-LNS/ReEvo convention: float
Euclidean costs, CVRP capacity 50), and how do they compare with the reference solvers at the
same wall time per instance? Evolution never sees the test instances.

Two stages, both optional:

1. ``--evolve BUDGET`` runs ``ahd evolve --problem P --size 50 --time BUDGET --out RUN_DIR`` as a
   subprocess (``--evolve-args`` adds options such as ``--jobs 2``) and takes the team it
   exports to ``RUN_DIR/generated/``. A rerun finds ``RUN_DIR/summary.json`` and skips the
   evolution; a run dir without a summary (an interrupted evolution) is resumed. Or
   ``--heuristic FILE`` takes an already exported team file; the budget is then read from
   ``RUN_DIR/summary.json`` and ``RUN_DIR/ahd.sqlite`` when the file sits in ``RUN_DIR/generated/``.
2. The evaluation: on each of the first ``--limit`` instances of ``--data``, every solver runs for
   ``--time`` seconds in its own fresh single-threaded process (at most ``--jobs`` at once):
   ``seed`` (``run_lns`` with the default seed pools), ``evolved`` (``run_lns`` with the team's
   ``DESTROY``/``REPAIR``), ``ortools``, ``pyvrp`` and, for TSP, ``elkai`` (``baselines.py``).
   Each worker first solves a 10-customer sub-instance untimed, so numba compilation (and the
   solver imports) are not charged to the timed run. The parent re-verifies every solution with
   ``ahd.problems.verify.verify``.

``OUT`` (markdown) holds the command, the machine, a summary table (mean objective, gap to PyVRP,
for TSP gap to LKH, wins vs OR-Tools), the published reference numbers, and a per-instance table.
``OUT`` with ``.raw.json`` in place of ``.md`` records every run and is written after each one, so
rerunning the same command resumes; a raw file belongs to one heuristic file (by SHA-256), one
time limit and one data set, and resuming it with others is refused. ``--from-json`` only
re-renders the markdown.

Example::

    python benchmarks/evolve_cvrp.py --evolve 30m --run-dir runs/bench-cvrp50-30m \\
        --data ../shared/data/synthetic/cvrp100_test.npy --time 14.6 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from baselines import SOLVERS  # noqa: E402
from ortools_pipeline import list_synthetic, synthetic_instance  # noqa: E402
from routing_quality import _sub_instance, timed_solution, verify_routes  # noqa: E402

from ahd.problems.instance import RoutingInstance  # noqa: E402

LNS_SOLVERS = ("seed", "evolved")
ALL_SOLVERS = (*LNS_SOLVERS, "ortools", "pyvrp", "elkai")
#: Size of the instances evolution trains on (the issue: evolve at n = 50, report at 100).
EVOLVE_SIZE = 50
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "synthetic"
DEFAULT_DATA = {"cvrp": DATA_DIR / "cvrp100_test.npy", "tsp": DATA_DIR / "tsp100_test.npy"}
DEFAULT_OUT = {
    "cvrp": "benchmarks/results/evolve_cvrp.md",
    "tsp": "benchmarks/results/evolve_tsp.md",
}
#: Relative tolerance under which two float costs count as equal (same tour, other direction).
TIE_RTOL = 1e-9
#: Published numbers the issue compares against (first 30 instances, 14.6 s each).
REFERENCE = {
    "cvrp": {
        "data": "cvrp100_test",
        "limit": 30,
        "time": 14.6,
        "text": "Reference (measured on the first 30 instances of `cvrp100_test.npy` at 14.6 s"
        " each): PyVRP 12.92, G-LNS's own published operator pools run in G-LNS's own"
        " evaluator 13.28, OR-Tools 13.77. Target for the evolved pool: a mean below 13.28"
        " at that time, and within 0.5% of PyVRP.",
    },
    "tsp": {
        "data": "tsp100_test",
        "limit": 30,
        "time": 14.6,
        "text": "Reference: G-LNS published a 1.10% gap to LKH on TSP100. Target for the"
        " evolved pool: a mean gap to LKH (elkai) below 0.3% on the same instances.",
    },
}


# --------------------------------------------------------------------------- instances


def npy_instance(path: str, index: int, problem: str) -> RoutingInstance:
    """Instance ``index`` of a G-LNS/ReEvo ``.npy`` test set as a :class:`RoutingInstance`.

    CVRP goes through :func:`ortools_pipeline.synthetic_instance` (rows ``[demand, x, y]``,
    depot first, capacity 50), so both benchmarks read the arrays the same way; TSP rows are
    ``[x, y]`` and city 0 plays the depot, as in :func:`ahd.problems.generators.uniform_tsp`.
    Costs are unrounded Euclidean distances (``FLOAT_2D``) in both cases.
    """
    if problem == "cvrp":
        return synthetic_instance(path, index)
    from ahd.problems.generators import make_instance

    data = np.load(path, mmap_mode="r")[index]
    return make_instance(f"{Path(path).stem}-{index:02d}", "tsp", np.array(data))


def check_layout(path: str, problem: str) -> None:
    """Exit with a one-line message when ``path`` does not hold ``problem`` instances.

    A TSP array given with ``--problem cvrp`` (or the reverse) would otherwise fail in every
    worker, or worse, be read with the wrong columns.
    """
    try:
        shape = np.load(path, mmap_mode="r").shape
    except (OSError, ValueError) as exc:
        sys.exit(f"{path}: cannot read ({exc})")
    want = 3 if problem == "cvrp" else 2
    if len(shape) != 3 or shape[2] != want:
        layout = "[demand, x, y]" if problem == "cvrp" else "[x, y]"
        sys.exit(f"{path}: shape {shape} is not a {problem} set (instances x nodes x {layout})")


# --------------------------------------------------------------------------- worker


def _solve(solver: str, inst: RoutingInstance, time_limit: float, seed: int, pools: dict):
    """Routes, reported cost and LNS details of one run of ``solver``."""
    if solver not in LNS_SOLVERS:
        routes, cost = SOLVERS[solver](inst, time_limit, seed=seed)
        return routes, cost, {}
    from ahd.problems.engine.config import LNSConfig
    from ahd.problems.engine.lns import run_lns

    res = run_lns(inst, LNSConfig(time_limit=time_limit, seed=seed), **pools)
    extra = {"iterations": int(res.iterations), "search_s": round(float(res.elapsed), 3)}
    if res.python_mode:
        extra["python_mode"] = True
        extra["compile_errors"] = dict(res.compile_errors)
    return res.routes, float(res.cost), extra


def worker(task: dict) -> dict:
    """Run one task in this process: an untimed warm-up, then the timed solve.

    The warm-up solves the depot and first 10 customers of the same instance with the same
    solver, so numba compiles the engine and the team's operators (and OR-Tools, PyVRP or LKH
    load) before the clock starts, as in a long-lived process.
    """
    inst = npy_instance(task["path"], task["index"], task["problem"])
    pools: dict = {}
    if task["solver"] == "evolved":
        from ahd.problems.heuristic_file import load_heuristic_file

        pools = load_heuristic_file(task["heuristic"]).lns_kwargs()
    warm = 0.2 if task["solver"] in LNS_SOLVERS else 0.5
    _solve(task["solver"], _sub_instance(inst), warm, task["seed"], pools)
    return timed_solution(lambda: _solve(
        task["solver"], inst, task["time_limit"], task["seed"], pools))


# --------------------------------------------------------------------------- evolution stage


def evolve(args) -> Path:
    """Run (or resume, or reuse) ``ahd evolve`` into ``args.run_dir``; the exported team file."""
    summary = common.ahd_evolve(Path(args.run_dir), [
        "--problem", args.problem, "--size", str(EVOLVE_SIZE), "--time", args.evolve,
        *shlex.split(args.evolve_args)])
    if not summary["team_file"]:
        sys.exit(f"{args.run_dir}/summary.json: the evolution validated no team, so there is"
                 " nothing to evaluate")
    return Path(summary["team_file"])


def evolution_info(team: Path, command: str | None) -> dict | None:
    """What is known about how ``team`` was evolved: budget, stop reason, validation scores.

    Read from ``RUN_DIR/summary.json`` and the run's settings in ``RUN_DIR/ahd.sqlite``
    (``ahd evolve`` writes the budget only there) when ``team`` is in ``RUN_DIR/generated/``;
    ``None`` for a file with no run directory around it.
    """
    run_dir = team.resolve().parent.parent
    summary_path = run_dir / "summary.json"
    if team.resolve().parent.name != "generated" or not summary_path.is_file():
        return None
    summary = json.loads(summary_path.read_text())
    info: dict[str, Any] = {"run_dir": str(run_dir), "command": command}
    for key in ("stop", "seed_validation", "winner_validation", "winner_round"):
        info[key] = summary.get(key)
    try:
        from ahd.store import Store

        with Store.in_run_dir(run_dir, readonly=True) as store:
            settings = store.open_run().config
        budget = settings.get("budget", {})
        info["budget"] = {k: v for k, v in budget.items() if v is not None}
        task = settings.get("task", {})
        info.update(size=task.get("size"), iterations=task.get("iterations"),
                    model=settings.get("model"))
    except Exception as exc:  # an older or damaged store: the summary alone still says a lot
        info["budget_error"] = f"{type(exc).__name__}: {exc}"
    return info


# --------------------------------------------------------------------------- parent side


def result_key(solver: str, name: str) -> str:
    """Raw-file key of one run; one time limit per raw file, so it is not part of the key."""
    return f"{solver}|{name}"


def check_meta(meta: dict, want: dict, raw_path: Path, results: dict) -> None:
    """Refuse to mix runs of another time limit, data set, problem or heuristic into a raw file.

    A raw file without a heuristic (only seed and baselines run) may take one later: nothing
    recorded depends on it.
    """
    for key in ("problem", "data_sha256", "time_limit", "seed"):
        if key in meta and meta[key] != want[key]:
            sys.exit(f"{raw_path} holds runs with {key} = {meta[key]!r}, not {want[key]!r};"
                     " use another --out")
    old = (meta.get("heuristic") or {}).get("sha256")
    new = (want.get("heuristic") or {}).get("sha256")
    if old != new and (old is not None or any(r["solver"] == "evolved" for r in results.values())):
        sys.exit(f"{raw_path} holds runs of heuristic sha256 {old}, not {new}; use another --out")


def finish_record(task: dict, info: dict, out: dict, cache: dict) -> dict:
    """The raw record of one run, with the cost recomputed by the trusted verifier."""
    rec = {"solver": task["solver"], "name": info["name"], "index": info["index"], **out}
    return verify_routes(rec, cache, info["index"],
                         lambda: npy_instance(task["path"], info["index"], task["problem"]))


def run_all(args, want: dict) -> dict:
    """Run every (solver, instance) pair not yet in the raw file, saving after each run.

    Each run is a fresh interpreter (``common.run_worker``), so one solver's memory, threads
    or numba state never affect another's timing; a crash costs one record.
    """
    log = common.ResultLog(args.out.with_suffix(".raw.json"))
    check_meta(log.meta, want, log.path, log.results)
    old_evo = log.meta.get("evolution") or {}
    new_evo = want.get("evolution")
    if new_evo and new_evo.get("command") is None and old_evo.get("command"):
        new_evo["command"] = old_evo["command"]  # resumed with --heuristic on the evolved file
    log.meta.update(want)
    log.stamp(__file__)
    instances = list_synthetic(args.data, args.limit)
    tasks = [
        ({"path": args.data, "index": info["index"], "problem": args.problem, "solver": solver,
          "time_limit": args.time, "seed": args.seed, "heuristic": args.heuristic}, info)
        for info in instances for solver in args.solvers
        if log.todo(result_key(solver, info["name"]), args.rerun_failed)
    ]
    print(f"{len(instances)} instances, {len(tasks)} runs to do, {args.jobs} at once,"
          f" about {len(tasks) * (args.time + 3) / args.jobs / 60:.0f} min", file=sys.stderr)
    cache: dict = {}
    runs = common.run_parallel(__file__, tasks, args.jobs, args.timeout_factor)
    for done, (task, info, out) in enumerate(runs, 1):
        rec = finish_record(task, info, out, cache)
        log.add(result_key(task["solver"], info["name"]), rec)
        what = f"cost {rec['cost']:.6g}" if rec["status"] == "ok" else rec["status"].upper()
        wall = f"  wall {rec['wall_s']:.1f}s cpu {rec['cpu_s']:.1f}s" if "wall_s" in rec else ""
        its = f"  {rec['iterations']} it" if "iterations" in rec else ""
        print(f"[{done}/{len(tasks)}] {info['name']:16s} {task['solver']:8s} {what}{wall}"
              f"{its}" + (f"  ({rec['error']})" if rec.get("error") else ""),
              file=sys.stderr, flush=True)
    return log.raw


# --------------------------------------------------------------------------- markdown


def _costs(results: list[dict]) -> dict[str, dict[str, float]]:
    """Verified cost per solver per instance name (ok runs only)."""
    out: dict[str, dict[str, float]] = {}
    for r in results:
        if r.get("status") == "ok":
            out.setdefault(r["solver"], {})[r["name"]] = r["cost"]
    return out


def _mean_gap(mine: dict, ref: dict, names: list[str]) -> str:
    """Mean per-instance gap of ``mine`` to ``ref`` over ``names``, formatted (no ``-0.00``)."""
    gaps = [common.gap(mine[n], ref[n]) for n in names if n in mine and n in ref]
    return f"{np.mean(gaps) + 0.0:.2f}".replace("-0.00", "0.00") if gaps else "-"


def render(raw: dict) -> str:
    """The markdown report of a raw file; also used by ``--from-json`` without running."""
    meta = raw.get("meta", {})
    results = list(raw.get("results", {}).values())
    problem = meta.get("problem", "cvrp")
    data = Path(meta.get("data", "?"))
    machine = f"{common.machine_line(meta['machine'])}." if meta.get("machine") else None
    lines = [*_describe(meta), ""]
    share = common.cpu_shares(results)
    if share:
        lines += [
            f"CPU time / wall time of the solver calls: median {np.median(share):.2f}, min"
            f" {np.min(share):.2f} over {len(share)} runs ("
            + ("well below 1: the machine was shared and the wall-clock-limited solvers got "
               "less than a core)." if np.median(share) < 0.9 else
               "a run below 1 lost part of its core to other processes)."),
            "",
        ]
    python_mode = sorted({r["solver"] for r in results if r.get("python_mode")})
    if python_mode:
        failed = sorted({op for r in results for op in r.get("compile_errors", {})})
        lines += [f"**Warning**: {', '.join(python_mode)} ran in numba's Python mode (operators"
                  f" that did not compile: {', '.join(failed) or '?'}; the reasons are under"
                  " `compile_errors` in the raw file), so its iteration rate is far below"
                  " normal and its objective says little about the evolved logic.", ""]
    if results:
        lines += _summary(meta, results) + _per_instance(results)
    title = f"Evolved operators on {data.name} ({problem.upper()})"
    return common.markdown_report(title, meta.get("commands", []), machine, lines)


def _describe(meta: dict) -> list[str]:
    """What each row is, the evolution that made the evolved pool, and the reference note."""
    t = meta.get("time_limit")
    heur = meta.get("heuristic")
    lines = [
        f"Every solver gets {t:g} s of wall time per instance in its own single-threaded process"
        " (numba compilation and solver imports happen in an untimed warm-up on a 10-customer"
        " sub-instance); costs are unrounded Euclidean lengths recomputed by"
        " `ahd.problems.verify` (OR-Tools, PyVRP and LKH optimise integer costs scaled by 1e4"
        " or more, see `baselines.py`). `seed`: the engine's LNS with the default seed pools;"
        " `evolved`: the same LNS with the team's DESTROY/REPAIR pools; `ortools`:"
        " PATH_CHEAPEST_ARC + guided local search; `pyvrp`: PyVRP's default iterated local"
        " search" + ("; `elkai`: LKH with a CPU-time limit." if meta.get("problem") == "tsp"
                     else "."),
        "",
    ]
    if heur:
        lines.append(f"Evolved team: `{heur['path']}` (sha256 {heur['sha256'][:12]}).")
    evo = meta.get("evolution")
    if evo:
        budget = evo.get("budget", {})
        spent = ", ".join(f"{v:g} s wall time" if k == "time" else f"{k} {v}"
                          for k, v in budget.items())
        how = f" by `{evo['command']}`" if evo.get("command") else ""
        lines.append(
            f"Evolved offline{how} in `{evo['run_dir']}` on generated instances with"
            f" n = {evo.get('size', EVOLVE_SIZE)} ({evo.get('iterations', '?')} LNS iterations per"
            f" scored run); evolution budget: {spent or 'unknown'}; {evo.get('stop') or ''}."
            f" Validation objective (n = {evo.get('size', EVOLVE_SIZE)}): seed team"
            f" {_num(evo.get('seed_validation'))}, evolved {_num(evo.get('winner_validation'))}."
        )
    elif heur:
        lines.append("No run directory next to the team file: the evolution budget is unknown.")
    ref = REFERENCE.get(meta.get("problem", ""), {})
    if ref:
        same = (Path(meta.get("data", "")).stem == ref["data"] and meta.get("limit") == ref["limit"]
                and meta.get("time_limit") == ref["time"])
        lines += ["", ref["text"] + ("" if same else
                                     f" This run differs ({meta.get('limit')} instances of"
                                     f" `{Path(meta.get('data', '?')).name}` at {t:g} s), so"
                                     " compare with care.")]
    return lines


def _num(x: float | None) -> str:
    """A score for the text, ``-`` when the evolution did not record it."""
    return "-" if x is None else f"{x:.6g}"


def _summary(meta: dict, results: list[dict]) -> list[str]:
    """One row per solver: means over the instances every solver solved."""
    costs = _costs(results)
    solvers = [s for s in ALL_SOLVERS if any(r["solver"] == s for r in results)]
    names = sorted({r["name"] for r in results})
    solved = [n for n in names if all(n in costs.get(s, {}) for s in solvers)]
    tsp = meta.get("problem") == "tsp" and "elkai" in solvers
    head = ["solver", "solved", "mean objective", "gap to PyVRP (%)"]
    head += ["gap to LKH (%)"] if tsp else []
    head += ["wins vs OR-Tools", "mean LNS iterations"]
    out = [
        "## Summary",
        "",
        f"Means over the {len(solved)} instances every solver solved (of {len(names)} run)."
        " Gaps are means of the per-instance gaps `100 * (cost - ref) / ref`; wins count"
        " instances where the cost is lower than OR-Tools' (relative tolerance"
        f" {TIE_RTOL:g}).",
        "",
    ]
    ortools, rows = costs.get("ortools", {}), []
    for s in solvers:
        mine = costs.get(s, {})
        tried = sum(r["solver"] == s for r in results)
        mean = f"{np.mean([mine[n] for n in solved]):.4f}" if solved else "-"
        row = [s, f"{len(mine)}/{tried}", mean,
               _mean_gap(mine, costs.get("pyvrp", {}), solved) if s != "pyvrp" else ""]
        if tsp:
            row.append(_mean_gap(mine, costs.get("elkai", {}), solved) if s != "elkai" else "")
        pairs = [n for n in solved if n in ortools]
        wins = sum(mine[n] < ortools[n] * (1 - TIE_RTOL) for n in pairs)
        row.append("" if s == "ortools" or not pairs else f"{wins}/{len(pairs)}")
        its = [r["iterations"] for r in results if r["solver"] == s and "iterations" in r]
        row.append(f"{np.mean(its):,.0f}" if its else "")
        rows.append(row)
    out += [*common.markdown_table(head, rows), "", *_targets(meta, costs, solved), ""]
    return out


def _targets(meta: dict, costs: dict, solved: list[str]) -> list[str]:
    """The issue's targets for the evolved pool, checked on this run's numbers."""
    mine = costs.get("evolved")
    if not mine or not solved:
        return []
    if meta.get("problem") == "tsp":
        if "elkai" not in costs:
            return []
        gaps = [common.gap(mine[n], costs["elkai"][n]) for n in solved]
        ok = np.mean(gaps) < 0.3
        return [f"Target (mean gap to LKH below 0.3%): {np.mean(gaps):.2f}% —"
                f" {'met' if ok else 'not met'}."]
    mean = float(np.mean([mine[n] for n in solved]))
    met = "met" if mean < 13.28 else "not met"
    out = [f"Target (mean below 13.28, G-LNS): {mean:.4f} — {met}."]
    if "pyvrp" in costs:
        pct = float(np.mean([common.gap(mine[n], costs["pyvrp"][n]) for n in solved]))
        out.append(f"Target (within 0.5% of PyVRP): {pct:.2f}% —"
                   f" {'met' if pct <= 0.5 else 'not met'}.")
    return [" ".join(out)]


def _per_instance(results: list[dict]) -> list[str]:
    """One row per instance, so a mean driven by one bad instance is visible."""
    costs = _costs(results)
    solvers = [s for s in ALL_SOLVERS if any(r["solver"] == s for r in results)]
    status = {(r["solver"], r["name"]): r.get("status", "?") for r in results}
    names = sorted({r["name"] for r in results})
    rows = []
    for name in names:
        row = [costs.get(s, {}).get(name) for s in solvers]
        best = min((c for c in row if c is not None), default=None)
        cells = []
        for s, c in zip(solvers, row, strict=True):
            if c is None:
                cells.append(status.get((s, name), ""))
            elif c <= best * (1 + TIE_RTOL):
                cells.append(f"**{c:.4f}**")
            else:
                cells.append(f"{c:.4f}")
        rows.append([name, *cells])
    head = ["instance", *solvers]
    return ["## Per instance (objective; bold: best of the row)", "",
            *common.markdown_table(head, rows), ""]


# --------------------------------------------------------------------------- CLI


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options, with the per-problem defaults (data, output, solvers) filled in."""
    p = common.base_parser(__doc__, None, jobs=2, seed=True, resume=True, worker=True)
    p.add_argument("--problem", choices=("cvrp", "tsp"), default="cvrp")
    p.add_argument("--data", help="the .npy test set (default: ../shared/data/synthetic/"
                   "{cvrp,tsp}100_test.npy)")
    stage = p.add_mutually_exclusive_group()
    stage.add_argument("--evolve", metavar="BUDGET",
                       help="run `ahd evolve --time BUDGET` first (e.g. 30m) and evaluate its team")
    stage.add_argument("--heuristic", metavar="FILE", help="an exported team file to evaluate")
    p.add_argument("--run-dir",
                   help="evolution run directory (default runs/bench-PROBLEM50-BUDGET)")
    p.add_argument("--evolve-args", default="",
                   help="more `ahd evolve` options, one string (e.g. '--jobs 2 --seed 1')")
    p.add_argument("--limit", type=int, default=30, help="first K instances of the set (0: all)")
    p.add_argument("--time", type=float, default=14.6, help="wall seconds per instance and solver")
    p.add_argument("--solvers", nargs="+", choices=ALL_SOLVERS,
                   help="default: seed, evolved (with a team), ortools, pyvrp, elkai (TSP)")
    args = p.parse_args(argv)
    args.data = str(Path(args.data or DEFAULT_DATA[args.problem]).resolve())
    args.out = args.out or Path(DEFAULT_OUT[args.problem])
    if args.evolve and not args.run_dir:
        args.run_dir = f"runs/bench-{args.problem}{EVOLVE_SIZE}-{args.evolve}"
    if args.solvers is None:
        args.solvers = ["seed", "ortools", "pyvrp"] + (["elkai"] if args.problem == "tsp" else [])
        if args.evolve or args.heuristic:
            args.solvers.insert(1, "evolved")
    elif args.problem != "tsp" and "elkai" in args.solvers:
        p.error("elkai (LKH) solves TSP only")
    return args


def _team(args) -> tuple[dict | None, dict | None]:
    """Run the evolution stage if asked; the heuristic and evolution records for the raw file."""
    command = None
    if args.evolve:
        args.heuristic = str(evolve(args))
        command = (f"ahd evolve --problem {args.problem} --size {EVOLVE_SIZE} --time {args.evolve}"
                   + (f" {args.evolve_args}" if args.evolve_args else "")
                   + f" --out {args.run_dir}")
    if not args.heuristic:
        if "evolved" in args.solvers:
            sys.exit("--solvers evolved needs --heuristic FILE or --evolve BUDGET")
        return None, None
    from ahd.problems.heuristic_file import HeuristicFileError, load_heuristic_file

    path = Path(args.heuristic).resolve()
    try:
        pools = load_heuristic_file(path)  # fail here, not in every worker
    except HeuristicFileError as exc:
        sys.exit(str(exc))
    if pools.problem not in (None, args.problem):
        sys.exit(f"{path}: a {pools.problem} team, not {args.problem}")
    print(pools.describe(), file=sys.stderr)
    args.heuristic = str(path)
    return {"path": str(path), "sha256": common.file_sha256(path)}, evolution_info(path, command)


def evaluate(args) -> dict:
    """Check the set-up, evolve if asked, run what the raw file lacks; the raw data."""
    check_layout(args.data, args.problem)
    if args.jobs < 1 or args.time <= 0:
        sys.exit("--jobs must be >= 1 and --time positive")
    pre = {"problem": args.problem, "data_sha256": common.file_sha256(args.data),
           "time_limit": args.time, "seed": args.seed}
    raw_path = args.out.with_suffix(".raw.json")
    old = common.load_json(raw_path, {}).get("meta", {})
    check_meta({k: v for k, v in old.items() if k in pre}, pre, raw_path, {})  # before evolving
    heuristic, evolution = _team(args)
    want = {**pre, "data": args.data, "limit": args.limit, "heuristic": heuristic}
    if evolution is not None:
        want["evolution"] = evolution
    return run_all(args, want)


def main(argv: list[str] | None = None) -> int:
    """Evolve (optionally), evaluate, render; or, with ``--worker``, run one task."""
    return common.resumable_main(parse_args(argv), worker, evaluate, render)


if __name__ == "__main__":
    sys.exit(main())
