"""Offline planning-heuristic evolution on learning-track domains: held-out coverage vs goal count.

For each domain, ``ahd evolve --problem planning --domain DATA/DOMAIN --time BUDGET`` runs (or a
finished run in ``--runs DIR/plan-DOMAIN`` is reused), and its ``summary.json`` gives how many
held-out training tasks goal count and the exported winner solve within the same limits.

Usage::

    python benchmarks/evolve_planning.py ../shared/data/ipc2023-learning \\
        --domains blocksworld spanner childsnack --time 3m [--export generated]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def run_domain(data: Path, domain: str, budget: str, runs: Path, jobs: int,
               sets: list[str]) -> dict:
    """The summary of the domain's evolution in ``RUNS/plan-DOMAIN`` (run or resumed if need be)."""
    return common.ahd_evolve(runs / f"plan-{domain}", [
        "--problem", "planning", "--domain", str(data / domain), "--time", budget,
        "--jobs", str(jobs), *(x for kv in sets for x in ("--set", kv))])


def table(rows: list[tuple[str, dict]]) -> list[str]:
    cells = []
    for domain, s in rows:
        limits = s.get("limits", {})
        cells.append([domain, s.get("validation_tasks"), s.get("seed_validation_solved"),
                      s.get("winner_validation_solved", "-"),
                      f"{limits.get('max_expansions')} expansions,"
                      f" {limits.get('time_limit')} s per task"])
    head = ["domain", "held-out tasks", "solved by goal count",
            "solved by the evolved heuristic", "limits"]
    return common.markdown_table(head, cells, "lrrrl")


def main(argv: list[str] | None = None) -> int:
    parser = common.base_parser(__doc__, "benchmarks/results/evolve_planning.md")
    parser.add_argument("data", type=Path, help="IPC 2023 learning-track folder")
    parser.add_argument("--domains", nargs="+", default=["blocksworld", "spanner", "childsnack"])
    parser.add_argument("--time", default="3m", help="evolution budget per domain")
    parser.add_argument("--runs", type=Path, default=Path("runs"))
    parser.add_argument("--jobs", type=int, default=2, help="sandbox workers per evolution")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="a planning task setting for every evolution (preferred=true: "
                             "evolve for lazy GBFS with preferred operators)")
    parser.add_argument("--export", type=Path, default=None, metavar="DIR",
                        help="copy each domain's winner to DIR/DOMAIN.py (what "
                             "benchmarks/ipc2023.sh evaluates from generated/)")
    args = parser.parse_args(argv)
    rows = [(d, run_domain(args.data, d, args.time, args.runs, args.jobs, args.sets))
            for d in args.domains]
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
