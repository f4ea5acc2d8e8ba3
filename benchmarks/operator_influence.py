"""How much do destroy/repair operators move the LNS result? The room that evolution has.

Evolution can only select what it can measure. This benchmark measures, on fresh generated
CVRP instances (seeds 9000.., never used by ``ahd evolve``), how far the mean objective of the
LNS moves when the seed pool is changed the way evolution changes it: one operator removed,
the pool cut to one destroy/repair pair, one tuned constant of one seed moved. Each variant is
compared with the seed pool instance by instance (same instances, same engine seeds), and the
table gives the mean relative change with its standard error. Three regimes:

- ``ls-1000``: the default of ``ahd evolve`` (local search after every repair, 1000 iterations);
- ``ls-250``: the same at a quarter of the iterations;
- ``nols-1000``: no local search (``ahd evolve --no-local-search``): the operators do all the
  work, as in G-LNS.

It also runs the seed pool with 5x the iterations, which bounds what any pool could gain at
the regime's budget ("headroom"). Every run is iteration-limited, so the numbers do not depend
on machine load and rerunning reproduces them exactly.

Usage::

    python benchmarks/operator_influence.py --instances 128 --jobs 2
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

DESTROY = ("random_removal", "worst_removal", "related_removal", "string_removal",
           "route_removal", "cluster_removal")
REPAIR = ("greedy_repair", "regret_repair", "blink_repair")
#: (label, operator, old text, new text): single tuned constants moved as GP's mutation does.
CONSTANTS = (
    ("SISR_LMAX 10 -> 5", "string_removal", "SISR_LMAX = 10.0", "SISR_LMAX = 5.0"),
    ("BLINK_RATE 0.01 -> 0.05", "blink_repair", "BLINK_RATE = 0.01", "BLINK_RATE = 0.05"),
    ("REGRET_K 3 -> 2", "regret_repair", "REGRET_K = 3", "REGRET_K = 2"),
    ("RELATED_P 6 -> 3", "related_removal", "RELATED_P = 6.0", "RELATED_P = 3.0"),
)
REGIMES = {"ls-1000": (True, 1000), "ls-250": (True, 250), "nols-1000": (False, 1000)}
CACHE = Path("runs/operator_influence_code")
#: The seed pool again with other engine seeds: how far luck alone moves a row. Every row is
#: compared with the same seed-pool runs, so that draw's luck shifts all rows alike.
CONTROL = "seed pool again, other engine seeds (noise control)"


def variants() -> dict[str, tuple]:
    """label -> (destroy names, repair names, constant change or None, iteration factor,
    engine-seed offset)."""
    out: dict[str, tuple] = {"seed pool": (DESTROY, REPAIR, None, 1, 0)}
    out[CONTROL] = (DESTROY, REPAIR, None, 1, 100)
    for d in DESTROY:
        out[f"without {d}"] = (tuple(x for x in DESTROY if x != d), REPAIR, None, 1, 0)
    for r in REPAIR:
        out[f"without {r}"] = (DESTROY, tuple(x for x in REPAIR if x != r), None, 1, 0)
    out["string_removal + blink_repair only"] = (("string_removal",), ("blink_repair",), None, 1, 0)
    for label, op, old, new in CONSTANTS:
        out[label] = (DESTROY, REPAIR, (op, old, new), 1, 0)
    out["seed pool, 5x iterations (headroom)"] = (DESTROY, REPAIR, None, 5, 0)
    return out


def _operator(role: str, name: str, change: tuple | None):
    """The registry name, or the seed's standalone source with one constant changed."""
    if change is None or change[0] != name:
        return name
    from ahd.problems.child import code_file, load_source
    from ahd.problems.operators.standalone import standalone_source

    source = standalone_source(role, name)
    if change[1] not in source:
        raise RuntimeError(f"{name}: {change[1]!r} not in its source")
    source = source.replace(change[1], change[2])
    module, _ = load_source(source, code_file(str(CACHE), source))
    return getattr(module, role)


def run_one(args: tuple) -> tuple[str, str, int, int, float]:
    regime, label, inst_seed, engine_seed, size = args
    from ahd.problems.engine.config import LNSConfig
    from ahd.problems.engine.lns import run_lns
    from ahd.problems.evaluate import InstanceSpec

    local_search, iterations = REGIMES[regime]
    destroy, repair, change, factor, offset = variants()[label]
    config = LNSConfig(iterations=iterations * factor, seed=engine_seed + offset, time_limit=600,
                       local_search=local_search)
    result = run_lns(
        InstanceSpec("cvrp", size, inst_seed).build(), config,
        destroy=[_operator("destroy", d, change) for d in destroy],
        repair=[_operator("repair", r, change) for r in repair],
    )
    if result.python_mode:
        raise RuntimeError(f"{label}: operators did not compile: {result.compile_errors}")
    return regime, label, inst_seed, engine_seed, result.cost


def table(costs: dict, regimes: list[str]) -> list[str]:
    """Each variant's mean per-run change against the seed pool, ± its standard error."""
    rows = []
    for label in variants():
        cells = []
        for regime in regimes:
            base = costs[(regime, "seed pool")]
            mine = costs[(regime, label)]
            if label == "seed pool":
                cells.append(f"mean objective {np.mean(list(base.values())):.5f}")
                continue
            keys = sorted(base)
            new, old = (np.array([d[k] for k in keys]) for d in (mine, base))
            m, se = common.mean_se(common.gap(new, old))
            cells.append(f"{m:+.3f} ± {se:.3f}")
        rows.append([label, *cells])
    head = ["variant", *(f"{r}: change vs seed pool (%)" for r in regimes)]
    return common.markdown_table(head, rows)


def main(argv: list[str] | None = None) -> int:
    p = common.base_parser(__doc__, "benchmarks/results/operator_influence.md", jobs=2)
    p.add_argument("--instances", type=int, default=128, help="fresh instances per regime")
    p.add_argument("--engine-seeds", type=int, default=2, help="LNS seeds per instance")
    p.add_argument("--size", type=int, default=50, help="customers per instance")
    p.add_argument("--regimes", nargs="+", choices=list(REGIMES), default=list(REGIMES))
    args = p.parse_args(argv)
    tasks = [(regime, label, 9000 + i, s, args.size)
             for regime in args.regimes for label in variants()
             for i in range(args.instances) for s in range(args.engine_seeds)]
    raw_path = args.out.with_suffix(".raw.json")
    raw = common.load_json(raw_path, {})
    todo = [t for t in tasks if json.dumps(t) not in raw]
    print(f"{len(tasks) - len(todo)} runs recorded in {raw_path}, {len(todo)} to do", flush=True)
    t0 = time.time()
    with ProcessPoolExecutor(args.jobs) as ex:
        for k, (task, result) in enumerate(zip(todo, ex.map(run_one, todo, chunksize=16),
                                               strict=True)):
            raw[json.dumps(task)] = result[4]
            if (k + 1) % 500 == 0 or k + 1 == len(todo):
                common.save_json(raw_path, raw)  # rerunning the command resumes
                print(f"{k + 1}/{len(todo)} runs, {time.time() - t0:.0f}s", flush=True)
    costs: dict = {}
    for task in tasks:
        regime, label, inst, seed, _ = task
        costs.setdefault((regime, label), {})[(inst, seed)] = raw[json.dumps(task)]
    text = (
        f"{args.instances} fresh instances (n = {args.size}, seeds 9000..) x "
        f"{args.engine_seeds} engine seeds per regime; each cell is the mean per-run change of "
        "the objective against the seed pool on the same instance and seed, ± its standard "
        "error (negative = better than the seed pool). All rows share the seed pool's runs, so "
        "its luck shifts every row alike; the noise-control row runs the same seed pool with "
        "other engine seeds and shows the size of that shift. Iteration-limited runs: the "
        f"figures do not depend on load. Wall time of this invocation {time.time() - t0:.0f} "
        "s."
    )
    title = "How far operators move the LNS result (CVRP, generated instances)"
    body = [text, "", *table(costs, args.regimes)]
    cmd = common.command_line(__file__, argv)
    text = common.markdown_report(title, cmd, common.machine_line(), body)
    print(common.write_report(args.out, text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
