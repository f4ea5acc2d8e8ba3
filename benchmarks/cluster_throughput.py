"""Evaluations per second, dask overhead and worker idle time: local pool against dask workers.

Three questions, each answered side by side on one machine:

1. **Throughput.** The same routing team evaluations (the seed team on CVRP training instances)
   and planning evaluations (the seed heuristic on IPC 2023 tasks) through the local sandbox
   pool and through ``ClusterPool`` on a ``LocalCluster`` (separate worker processes over TCP),
   with 1 and 2 workers: evaluations (instances or tasks) per second, and the fraction of
   worker time spent idle (1 - sum of sandboxed run time / (workers x wall time)).
2. **Overhead per request.** A trivial sandboxed request, one at a time: what dask adds per
   evaluation on top of the local pool.
3. **Idle while waiting for the model.** A short LLM evolution against a scripted local
   OpenAI-compatible server that answers after ``--reply-delay`` seconds, with the loop's
   overlap on and off: the fraction of the evolution's wall time during which no evaluation
   was running at all.

Every pool is warmed (workers started, engine compiled) before it is timed. (A script named
``distributed.py`` would hide the ``distributed`` package from itself, hence the name.)
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import (
    base_parser,
    command_line,
    load_json,
    machine_line,
    markdown_report,
    markdown_table,
    mean_se,
    save_json,
    write_report,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "cluster_throughput.md"


class Metered:
    """A pool that records when each request was submitted and finished, and its run time."""

    def __init__(self, pool: Any):
        self.pool = pool
        self.spans: list[tuple[float, float]] = []
        self.busy = 0.0
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)

    def submit(self, func: Any, args: Any = (), limits: Any = None) -> Any:
        start = time.monotonic()
        future = self.pool.submit(func, args, limits)
        future.add_done_callback(lambda f: self._done(start, f))
        return future

    def _done(self, start: float, future: Any) -> None:
        with self._lock:
            self.spans.append((start, time.monotonic()))
            if future.exception() is None:
                self.busy += future.result().wall_time

    def reset(self) -> None:
        with self._lock:
            self.spans, self.busy = [], 0.0

    def idle_fraction(self, start: float, end: float) -> float:
        """Fraction of ``[start, end]`` with no request in flight."""
        covered, reach = 0.0, start
        for a, b in sorted(self.spans):
            a, b = max(a, reach), min(b, end)
            if b > a:
                covered += b - a
                reach = b
        return 1.0 - covered / (end - start)


def make_pool(backend: str, workers: int, options: dict) -> Any:
    from ahd.sandbox import SandboxPool
    from ahd.sandbox.cluster import ClusterPool, quiet_dask_logs

    if backend == "local":
        return SandboxPool(workers, **options)
    quiet_dask_logs()
    return ClusterPool(f"local:{workers}", **options)


def workloads(data: Path, tmp: Path) -> dict[str, tuple[Any, Any, int]]:
    """``name -> (plugin, config, evaluations per call)``: routing and planning seeds."""
    from ahd.plugins import task_plugin

    cvrp = task_plugin("cvrp")
    planning = task_plugin("planning")
    return {
        "routing (CVRP n=100, 16 instances x 1500 LNS iterations)": (
            cvrp, cvrp.configure({"size": 100, "n_train": 16, "n_validation": 2,
                                  "iterations": 1500}), 16),
        "planning (blocksworld, 16 tasks, GBFS <= 2 s)": (
            planning, planning.configure({
                "domain_dir": str(data / "ipc2023-learning" / "blocksworld"), "n_train": 16,
                "n_validation": 2, "max_expansions": 200_000, "time_limit": 2.0}), 16),
    }


def throughput(args: Any, tmp: Path) -> list[list[Any]]:
    rows = []
    for name, (plugin, config, count) in workloads(args.data, tmp).items():
        for backend in ("local", "dask"):
            for workers in (1, 2):
                pool = Metered(make_pool(backend, workers,
                                         plugin.sandbox_options(config, tmp / "run")))
                try:
                    task = plugin.build(config, pool)
                    team = task.seeds()
                    if not task.cooperative:
                        team = {role: cands[:1] for role, cands in team.items()}
                    task.evaluate(team, "train")  # warm: compile, ground, cache
                    rates, idles = [], []
                    for _ in range(args.repeats):
                        pool.reset()
                        start = time.monotonic()
                        outcome = task.evaluate(team, "train")
                        wall = time.monotonic() - start
                        assert outcome.ok, outcome.error
                        rates.append(count / wall)
                        idles.append(1.0 - pool.busy / (workers * wall))
                finally:
                    pool.close()
                rate, rate_se = mean_se(rates)
                idle, _ = mean_se(idles)
                print(f"{name} {backend}:{workers}: {rate:.2f} eval/s, idle {idle:.1%}",
                      flush=True)
                rows.append([name, backend, workers, rate, rate_se, idle])
    return rows


def overhead(args: Any) -> dict[str, float]:
    out = {}
    for backend in ("local", "dask"):
        pool = make_pool(backend, 1, {"prewarm_numba": "basic"})
        try:
            pool.run("math:factorial", (5,))
            start = time.monotonic()
            for _ in range(args.requests):
                pool.run("math:factorial", (5,))
            out[backend] = (time.monotonic() - start) / args.requests
        finally:
            pool.close()
    return out


def llm_idle(args: Any, tmp: Path) -> list[list[Any]]:
    """Idle fraction of a short LLM evolution with overlap off and on (local pool, 2 workers)."""
    sys.path.insert(0, str(ROOT / "tests" / "helpers"))  # the scripted server the tests use
    from llm_server import ScriptedLLMServer
    from operator_sources import LLM_REPLY_PAIR

    from ahd.evolve.budget import Budget, StopRule
    from ahd.evolve.loop import Evolution, EvolveConfig
    from ahd.plugins import proposers, task_plugin
    from ahd.store import Store

    plugin = task_plugin("cvrp")
    # ahd evolve's routing defaults: 200 customers, 16 training instances x 1000 iterations.
    config = plugin.configure({"size": 200, "n_train": 16, "n_validation": 2, "iterations": 1000})
    rows = []
    for overlap in (False, True):
        run_dir = tmp / f"llm-{overlap}"
        with ScriptedLLMServer(default=lambda messages: LLM_REPLY_PAIR,
                               delay=args.reply_delay) as server:
            pool = Metered(make_pool("local", 2, plugin.sandbox_options(config, run_dir)))
            store = Store.in_run_dir(run_dir)
            try:
                task = plugin.build(config, pool)
                store.create_run("cvrp", {}, 0)
                proposer = proposers()["llm"](task, {
                    "model": "openai/scripted", "api_base": server.url,
                    "cache_dir": run_dir / "llm_cache", "concurrency": 4})
                marks: dict[str, float] = {}

                def mark(line: str, marks: dict[str, float] = marks, pool: Metered = pool) -> None:
                    # round 0 (the seeds) and validation are not what is measured
                    if line.startswith("round 0:"):
                        pool.reset()
                        marks["start"] = time.monotonic()
                    elif line.startswith("stopping:"):
                        marks["end"] = time.monotonic()

                config_loop = EvolveConfig(offspring=4, overlap=overlap, fix_retries=0)
                Evolution(task, proposer, store, run_dir, config_loop,
                          StopRule(Budget(rounds=args.rounds)), progress=mark, threads=4).run()
                start, end = marks["start"], marks["end"]
            finally:
                store.close()
                pool.close()
        idle = pool.idle_fraction(start, end)
        print(f"LLM run, overlap {overlap}: {end - start:.0f}s, idle {idle:.1%}", flush=True)
        rows.append(["on" if overlap else "off", args.rounds, end - start, idle])
    return rows


PARTS = ("throughput", "overhead", "llm")


def main() -> None:
    p = base_parser(__doc__, str(OUT))
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                   help="folder holding ipc2023-learning/")
    p.add_argument("--repeats", type=int, default=3, help="timed evaluations per cell")
    p.add_argument("--requests", type=int, default=200, help="trivial requests timed")
    p.add_argument("--rounds", type=int, default=4, help="rounds of the LLM run")
    p.add_argument("--reply-delay", type=float, default=5.0, help="seconds per LLM reply")
    p.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS),
                   help="measure these parts again; the others come from OUT.raw.json")
    args = p.parse_args()
    raw_path = args.out.with_suffix(".raw.json")
    raw = load_json(raw_path, {"commands": {}})
    with tempfile.TemporaryDirectory(prefix="ahd-cluster-bench-") as tmp:
        for part in args.only:
            if part == "throughput":
                raw["throughput"] = throughput(args, Path(tmp))
            elif part == "overhead":
                raw["overhead"] = overhead(args)
            else:
                raw["llm"] = {"rows": llm_idle(args, Path(tmp)),
                              "reply_delay": args.reply_delay}
            raw["commands"][part] = command_line(__file__)
            raw["machine"] = machine_line()
            save_json(raw_path, raw, indent=1)
    missing = [part for part in PARTS if part not in raw]
    if missing:
        raise SystemExit(f"no results yet for {', '.join(missing)}: run with --only {missing[0]}")
    print(write_report(args.out, render(raw)))


def render(raw: dict) -> str:
    rows, per_request = raw["throughput"], raw["overhead"]
    body = ["## Throughput", ""]
    body += markdown_table(
        ["workload", "backend", "workers", "evaluations/s", "± se", "idle"],
        [[w, b, n, f"{r:.2f}", f"{se:.2f}", f"{i:.1%}"] for w, b, n, r, se, i in rows],
        align="llrrrr")
    body.append("")
    for name in dict.fromkeys(r[0] for r in rows):
        cell = {(b, n): r for w, b, n, r, _, _ in rows if w == name}
        body.append(
            f"- {name}: 2 workers / 1 worker = {cell['local', 2] / cell['local', 1]:.2f}x "
            f"(local), {cell['dask', 2] / cell['dask', 1]:.2f}x (dask); dask overhead at 1 "
            f"worker {100 * (cell['local', 1] / cell['dask', 1] - 1):+.1f}% of an evaluation's "
            "time.")
    body += ["", "## Overhead per request", "",
             f"A trivial request (`math:factorial`) one at a time: local pool "
             f"{1000 * per_request['local']:.1f} ms, dask {1000 * per_request['dask']:.1f} ms "
             f"(+{1000 * (per_request['dask'] - per_request['local']):.1f} ms per request).",
             "", "## Idle while waiting for the model", "",
             f"CVRP n=200, 16 training instances x 1000 iterations (ahd evolve's defaults), 4 "
             f"offspring per round, a scripted local server answering after "
             f"{raw['llm']['reply_delay']:g} s, 2 local workers; "
             "idle = share of the rounds' wall time with no evaluation running.", ""]
    body += markdown_table(["overlap", "rounds", "wall s", "idle"],
                           [[o, n, f"{w:.0f}", f"{i:.1%}"] for o, n, w, i in raw["llm"]["rows"]])
    commands = list(dict.fromkeys(raw["commands"][part] for part in PARTS))
    return markdown_report("Distributed evaluation: local pool and dask", commands,
                           raw["machine"], body)


if __name__ == "__main__":
    main()
