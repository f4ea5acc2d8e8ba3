"""Offline planning-heuristic evolution on learning-track domains: held-out coverage vs goal count.

For each domain, ``ahd evolve --problem planning --domain DATA/DOMAIN --time BUDGET`` runs (or a
finished run in ``--runs DIR/plan-DOMAIN`` is reused), and its ``summary.json`` gives how many
held-out training tasks goal count and the exported winner solve within the same limits.

With ``--search choose``, each domain first picks the search its heuristic is evolved for, on
its training tasks only: h_FF runs under eager GBFS and under lazy GBFS with preferred
operators (``preferred=true``) on the tasks the evolution will use (both halves of its split)
with the evolution's limits. Lazy-pref replaces eager GBFS, the default, when it solves more,
or as many in at least :data:`MARGIN` less search time (an unsolved task counted at the time
limit; evaluation counts are not comparable between the two, as lazy search evaluates only
the states it expands): a difference the trial cannot tell from noise keeps the default.
The seconds this takes come out of the domain's budget, so choice and evolution together
stay within ``--time``. The exported file records the search (``# ahd-search:``), which
``ahd plan-eval`` uses for ``ahd:FILE.py``.

Usage::

    python benchmarks/evolve_planning.py ../shared/data/ipc2023-learning \\
        --domains blocksworld spanner childsnack --time 3m [--search choose] [--export generated]
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from ahd.durations import parse_duration  # noqa: E402

#: The searches ``--search choose`` compares: name -> (lazy, preferred); the first is the default.
CHOICES = {"eager": (False, False), "lazy-pref": (True, True)}
#: How much less search time (as a fraction) lets a search with equal coverage displace eager.
MARGIN = 0.05


def search_trial(domain_dir: Path) -> dict:
    """h_FF under each of :data:`CHOICES` on the training tasks an evolution of ``domain_dir``
    uses (default split and limits), every plan checked; solved counts, search seconds (an
    unsolved task at the time limit), the geometric mean of evaluations over solved tasks,
    and the choice."""
    from ahd.planners import ground, read_task, simulate
    from ahd.planners.evolve_config import PlanningTaskConfig, find_tasks, split_tasks
    from ahd.planners.search import greedy_best_first_search

    config = PlanningTaskConfig(domain_dir)
    domain_file, files = find_tasks(domain_dir)
    parts = split_tasks(files, config.n_train, config.n_validation, config.split)
    tasks = [*parts["train"], *parts["validation"]]
    out: dict = {"tasks": len(tasks)}
    for name in CHOICES:
        out[name] = {"solved": 0, "seconds": 0.0, "log_evaluated": 0.0}
    for path in tasks:
        lifted = read_task(domain_file, path)
        task = ground(lifted)
        for name, (lazy, preferred) in CHOICES.items():
            res = greedy_best_first_search(
                task, "hff", lazy=lazy, preferred=preferred, time_limit=config.time_limit,
                max_expansions=config.max_expansions, memory_limit_mb=config.memory_mb)
            if res.plan is None:
                out[name]["seconds"] += config.time_limit
                continue
            simulate(lifted, [task.op_name(o) for o in res.plan])  # raises on a bad plan
            out[name]["solved"] += 1
            out[name]["seconds"] += min(res.search_time, config.time_limit)
            out[name]["log_evaluated"] += math.log1p(res.evaluated)
    for name in CHOICES:
        rec = out[name]
        rec["evaluated_gmean"] = round(math.expm1(rec.pop("log_evaluated") / rec["solved"])
                                       if rec["solved"] else math.inf)
        rec["seconds"] = round(rec["seconds"], 2)
    eager, pref = out["eager"], out["lazy-pref"]
    better = pref["solved"] > eager["solved"] or (
        pref["solved"] == eager["solved"] and pref["seconds"] < (1 - MARGIN) * eager["seconds"])
    out["search"] = "lazy-pref" if better else "eager"
    return out


def run_domain(data: Path, domain: str, budget: str, runs: Path, jobs: int,
               sets: list[str], search: str) -> dict:
    """The summary of the domain's evolution in ``RUNS/plan-DOMAIN`` (run or resumed if need
    be), with ``search`` (the trial's choice with ``choose``, recorded in the run folder)."""
    run_dir = runs / f"plan-{domain}"
    trial = None
    if search == "choose":
        chosen = run_dir / "search_choice.json"
        if chosen.is_file():
            trial = json.loads(chosen.read_text())
        else:
            t = time.perf_counter()
            trial = search_trial(data / domain)
            trial["seconds"] = round(time.perf_counter() - t, 1)
            run_dir.mkdir(parents=True, exist_ok=True)
            chosen.write_text(json.dumps(trial, indent=1) + "\n")
        print(f"{domain}: search {trial['search']} ({json.dumps(trial)})", file=sys.stderr)
        search = trial["search"]
        budget = f"{max(60.0, parse_duration(budget) - trial['seconds']):.0f}s"
    if search == "lazy-pref":
        sets = [*sets, "preferred=true"]
    summary = common.ahd_evolve(run_dir, [
        "--problem", "planning", "--domain", str(data / domain), "--time", budget,
        "--jobs", str(jobs), *(x for kv in sets for x in ("--set", kv))])
    summary["search_trial"] = trial
    return summary


def table(rows: list[tuple[str, dict]]) -> list[str]:
    cells = []
    for domain, s in rows:
        limits = s.get("limits", {})
        trial = s.get("search_trial")
        choice = "-" if trial is None else (
            f"{trial['search']} (h_FF solves {trial['eager']['solved']} eager, "
            f"{trial['lazy-pref']['solved']} lazy-pref of {trial['tasks']}; "
            f"{trial['seconds']:g} s)")
        cells.append([domain, choice, s.get("validation_tasks"), s.get("seed_validation_solved"),
                      s.get("winner_validation_solved", "-"),
                      f"{limits.get('max_expansions')} expansions,"
                      f" {limits.get('time_limit')} s per task"])
    head = ["domain", "search (choice on training tasks)", "held-out tasks",
            "solved by goal count", "solved by the evolved heuristic", "limits"]
    return common.markdown_table(head, cells, "llrrrl")


def main(argv: list[str] | None = None) -> int:
    parser = common.base_parser(__doc__, "benchmarks/results/evolve_planning.md")
    parser.add_argument("data", type=Path, help="IPC 2023 learning-track folder")
    parser.add_argument("--domains", nargs="+", default=["blocksworld", "spanner", "childsnack"])
    parser.add_argument("--time", default="3m", help="evolution budget per domain")
    parser.add_argument("--runs", type=Path, default=Path("runs"))
    parser.add_argument("--jobs", type=int, default=2, help="sandbox workers per evolution")
    parser.add_argument("--search", choices=["eager", "lazy-pref", "choose"], default="eager",
                        help="the search each heuristic is evolved for (lazy-pref: lazy GBFS "
                             "with h_FF's preferred operators; choose: per domain, on its "
                             "training tasks)")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="a planning task setting for every evolution")
    parser.add_argument("--export", type=Path, default=None, metavar="DIR",
                        help="copy each domain's winner to DIR/DOMAIN.py (what "
                             "benchmarks/ipc2023.sh evaluates from generated/)")
    args = parser.parse_args(argv)
    rows = [(d, run_domain(args.data, d, args.time, args.runs, args.jobs, args.sets,
                           args.search)) for d in args.domains]
    if args.export is not None:
        args.export.mkdir(parents=True, exist_ok=True)
        for domain, summary in rows:
            if summary["team_file"]:
                shutil.copyfile(summary["team_file"], args.export / f"{domain}.py")
                print(f"{summary['team_file']} -> {args.export / f'{domain}.py'}")
    title = "Offline planning-heuristic evolution: held-out coverage"
    cmd = common.command_line(__file__, argv)
    text = common.markdown_report(title, cmd, common.machine_line(), table(rows))
    print(common.write_report(args.out, text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
