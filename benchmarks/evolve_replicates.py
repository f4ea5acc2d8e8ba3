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

import argparse
import json
import math
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baselines import machine_line  # noqa: E402
from evolve_cvrp import _ahd_command  # noqa: E402

PROBLEM = "cvrp"


def evolve(run_dir: Path, seed: int, extra: list[str]) -> dict:
    """Run (or resume, or reuse) the README's first command with ``--seed``; its summary."""
    summary = run_dir / "summary.json"
    if not summary.is_file():
        where = ["--resume", str(run_dir)] if (run_dir / "ahd.sqlite").is_file() else [
            "--out", str(run_dir)]
        cmd = [*_ahd_command(), "evolve", "--problem", PROBLEM, "--seed", str(seed), *where,
               *extra]
        print("running: " + " ".join(cmd), file=sys.stderr, flush=True)
        t = time.perf_counter()
        proc = subprocess.run(cmd, check=False)
        print(f"evolution took {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        if proc.returncode != 0 or not summary.is_file():
            sys.exit(f"ahd evolve --seed {seed} failed (exit code {proc.returncode})")
    out = json.loads(summary.read_text())
    if not out.get("exported"):
        sys.exit(f"{summary}: the run exported no team")
    team = Path(out["exported"])
    out["team_file"] = str(team if team.is_file() else run_dir / "generated" / team.name)
    return out


def score(task: tuple[str, int, int]) -> float:
    """Objective of one iteration-limited run: the seed pool or a team file on one instance."""
    team, seed, index = task
    from ahd.evaluate import InstanceSpec
    from ahd.problems.engine.config import LNSConfig
    from ahd.problems.engine.lns import run_lns
    from ahd.problems.task import SPLIT_SEEDS, RoutingTaskConfig

    cfg = RoutingTaskConfig(problem=PROBLEM)
    inst = InstanceSpec(PROBLEM, cfg.size, SPLIT_SEEDS["test"] + 100 * seed + index).build()
    pools = {}
    if team != "seed":  # loaded once per process: the loader keeps an unchanged file's module
        from ahd.heuristic_file import load_heuristic_file

        pools = load_heuristic_file(team).lns_kwargs()
    config = LNSConfig(iterations=cfg.iterations, time_limit=cfg.time_cap, seed=cfg.seed,
                       local_search=cfg.local_search)
    result = run_lns(inst, config, **pools)
    if result.python_mode:
        raise RuntimeError(f"{team}: operators did not compile: {result.compile_errors}")
    return float(result.cost)


def gain(seed_costs: list[float], team_costs: list[float]) -> tuple[float, float]:
    """Mean per-instance gain over the seed pool in percent (positive = better) and its SE."""
    s, t = np.array(seed_costs), np.array(team_costs)
    g = 100 * (s - t) / s
    return float(g.mean()), float(g.std(ddof=1) / math.sqrt(len(g)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    p.add_argument("--test", type=int, default=96, help="fresh test instances per seed")
    p.add_argument("--jobs", type=int, default=2, help="processes for the test runs")
    p.add_argument("--run-root", type=Path, default=Path("runs/replicates"))
    p.add_argument("--evolve-args", default="", help="extra options for ahd evolve")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/evolve_replicates.md"))
    args = p.parse_args(argv)
    runs = {s: evolve(args.run_root / f"seed-{s}", s, args.evolve_args.split())
            for s in args.seeds}
    tasks = [(team, s, i) for s in args.seeds for team in ("seed", runs[s]["team_file"])
             for i in range(args.test)]
    raw_path = args.out.with_suffix(".raw.json")
    done = json.loads(raw_path.read_text())["costs"] if raw_path.is_file() else []
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
        tg, tse = gain(sc, tc)
        rows.append(
            f"| {s} | {run['winner_round']} | {run['seed_validation']:.4f} | "
            f"{run['winner_validation']:.4f} | {run['validation_gain_pct']:+.3f} ± "
            f"{run['validation_gain_se_pct']:.3f} | {np.mean(sc):.4f} | {np.mean(tc):.4f} | "
            f"{tg:+.3f} ± {tse:.3f} |"
        )
    pg, pse = gain(pooled_s, pooled_t)
    verdict = ("better than the seed pool beyond noise (gain > 2 standard errors)"
               if pg > 2 * pse else "not distinguishable from the seed pool (gain < 2 SE)")
    cmd = " ".join(["python benchmarks/evolve_replicates.py", *(argv or sys.argv[1:])])
    text = (
        "# The README's first command, replicated: evolved winner vs seed pool\n\n"
        f"Command: `{cmd}`\n\nMachine: {machine_line()}\n\n"
        f"Each row is one `ahd evolve --problem {PROBLEM} --seed S` (the README's first command "
        "with another seed). Validation: the run's own report (48 instances, on which the winner "
        f"was also chosen). Test: {args.test} fresh instances per seed that neither evolution "
        "nor the winner's choice saw, both pools at the task's budget (n = 200, 1000 "
        "iterations, local search, engine seed 0). Gains are per-instance relative "
        "improvements over the seed pool in percent ± standard error; positive = the winner "
        "is better. A rerun reuses finished evolutions and recorded test runs.\n\n"
        "| seed | winner round | validation: seed pool | validation: winner | validation gain "
        "(%) | test: seed pool | test: winner | test gain (%) |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        + "\n".join(rows) + "\n\n"
        f"Pooled over {len(pooled_s)} test instances: gain {pg:+.3f}% ± {pse:.3f}: {verdict}.\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    raw_path.write_text(json.dumps(
        {"runs": runs, "costs": [[*k, costs[k]] for k in tasks]}))
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
