"""Online bin packing on Weibull 5k: first fit, best fit and an evolved priority function.

The evolved function is either evolved here, on generated Weibull training instances only
(``Evolution`` with the offline GP proposer for ``--time``; the winner is chosen on the
validation instances), or loaded from an exported file (``--winner FILE``). All three run in
the sandbox exactly as during evolution, and every packing is verified by the parent before
it is scored. The five test instances (seeds 5001-5005) are never seen before this step.

Usage::

    python benchmarks/binpacking.py --time 5m            # evolve, then score
    python benchmarks/binpacking.py --winner runs/.../generated/binpacking_XXXX.py

Writes a markdown table (``--out``, default ``benchmarks/results/binpacking.md``) with the
command and the machine; the published figures (FunSearch, Nature 2024) are reference rows.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

#: Published Weibull 5k excess (Romera-Paredes et al., Nature 2024, Table 1); their five
#: instances, not ours, so compare orders of magnitude rather than the second decimal.
PUBLISHED = (("first fit", 4.23), ("best fit", 3.98), ("FunSearch", 0.68))


def _seconds(text: str) -> float:
    from ahd.durations import parse_duration

    return float(parse_duration(text))


def evolve(args: argparse.Namespace, plugin: Any, config: Any) -> tuple[str, dict[str, Any]]:
    """Run the GP evolution; return the winner's source and facts about the run."""
    from ahd.evolve.budget import Budget, StopRule
    from ahd.evolve.loop import Evolution, EvolveConfig
    from ahd.sandbox import SandboxPool
    from ahd.settings import to_settings
    from ahd.store import Store

    run_dir = args.run_dir / time.strftime("bp-%Y%m%d-%H%M%S")
    store = Store.in_run_dir(run_dir)
    store.create_run("binpacking", to_settings(config), args.seed)
    evo_config = EvolveConfig(pool_size=args.pool, elite=2, offspring=args.offspring,
                              validate_top=3, seed=args.seed,
                              weights=plugin.loop_defaults["weights"])
    with SandboxPool(args.jobs, **plugin.sandbox_options(config, run_dir)) as pool:
        task = plugin.build(config, pool)
        t0 = time.monotonic()
        evolution = Evolution(task, task.offline_proposer(), store, run_dir, evo_config,
                              StopRule(Budget(time=_seconds(args.time))),
                              progress=lambda line: print(line, flush=True))
        result = evolution.run()
        elapsed = time.monotonic() - t0
        summary = task.summarise(result, store, run_dir)
    for line in summary.lines:
        print(line)
    if summary.exported is None:
        raise SystemExit("no evolved winner to benchmark")
    facts = {"run_dir": str(run_dir), "seconds": elapsed, "rounds": result.spent.rounds,
             "evaluations": result.spent.evaluations, "candidates": len(store.candidate_ids()),
             "stop": result.stop_reason, "seed_validation": result.seed_validation,
             "winner_train": result.winner.fitness, "winner_validation": result.winner.validation,
             "exported": str(summary.exported), "evolve_config": asdict(evo_config)}
    store.close()
    return Path(summary.exported).read_text(encoding="utf-8"), facts


def score_on_test(plugin: Any, config: Any, sources: dict[str, str], jobs: int,
                  run_dir: Path) -> dict[str, list[Any]]:
    """Every source on Weibull 5k, in the sandbox, verified by the parent."""
    from ahd_binpacking import weibull_5k

    from ahd.sandbox import SandboxPool

    test = weibull_5k()
    with SandboxPool(jobs, **plugin.sandbox_options(config, run_dir)) as pool:
        task = plugin.build(config, pool)
        out = {}
        for name, source in sources.items():
            records = task.score(source, test)
            bad = [r for r in records if r.status != "ok"]
            if bad:
                raise SystemExit(f"{name} failed on {bad[0].instance}: {bad[0].error}")
            out[name] = records
    return out


def table(results: dict[str, list[Any]]) -> list[str]:
    names = list(results)
    first = results[names[0]]
    head = "| instance | items | L1 | " + " | ".join(names) + " |"
    rule = "|---|---:|---:|" + "---:|" * len(names)
    lines = [head, rule]
    for k, rec in enumerate(first):
        cells = [f"{results[n][k].objective:.3f}% ({results[n][k].bins})" for n in names]
        lines.append(f"| {rec.instance} | 5000 | {rec.lower_bound} | " + " | ".join(cells) + " |")
    means = [sum(r.objective for r in results[n]) / len(results[n]) for n in names]
    lines.append("| **mean** | | | " + " | ".join(f"**{m:.3f}%**" for m in means) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", default="5m", help="evolution budget (e.g. 90s, 5m)")
    parser.add_argument("--winner", type=Path, help="score this exported file, do not evolve")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/binpacking.md"))
    parser.add_argument("--run-dir", type=Path, default=Path("runs"))
    parser.add_argument("--jobs", type=int, default=2, help="sandbox workers")
    parser.add_argument("--seed", type=int, default=0, help="evolution seed and training set")
    parser.add_argument("--pool", type=int, default=24, help="population size")
    parser.add_argument("--offspring", type=int, default=12, help="proposals per round")
    args = parser.parse_args(argv)
    command = common.command_line(__file__, argv)

    from ahd_binpacking.plugin import PLUGIN
    from ahd_binpacking.seeds import BEST_FIT_SOURCE, FIRST_FIT_SOURCE

    config = PLUGIN.configure({"seed": args.seed})
    if args.winner is not None:
        evolved, facts = args.winner.read_text(encoding="utf-8"), {"file": str(args.winner)}
    else:
        evolved, facts = evolve(args, PLUGIN, config)
    args.run_dir.mkdir(parents=True, exist_ok=True)
    sources = {"first fit": FIRST_FIT_SOURCE, "best fit": BEST_FIT_SOURCE, "evolved": evolved}
    results = score_on_test(PLUGIN, config, sources, args.jobs, args.run_dir)

    lines = ["# Online bin packing: Weibull 5k", "", f"Command: `{command}`", "",
             f"Machine: {common.machine_line()}", "",
             "Excess over the L1 bound, `100 * (bins - L1) / L1` (bins used in brackets), on "
             "the five Weibull 5k test instances (5,000 items each, seeds 5001-5005, capacity "
             "100). Rule: `bins` = open bins that fit, in opening order, plus one entry for a "
             "new bin (FunSearch's evaluator). Every packing was produced in the sandbox and "
             "verified by the parent.", ""]
    lines += table(results)
    lines += ["", "Published reference (FunSearch, Nature 2024, Weibull 5k; their five "
              "instances, not these):", "", "| heuristic | excess (published) |", "|---|---:|"]
    lines += [f"| {name} (published) | {value:.2f}% |" for name, value in PUBLISHED]
    lines += ["", "## The evolved function", ""]
    if "file" in facts:
        lines.append(f"Loaded from `{facts['file']}`.")
    else:
        ec = facts["evolve_config"]
        lines.append(
            f"Evolved by the offline GP proposer for {facts['seconds']:.0f} s "
            f"({facts['rounds']} rounds, {facts['candidates']} candidates, "
            f"{facts['evaluations']} instance evaluations; pool {ec['pool_size']}, "
            f"{ec['offspring']} offspring per round, seed {ec['seed']}) on "
            f"{config.n_train} generated Weibull training instances of {config.n_items} items; "
            f"chosen on {config.n_validation} validation instances: winner "
            f"{facts['winner_validation']:.3f}% vs seeds {facts['seed_validation']:.3f}% "
            f"(training {facts['winner_train']:.3f}%). Stop: {facts['stop']}. "
            f"Run: `{facts['run_dir']}`.")
    lines += ["", "```python", evolved.rstrip(), "```", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(table(results)))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
