"""Offline planning-heuristic evolution on learning-track domains: held-out coverage vs goal count.

For each domain, ``ahd evolve --problem planning --domain DATA/DOMAIN --time BUDGET`` runs (or a
finished run in ``--runs DIR/plan-DOMAIN`` is reused), and its ``summary.json`` gives how many
held-out training tasks goal count and the exported winner solve within the same limits.

Usage::

    python benchmarks/evolve_planning.py ../shared/data/ipc2023-learning \\
        --domains blocksworld spanner childsnack --time 3m [--export generated]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baselines import machine_line  # noqa: E402


def run_domain(data: Path, domain: str, budget: str, runs: Path, jobs: int) -> dict:
    run_dir = runs / f"plan-{domain}"
    summary = run_dir / "summary.json"
    if not summary.is_file():
        cmd = ["ahd", "evolve", "--problem", "planning", "--domain", str(data / domain),
               "--time", budget, "--jobs", str(jobs), "--out", str(run_dir)]
        print("running:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    return json.loads(summary.read_text())


def table(rows: list[tuple[str, dict]]) -> str:
    lines = [
        "| domain | held-out tasks | solved by goal count | solved by the evolved heuristic |"
        " limits |",
        "|---|---:|---:|---:|---|",
    ]
    for domain, s in rows:
        limits = s.get("limits", {})
        lines.append(
            f"| {domain} | {s.get('validation_tasks')} | {s.get('seed_validation_solved')} | "
            f"{s.get('winner_validation_solved', '-')} | {limits.get('max_expansions')} "
            f"expansions, {limits.get('time_limit')} s per task |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="IPC 2023 learning-track folder")
    parser.add_argument("--domains", nargs="+", default=["blocksworld", "spanner", "childsnack"])
    parser.add_argument("--time", default="3m", help="evolution budget per domain")
    parser.add_argument("--runs", type=Path, default=Path("runs"))
    parser.add_argument("--jobs", type=int, default=2, help="sandbox workers per evolution")
    parser.add_argument("--export", type=Path, default=None, metavar="DIR",
                        help="copy each domain's winner to DIR/DOMAIN.py (what "
                             "benchmarks/ipc2023.sh evaluates from generated/)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/evolve_planning.md"))
    args = parser.parse_args(argv)
    rows = [(d, run_domain(args.data, d, args.time, args.runs, args.jobs)) for d in args.domains]
    if args.export is not None:
        args.export.mkdir(parents=True, exist_ok=True)
        for domain, summary in rows:
            if summary.get("exported"):
                shutil.copyfile(summary["exported"], args.export / f"{domain}.py")
                print(f"{summary['exported']} -> {args.export / f'{domain}.py'}")
    text = (
        "# Offline planning-heuristic evolution: held-out coverage\n\n"
        f"Command: `python benchmarks/evolve_planning.py {args.data} --domains "
        f"{' '.join(args.domains)} --time {args.time} --jobs {args.jobs}"
        f"{f' --export {args.export}' if args.export else ''}`\n\n"
        f"Machine: {machine_line()}\n\n"
        + table(rows) + "\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
