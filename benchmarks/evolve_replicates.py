"""Does the README's first command beat the seed pool? Replicated over seeds, on unseen instances.

One run of ``ahd evolve --problem cvrp`` reports its winner's validation gain with a standard
error, but on 48 instances that error (about 0.07%) is as large as the gains evolution finds at
n = 200, and the winner was picked on those same instances (the best of the top training
snapshots), which flatters it a little. This benchmark answers the question properly:

1. it runs the README's first command unchanged, once per ``--seeds`` value (``ahd evolve
   --problem cvrp --seed S --out RUN_ROOT/seed-S``; each seed draws its own training and
   validation instances and its own GP randomness); a finished run (``summary.json`` present)
   is reused, an interrupted one resumed;
2. it scores every run's exported winner and the seed pool on ``--test`` fresh *test*
   instances per seed (generated with the task's test seeds, never seen by evolution or by the
   winner's selection), with the task's default budget (n = 200, 1000 iterations, local search,
   engine seed 0); the runs are iteration-limited, so the figures do not depend on machine load;
3. it reports each seed's validation and test gains and the gain pooled over all seeds' test
   instances, whose standard error is what the verdict uses.

Usage::

    python benchmarks/evolve_replicates.py --seeds 0 1 2 3 --test 96 --jobs 2
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

PROBLEM = "cvrp"


def evolve(run_dir: Path, seed: int, extra: list[str]) -> dict:
    """Run (or resume, or reuse) the README's first command with ``--seed``; its summary."""
    out = common.ahd_evolve(run_dir, ["--problem", PROBLEM, "--seed", str(seed), *extra])
    if not out["team_file"]:
        sys.exit(f"{run_dir / 'summary.json'}: the run exported no team")
    return out


def score(task: tuple[str, int, int]) -> float:
    """Objective of one iteration-limited run: the seed pool or a team file on one instance."""
    team, seed, index = task
    from ahd.problems.engine.config import LNSConfig
    from ahd.problems.engine.lns import run_lns
    from ahd.problems.evaluate import InstanceSpec
    from ahd.problems.task import SPLIT_SEEDS, RoutingTaskConfig

    cfg = RoutingTaskConfig(problem=PROBLEM)
    inst = InstanceSpec(PROBLEM, cfg.size, SPLIT_SEEDS["test"] + 100 * seed + index).build()
    pools = {}
    if team != "seed":  # loaded once per process: the loader keeps an unchanged file's module
        from ahd.problems.heuristic_file import load_heuristic_file

        pools = load_heuristic_file(team).lns_kwargs()
    config = LNSConfig(iterations=cfg.iterations, time_limit=cfg.time_cap, seed=cfg.seed,
                       local_search=cfg.local_search)
    result = run_lns(inst, config, **pools)
    if result.python_mode:
        raise RuntimeError(f"{team}: operators did not compile: {result.compile_errors}")
    return float(result.cost)


def main(argv: list[str] | None = None) -> int:
    p = common.base_parser(__doc__, "benchmarks/results/evolve_replicates.md", jobs=2)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    p.add_argument("--test", type=int, default=96, help="fresh test instances per seed")
    p.add_argument("--run-root", type=Path, default=Path("runs/replicates"))
    p.add_argument("--evolve-args", default="", help="extra options for ahd evolve")
    args = p.parse_args(argv)
    runs = {s: evolve(args.run_root / f"seed-{s}", s, args.evolve_args.split())
            for s in args.seeds}
    tasks = [(team, s, i) for s in args.seeds for team in ("seed", runs[s]["team_file"])
             for i in range(args.test)]
    raw_path = args.out.with_suffix(".raw.json")
    done = common.load_json(raw_path, {"costs": []})["costs"]
    costs = {tuple(k[:3]): k[3] for k in done}  # a rerun with more --test resumes
    todo = [t for t in tasks if t not in costs]
    print(f"{len(todo)} test runs to do on {args.jobs} processes", file=sys.stderr, flush=True)
    with ProcessPoolExecutor(args.jobs) as ex:
        costs.update(zip(todo, ex.map(score, todo, chunksize=8), strict=True))
    rows, pooled_s, pooled_t = [], [], []
    for s in args.seeds:
        run = runs[s]
        sc = [costs[("seed", s, i)] for i in range(args.test)]
        tc = [costs[(run["team_file"], s, i)] for i in range(args.test)]
        pooled_s += sc
        pooled_t += tc
        tg, tse = common.paired_gain(sc, tc)
        rows.append([
            s, run["winner_round"], f"{run['seed_validation']:.4f}",
            f"{run['winner_validation']:.4f}",
            f"{run['validation_gain_pct']:+.3f} ± {run['validation_gain_se_pct']:.3f}",
            f"{np.mean(sc):.4f}", f"{np.mean(tc):.4f}", f"{tg:+.3f} ± {tse:.3f}",
        ])
    pg, pse = common.paired_gain(pooled_s, pooled_t)
    verdict = ("better than the seed pool beyond noise (gain > 2 standard errors)"
               if pg > 2 * pse else "not distinguishable from the seed pool (gain < 2 SE)")
    text = (
        f"Each row is one `ahd evolve --problem {PROBLEM} --seed S` (the README's first command "
        "with another seed). Validation: the run's own report (48 instances, on which the winner "
        f"was also chosen). Test: {args.test} fresh instances per seed that neither evolution "
        "nor the winner's choice saw, both pools at the task's budget (n = 200, 1000 "
        "iterations, local search, engine seed 0). Gains are per-instance relative "
        "improvements over the seed pool in percent ± standard error; positive = the winner "
        "is better. A rerun reuses finished evolutions and recorded test runs."
    )
    head = ["seed", "winner round", "validation: seed pool", "validation: winner",
            "validation gain (%)", "test: seed pool", "test: winner", "test gain (%)"]
    pooled = f"Pooled over {len(pooled_s)} test instances: gain {pg:+.3f}% ± {pse:.3f}: {verdict}."
    title = "The README's first command, replicated: evolved winner vs seed pool"
    body = [text, "", *common.markdown_table(head, rows, "r" * len(head)), "", pooled]
    cmd = common.command_line(__file__, argv)
    text = common.markdown_report(title, cmd, common.machine_line(), body)
    common.write_report(args.out, text)
    common.save_json(raw_path, {"runs": runs, "costs": [[*k, costs[k]] for k in tasks]})
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
