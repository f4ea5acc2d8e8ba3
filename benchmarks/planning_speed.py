"""Expansions per second of ahd's greedy best-first search against pyperplan and Fast Downward.

Same search (eager GBFS, first-in-first-out among equal h), same heuristics (goal count and
h_FF), same learning-track tasks, one measurement at a time, each in its own fresh process:

- ``ahd``: :func:`ahd.planners.greedy_best_first_search` with the compiled built-ins
  ``goalcount`` and ``hff``; ``ahd-py`` is the same search with goal count written as a Python
  heuristic (:data:`ahd.planners.features.GOALCOUNT_SOURCE`), which is how every evolved
  heuristic runs. The process first runs :func:`ahd.planners.warm_up`, so loading numba's
  machine code is not timed.
- ``pyperplan``: its own parser, grounder and ``greedy_best_first_search``, in-process; h_FF is
  its ``hffHeuristic``; pyperplan has no goal count, so it gets the two-line equivalent
  (``len(task.goals - node.state)``). Expansions are counted by wrapping
  ``task.get_successor_states`` (pyperplan logs them only at the end), and the time limit is
  enforced there too. pyperplan has no negative preconditions: such domains are marked n/a.
- ``fd``: Fast Downward as shipped in the ``up-fast-downward`` package, ``--search
  "eager_greedy([goalcount()], max_time=T)"`` (or ``[ff()]``); expansions and search time are
  parsed from its log (``Expanded N state(s)``, ``Search time: Xs``).

With ``--generated DIR`` (e.g. ``generated``), each domain's evolved heuristic
``DIR/<domain>.py`` also runs twice: ``ahd evolved`` compiled (its genome evaluated in the
search kernel, :mod:`ahd.planners.heuristics.genome`) and ``ahd-py evolved`` as the Python
module; a file written before genomes carried their features is re-rendered with the
catalogue of the domain's training tasks (the features its evolution used: the same ``h``,
plus the tag line). ``ahd-genome goalcount`` is goal count as a one-term compiled genome.

The rate is expansions divided by *search* time (parsing and grounding excluded, for every
planner). Tasks are taken from ``DATA/<domain>/training/easy/`` at evenly spread positions in
the upper half (the larger tasks, where search rather than set-up dominates). The summary row
is the geometric mean over tasks of the ratio ahd / peer, counting only tasks where both
expanded at least ``--min-expansions`` states or searched for a second (tiny searches measure
start-up and clock resolution, not search speed).

Example::

    python benchmarks/planning_speed.py /work/shared/data/ipc2023-learning --per-domain 2 \\
        --time 10 --out benchmarks/results/planning_speed.md
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

#: (planner, heuristic) columns, in table order.
RUNS = (("ahd", "goalcount"), ("ahd-py", "goalcount"), ("ahd-genome", "goalcount"),
        ("pyperplan", "goalcount"), ("fd", "goalcount"), ("ahd", "hff"), ("pyperplan", "hff"),
        ("fd", "hff"), ("ahd", "evolved"), ("ahd-py", "evolved"))
#: Seconds a worker may spend beyond the search limit (parsing, grounding, start-up).
SETUP_ALLOWANCE = 120.0


class _Timeout(Exception):
    pass


# --------------------------------------------------------------------------- workers


def run_ahd(domain: str, problem: str, heuristic: str, limit: float, python: bool,
            source: str | None = None) -> dict:
    from ahd.planners import (
        greedy_best_first_search,
        ground,
        heuristic_from_source,
        read_task,
        warm_up,
    )
    from ahd.planners.features import GOALCOUNT_SOURCE
    from ahd.planners.heuristics.builtin import GENOME

    warm_up()
    t = time.perf_counter()
    task = ground(read_task(domain, problem))
    ground_time = time.perf_counter() - t
    if source is not None:  # a rendered genome: compiled, or (python) run as its module
        h = heuristic_from_source(source, name=heuristic, compiled=not python)
        assert python != (h.hid == GENOME), "the genome did not compile"
    else:
        h = heuristic_from_source(GOALCOUNT_SOURCE, name="goalcount-py") if python else heuristic
    out = greedy_best_first_search(task, h, time_limit=limit)
    return {"status": out.status, "expanded": out.expanded, "evaluated": out.evaluated,
            "search_time": out.search_time, "ground_time": ground_time, "error": out.error}


def run_pyperplan(domain: str, problem: str, heuristic: str, limit: float) -> dict:
    import logging

    from pyperplan.heuristics.heuristic_base import Heuristic
    from pyperplan.planner import HEURISTICS, _ground, _parse
    from pyperplan.search import greedy_best_first_search

    logging.disable(logging.CRITICAL)
    t = time.perf_counter()
    task = _ground(_parse(domain, problem))
    ground_time = time.perf_counter() - t

    class GoalCount(Heuristic):
        def __init__(self, task):
            self.goals = task.goals

        def __call__(self, node):
            return len(self.goals - node.state)

    heur = GoalCount(task) if heuristic == "goalcount" else HEURISTICS["hff"](task)
    counts = {"expanded": 0, "evaluated": 0}
    successors = task.get_successor_states
    start = time.perf_counter()
    deadline = start + limit

    def counted_successors(state):
        counts["expanded"] += 1
        if time.perf_counter() >= deadline:
            raise _Timeout
        return successors(state)

    def counted_heuristic(node):
        counts["evaluated"] += 1
        return heur(node)

    task.get_successor_states = counted_successors
    try:
        plan = greedy_best_first_search(task, counted_heuristic)
        status = "solved" if plan is not None else "unsolvable"
    except _Timeout:
        status = "time_limit"
    return {"status": status, **counts, "search_time": time.perf_counter() - start,
            "ground_time": ground_time, "error": None}


def fd_script() -> Path:
    import up_fast_downward

    return Path(up_fast_downward.__file__).parent / "downward" / "fast-downward.py"


def run_fd(domain: str, problem: str, heuristic: str, limit: float) -> dict:
    evaluator = "goalcount()" if heuristic == "goalcount" else "ff()"
    search = f"eager_greedy([{evaluator}], max_time={limit:g})"
    with tempfile.TemporaryDirectory(prefix="fd-") as tmp:
        cmd = [sys.executable, str(fd_script()), "--plan-file", str(Path(tmp) / "plan"),
               domain, problem, "--search", search]
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True,
                              timeout=limit + SETUP_ALLOWANCE)
    log = proc.stdout + proc.stderr

    def grab(pattern: str) -> float | None:
        found = re.findall(pattern, log)
        return float(found[-1]) if found else None

    expanded, search_time = grab(r"Expanded (\d+) state"), grab(r"Search time: ([\d.]+)s")
    translate = grab(r"Done! \[([\d.]+)s CPU")
    if expanded is None or search_time is None:
        return {"status": "error", "expanded": 0, "evaluated": 0, "search_time": 0.0,
                "ground_time": translate, "error": log[-500:]}
    status = "solved" if "Solution found." in log else (
        "time_limit" if "Time limit reached" in log else "unsolvable")
    return {"status": status, "expanded": int(expanded),
            "evaluated": int(grab(r"Evaluated (\d+) state") or 0), "search_time": search_time,
            "ground_time": translate, "error": None}


def worker(job: dict) -> dict:
    planner, heuristic = job["planner"], job["heuristic"]
    args = (job["domain"], job["problem"], heuristic, job["time"])
    if planner in ("ahd", "ahd-py", "ahd-genome"):
        return run_ahd(*args, python=planner == "ahd-py", source=job.get("source"))
    if planner == "pyperplan":
        return run_pyperplan(*args)
    return run_fd(*args)


# --------------------------------------------------------------------------- driver


def measure(job: dict) -> dict:
    """One job in a fresh process; a crash or a hard timeout is recorded, not raised."""
    res = common.run_worker(__file__, job, job["time"] + 2 * SETUP_ALLOWANCE)
    if res.get("status") == "timeout":
        return {"status": "setup_timeout", "expanded": 0, "search_time": 0.0,
                "error": "parsing/grounding did not finish"}
    return res if "expanded" in res else {**res, "expanded": 0, "search_time": 0.0}


def genome_sources(data: Path, domain: str, generated: Path | None) -> dict[str, str]:
    """``heuristic -> source`` of the compiled-genome runs of a domain: goal count as a genome,
    and the evolved heuristic of ``generated`` (re-rendered with its features if need be)."""
    from ahd.planners.evolve_task import PlanningTask, PlanningTaskConfig
    from ahd.planners.features import parse_genome, parse_terms
    from ahd.planners.features import render as render_genome

    catalogue = PlanningTask(PlanningTaskConfig(domain_dir=data / domain),
                             pool=None).profile.catalogue
    out = {"goalcount": render_genome([("goals", 1.0)], catalogue, "Goal count")}
    path = None if generated is None else generated / f"{domain}.py"
    if path is not None and path.is_file():
        text = path.read_text()
        terms = parse_terms(text)
        if parse_genome(text) is not None:
            out["evolved"] = text
        elif terms is not None and all(k in catalogue for k, _ in terms):
            out["evolved"] = render_genome(terms, catalogue)
    return out


def pick_tasks(data: Path, domains: list[str] | None, per_domain: int) -> list[tuple[str, Path]]:
    out = []
    for ddir in sorted(p for p in data.iterdir() if (p / "domain.pddl").is_file()):
        if domains and ddir.name not in domains:
            continue
        files = sorted((ddir / "training" / "easy").glob("*.pddl"))
        if not files:
            continue
        positions = np.linspace(0.5, 0.9, per_domain) if per_domain > 1 else [0.7]
        picks = sorted({int(round(q * (len(files) - 1))) for q in positions})
        out += [(ddir.name, files[i]) for i in picks]
    return out


def _rate(r: dict) -> float | None:
    if r.get("status") in ("error", "setup_timeout") or not r.get("search_time"):
        return None
    return r["expanded"] / r["search_time"]


def _measurable(r: dict, min_expansions: int) -> bool:
    """A rate worth comparing: enough expansions, or a search that ran for a second or more
    (a slow planner that hit the limit), not a search too short for the clock."""
    return bool(_rate(r)) and (r["expanded"] >= min_expansions or r["search_time"] >= 1.0)


def _cell(r: dict) -> str:
    rate = _rate(r)
    if rate is None:
        # pyperplan rejects negative preconditions as "unknown predicate not"
        return "n/a" if "predicate not" in str(r.get("error")) else r.get("status", "error")
    text = (f"{rate:,.0f}" if rate < 1e3 else f"{rate / 1e3:,.1f}k" if rate < 1e6
            else f"{rate / 1e6:,.2f}M")
    return text + ("" if r["status"] == "solved" else " (TL)" if r["status"] == "time_limit"
                   else f" ({r['status']})")


def render(rows: list[dict], args: argparse.Namespace, command: str, info: dict) -> str:
    versions = []
    for pkg in ("pyperplan", "up-fast-downward"):
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{pkg} -")
    lines = [
        f"Eager GBFS, {args.time:g} s search limit per run, one run at a time, each in a fresh "
        "process; rate = expansions / search seconds (parsing and grounding excluded). "
        "`ahd-py` = ahd's search with goal count as a Python heuristic (how evolved "
        "heuristics run). (TL) = time limit reached (the rate is still over the whole "
        "search); n/a = the planner cannot read the task.",
        "",
    ]
    runs = [(p, h) for p, h in RUNS
            if any(row["runs"].get(f"{p}/{h}", {}).get("status") != "skipped" for row in rows)]
    head = ["domain", "task"] + [f"{p} {h}" for p, h in runs]
    cells = [[row["domain"], row["task"],
              *(_cell(row["runs"].get(f"{p}/{h}", {"status": "skipped"})) for p, h in runs)]
             for row in rows]
    lines += common.markdown_table(head, cells, align="l" * len(head))
    lines += ["", "Geometric mean of per-task speed ratios (tasks where both expanded at least "
                  f"{args.min_expansions} states or searched for at least 1 s):", ""]
    pairs = [("ahd", "pyperplan", "goalcount"), ("ahd", "fd", "goalcount"),
             ("ahd-py", "pyperplan", "goalcount"), ("ahd", "pyperplan", "hff"),
             ("ahd", "fd", "hff"), ("ahd-genome", "ahd", "goalcount"),
             ("ahd-py", "ahd", "goalcount"), ("ahd", "ahd-py", "evolved")]
    pairs = [(a, b, h) for a, b, h in pairs if (a, h) in runs and (b, h) in runs]
    summary = []
    for a, b, h in pairs:
        ratios = []
        for row in rows:
            ra, rb = row["runs"][f"{a}/{h}"], row["runs"][f"{b}/{h}"]
            if _measurable(ra, args.min_expansions) and _measurable(rb, args.min_expansions):
                ratios.append(_rate(ra) / _rate(rb))
        gm = f"{math.exp(float(np.mean(np.log(ratios)))):.2f}x" if ratios else "-"
        summary.append([f"{a} / {b}", h, len(ratios), gm])
    lines += common.markdown_table(["ratio", "heuristic", "tasks", "geometric mean"], summary,
                                   "llll")
    machine = f"{common.machine_line(info)}; {', '.join(versions)}"
    title = "Planning search speed: expansions per second"
    return common.markdown_report(title, command, machine, lines)


def main(argv: list[str] | None = None) -> int:
    parser = common.base_parser(__doc__, "benchmarks/results/planning_speed.md", worker=True)
    parser.add_argument("data", nargs="?", type=Path, help="learning-track root folder")
    parser.add_argument("--domains", nargs="*", help="domain folder names (default: all)")
    parser.add_argument("--per-domain", type=int, default=2, help="tasks per domain")
    parser.add_argument("--time", type=float, default=10.0, help="search seconds per run")
    parser.add_argument("--min-expansions", type=int, default=1000)
    parser.add_argument("--planners", nargs="*", default=["ahd", "ahd-py", "pyperplan", "fd"],
                        help="of ahd, ahd-py, ahd-genome, pyperplan, fd")
    parser.add_argument("--heuristics", nargs="*", default=["goalcount", "hff"],
                        help="of goalcount, hff, evolved (evolved needs --generated)")
    parser.add_argument("--generated", type=Path, default=None, metavar="DIR",
                        help="evolved heuristics as DIR/<domain>.py")
    parser.add_argument("--from-raw", type=Path,
                        help="re-render the table from an earlier run's .raw.json (no runs)")
    args = parser.parse_args(argv)
    if args.worker:
        return common.answer(worker, args.worker)
    if args.from_raw:
        raw = json.loads(args.from_raw.read_text())
        args.time = raw.get("time", args.time)
        common.write_report(args.out, render(raw["rows"], args, raw["command"], raw["machine"]))
        print(f"wrote {args.out}")
        return 0
    if args.data is None or not args.data.is_dir():
        parser.error("give the learning-track folder (e.g. /work/shared/data/ipc2023-learning)")
    command = common.command_line(__file__, argv)
    info = common.machine_info()
    rows = []
    sources: dict[str, dict[str, str]] = {}
    genomes = "ahd-genome" in args.planners or "evolved" in args.heuristics
    for domain, path in pick_tasks(args.data, args.domains, args.per_domain):
        if genomes and domain not in sources:
            sources[domain] = genome_sources(args.data, domain, args.generated)
        row = {"domain": domain, "task": path.stem, "runs": {}}
        for planner, heuristic in RUNS:
            key = f"{planner}/{heuristic}"
            source = sources.get(domain, {}).get(heuristic)
            if (planner not in args.planners or heuristic not in args.heuristics
                    or (source is None and (planner == "ahd-genome" or heuristic == "evolved"))):
                row["runs"][key] = {"status": "skipped", "expanded": 0, "search_time": 0.0}
                continue
            job = {"planner": planner, "heuristic": heuristic, "time": args.time,
                   "domain": str(path.parent.parent.parent / "domain.pddl"),
                   "problem": str(path)}
            if planner == "ahd-genome" or heuristic == "evolved":
                job["source"] = source
            row["runs"][key] = result = measure(job)
            rate = _rate(result)
            print(f"{domain:12s} {path.stem:4s} {key:20s} {result['status']:14s} "
                  f"{result.get('expanded', 0):9d} exp  "
                  f"{'-' if rate is None else f'{rate:12,.0f}'} exp/s", flush=True)
        rows.append(row)
    common.write_report(args.out, render(rows, args, command, info))
    raw = {"command": command, "machine": info, "time": args.time, "rows": rows}
    common.save_json(args.out.with_suffix(".raw.json"), raw, indent=1)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
