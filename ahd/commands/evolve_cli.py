"""``ahd evolve``: evolve heuristics for any registered problem, resumable and replayable.

The flags split three ways. Budgets (``--time``, ``--max-*``, ``--rounds``, ``--target``) may
change on ``--resume``. Loop settings (``--offspring``, ``--pool-size``, ``--seed``) and task
settings (``--size``, ``--train``, ... and ``--set FIELD=VALUE`` for any field of the problem's
config) are stored with the run; ``--resume RUN_DIR`` alone rebuilds them from the store, and a
differing one is refused naming it. Task flags default to ``None`` so that each problem's
config keeps its own defaults, and a flag the chosen problem does not read is refused.
"""

from __future__ import annotations

import math
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from ..durations import parse_duration
from ..plugins import TaskPlugin, UnknownTask, task_plugin, tasks
from ..settings import to_settings

PROBLEM_OPTION = typer.Option(help="problem to evolve for (registered: see ahd evolve --help)")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _echo(line: str) -> None:
    typer.echo(line, err=True)
    sys.stderr.flush()


def problem_help() -> str:
    """``--problem`` help from the registry: each name with its one-line summary."""
    known = tasks()
    listed = "; ".join(f"{name}: {plugin.summary}" for name, plugin in sorted(known.items()))
    return f"problem to evolve for [default: cvrp] ({listed or 'none registered'})"


#: Flags that count something: ``--flag -> smallest value`` (``None`` values are defaults).
_AT_LEAST = {
    "--jobs": 1, "--concurrency": 1, "--offspring": 1, "--pool-size": 1, "--train": 1,
    "--validation": 1, "--iterations": 1, "--expansions": 1, "--size": 1,
    "--seed": 0, "--max-calls": 0, "--max-tokens": 0, "--max-evals": 0, "--rounds": 0,
}


def _check_ranges(counts: dict[str, int | None], max_cost: float | None,
                  target: float | None) -> None:
    """Refuse option values out of range, each naming its flag, before a store or a worker
    exists (the config classes check again, but speak of their fields, not of flags)."""
    for flag, value in counts.items():
        low = _AT_LEAST[flag]
        if value is not None and value < low:
            _fail(f"{flag} must be at least {low}, got {value}")
    if max_cost is not None and not (math.isfinite(max_cost) and max_cost >= 0):
        _fail(f"--max-cost must be a finite amount of USD >= 0, got {max_cost:g}")
    if target is not None and not math.isfinite(target):
        _fail(f"--target must be a finite objective value, got {target:g}")


def evolve(
    problem: Annotated[str | None, PROBLEM_OPTION] = None,
    size: Annotated[int | None, typer.Option(help="instance size (routing: customers "
                                             "[default: 200])")] = None,
    instances: Annotated[
        Path | None, typer.Option(help="folder of instance files, alternately train/validation")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="litellm model (e.g. gpt-4o-mini); none = offline")
    ] = None,
    api_base: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint URL")] = None,
    api_key_env: Annotated[
        str | None, typer.Option(help="name of the environment variable holding the API key "
                                 "(the key itself never goes on the command line)")
    ] = None,
    price: Annotated[
        str | None, typer.Option(help="PROMPT,COMPLETION: the model's USD per million tokens, "
                                 "for --max-cost on a model litellm has no price for (a local "
                                 "server) [default: litellm's price map]")
    ] = None,
    proposer: Annotated[
        str | None, typer.Option(help="registered proposer [default: llm with --model, else "
                                 "offline]")
    ] = None,
    max_calls: Annotated[int | None, typer.Option(help="stop after N LLM calls")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="stop after N tokens")] = None,
    max_cost: Annotated[float | None, typer.Option(help="stop after this many USD")] = None,
    max_evals: Annotated[int | None, typer.Option(help="stop after N evaluations")] = None,
    rounds: Annotated[int | None, typer.Option(help="stop after N rounds")] = None,
    target: Annotated[float | None, typer.Option(help="stop at this training objective")] = None,
    time: Annotated[str, typer.Option(help="evolution wall time: 90s, 5m, 1h or seconds")] = "4m",
    seed: Annotated[int | None, typer.Option(help="random seed [default: 0]")] = None,
    iterations: Annotated[
        int | None, typer.Option(help="routing: LNS iterations per scored run [default: 1000]")
    ] = None,
    train: Annotated[int | None, typer.Option(help="training instances [default: 16]")] = None,
    validation: Annotated[
        int | None, typer.Option(help="validation instances [default: the problem's; routing "
                                 "48, planning 32 tasks]")
    ] = None,
    local_search: Annotated[
        bool | None, typer.Option(help="routing: local search after each repair [default: on]")
    ] = None,
    offspring: Annotated[int | None, typer.Option(help="proposals per round [default: 4]")]
    = None,
    pool_size: Annotated[int | None, typer.Option(help="candidates kept per pool [default: 6]")]
    = None,
    overlap: Annotated[
        bool | None, typer.Option(help="ask for the next round's offspring while this round is "
                                  "scored [default: on with a model, off offline]")
    ] = None,
    jobs: Annotated[int, typer.Option(help="sandbox workers")] = 2,
    scheduler: Annotated[
        str | None, typer.Option(help="run evaluations on a dask cluster: tcp://HOST:PORT of a "
                                 "scheduler, or local:N for N local worker processes")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="new run directory (default "
                                             "runs/PROBLEM-TIME)")] = None,
    resume: Annotated[Path | None, typer.Option(help="continue the run in this directory with "
                                                "its stored settings")] = None,
    replay: Annotated[bool, typer.Option(help="answer LLM calls only from the run's cache")]
    = False,
    llm_cache: Annotated[
        Path | None, typer.Option(help="LLM response cache (default RUN_DIR/llm_cache)")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="simultaneous LLM requests")] = 4,
    eval_timeout: Annotated[
        str | None, typer.Option(help="wall-clock limit of one sandboxed evaluation "
                                 "[default: 120s]")
    ] = None,
    domain: Annotated[
        Path | None, typer.Option(help="planning: learning-track domain folder (domain.pddl, "
                                  "training/...)")
    ] = None,
    expansions: Annotated[
        int | None, typer.Option(help="planning: expansion limit per task [default: 20000]")
    ] = None,
    task_time: Annotated[
        str | None, typer.Option(help="planning: search time limit per task [default: 2s]")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="FIELD=VALUE of the problem's config "
                                       "(repeatable)")
    ] = None,
) -> None:
    """Evolve heuristics for a registered problem: LNS operator pools (cvrp, tsp, ovrp), a
    planning heuristic for one domain (--problem planning --domain DIR), or a plugin's role;
    print the results and the exported winner."""
    from ..evolve.budget import Budget
    from ..evolve.run import RunError, RunPlan, run_evolution

    flags = {"size": size, "instances": instances, "iterations": iterations, "train": train,
             "validation": validation, "local_search": local_search, "domain": domain,
             "expansions": expansions, "task_time": task_time, "eval_timeout": eval_timeout,
             "seed": seed}
    loop = {"pool_size": pool_size, "offspring": offspring, "seed": seed, "overlap": overlap}
    _check_ranges({"--jobs": jobs, "--concurrency": concurrency, "--offspring": offspring,
                   "--pool-size": pool_size, "--train": train, "--validation": validation,
                   "--iterations": iterations, "--expansions": expansions, "--size": size,
                   "--seed": seed, "--max-calls": max_calls, "--max-tokens": max_tokens,
                   "--max-evals": max_evals, "--rounds": rounds}, max_cost, target)
    if resume is not None and out is not None:
        _fail("give --out or --resume, not both")
    if scheduler is not None:
        from ..sandbox.cluster import parse_scheduler, quiet_dask_logs

        try:
            parse_scheduler(scheduler)
        except ValueError as exc:
            _fail(str(exc))
        quiet_dask_logs()
    if replay and model is None and resume is None:
        _fail("--replay needs --model (the cache is keyed by the model)")
    prices = None if price is None else _price(price)
    try:
        budget = Budget(max_calls, max_tokens, max_cost, max_evals, parse_duration(time),
                        target, rounds)
        if resume is not None:
            plugin, task_config, config, stored = _resumed(resume, problem, flags, set_, loop)
            model = model or stored.get("model")
            api_base = api_base or stored.get("api_base")
            api_key_env = api_key_env or stored.get("api_key_env")
            prices = prices or (tuple(stored["price"]) if stored.get("price") else None)
            proposer = proposer or stored.get("proposer")
            run_dir = resume
        else:
            plugin = task_plugin(problem or "cvrp")
            task_config = plugin.configure(_task_values(plugin, flags, set_))
            if overlap is None:  # hide a model's latency; GP answers in milliseconds
                loop["overlap"] = (proposer or ("llm" if model else "offline")) != "offline"
            config = _loop_config(plugin, {k: v for k, v in loop.items() if v is not None})
            run_dir = out or Path("runs") / (f"{plugin.run_stem(task_config)}-"
                                            f"{datetime.now():%Y%m%d-%H%M%S}")
            if _holds_run(run_dir):
                _fail(f"{run_dir} already holds a run; continue it with: ahd evolve --resume "
                      f"{run_dir} (or choose another --out)")
    except (ValueError, UnknownTask) as exc:
        _fail(str(exc))
    llm = {"model": model, "api_base": api_base, "api_key_env": api_key_env, "price": prices,
           "replay": replay,
           "concurrency": concurrency,
           "cache_dir": llm_cache or run_dir / "llm_cache"}
    plan = RunPlan(plugin, task_config, config, budget, run_dir, jobs,
                   proposer or ("llm" if model else "offline"), llm, resume is not None,
                   scheduler, checked=resume is not None)
    if plan.resuming:
        _echo(f"resuming {run_dir}")
    try:
        outcome = run_evolution(plan, _echo)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM through ahd.interrupts
        from ..interrupts import exit_status, what

        _echo(f"error: interrupted ({what(exc)}); the run is saved up to its last finished "
              f"round, continue it with: ahd evolve --resume {run_dir}")
        raise typer.Exit(exit_status(exc)) from None
    except (RunError, ValueError) as exc:
        _fail(str(exc))
    from rich.console import Console

    Console().print(outcome.table)
    typer.echo(f"stopped: {outcome.result.stop_reason}")
    for line in outcome.summary.lines:
        typer.echo(line)
    if outcome.summary.exported is not None:
        typer.echo(f"exported winner: {outcome.summary.exported}")


def _price(text: str) -> tuple[float, float]:
    """``--price PROMPT,COMPLETION`` as two finite USD amounts per million tokens."""
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 2 or not all(math.isfinite(v) and v >= 0 for v in values):
        _fail(f"--price must be PROMPT,COMPLETION in USD per million tokens (two amounts "
              f">= 0, e.g. 0.15,0.60), got {text!r}")
    return values[0], values[1]


def _holds_run(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a store with a run (a store killed before its run began
    holds none: ``--out`` may start it again)."""
    from ..store import Store, StoreError

    if not (run_dir / "ahd.sqlite").exists():
        return False
    try:
        with Store.in_run_dir(run_dir, readonly=True) as store:
            return bool(store.runs())
    except StoreError:
        return True  # damaged: refuse, and let --resume say what is wrong


def _task_values(plugin: TaskPlugin, flags: dict, set_: list[str] | None) -> dict[str, Any]:
    """Config field values from the flags the user set (and ``--set``); refuse foreign flags."""
    values: dict[str, Any] = {}
    for flag, value in flags.items():
        if value is None:
            continue
        field = plugin.flags.get(flag)
        if field is None:
            if flag == "seed":
                continue  # the loop's seed; a problem without seeded instances ignores it
            raise ValueError(f"--{flag.replace('_', '-')} does not apply to --problem "
                             f"{plugin.name}")
        values[field] = parse_duration(value) if flag in ("task_time", "eval_timeout") else value
    for item in set_ or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set {item!r}: write FIELD=VALUE")
        values[key.strip()] = value.strip()
    return values


def _loop_config(plugin: TaskPlugin, values: dict[str, Any]) -> Any:
    from ..evolve.loop import EvolveConfig

    return EvolveConfig(**{**plugin.loop_defaults, **values})


def _resumed(run_dir: Path, problem: str | None, flags: dict, set_: list[str] | None,
             loop: dict) -> tuple[TaskPlugin, Any, Any, dict]:
    """Plugin, task config, loop config and stored settings of the run in ``run_dir``."""
    from ..evolve.loop import EvolveConfig
    from ..evolve.resume import check_resume
    from ..settings import build_config

    run = check_resume(run_dir)  # a ValueError, before any worker starts
    if problem is not None and problem != run.problem:
        raise ValueError(f"{run_dir} is a {run.problem} run, not {problem}")
    plugin = task_plugin(run.problem)
    stored = run.config
    task_values = dict(stored.get("task", {}))
    task_config = plugin.configure(task_values)
    given = _task_values(plugin, flags, set_)
    if given:
        changed = to_settings(plugin.configure({**task_values, **given}))
        before = to_settings(task_config)
        diff = sorted(k for k in changed if changed[k] != before.get(k))
        if diff:
            raise ValueError(f"--resume with different settings ({', '.join(diff)}); the run "
                             "used " + ", ".join(f"{k}={before.get(k)}" for k in diff))
    evolve_values = dict(stored.get("evolve") or {})
    if "weights" in evolve_values:
        evolve_values["weights"] = tuple(tuple(w) for w in evolve_values["weights"])
    config = build_config(EvolveConfig, evolve_values) if evolve_values else EvolveConfig()
    for key, value in loop.items():
        if value is not None and getattr(config, key) != value:
            raise ValueError(f"--resume with different settings ({key}); the run used "
                             f"{key}={getattr(config, key)}")
    return plugin, task_config, config, stored


def register(app: typer.Typer) -> None:
    PROBLEM_OPTION.help = problem_help()
    app.command("evolve")(evolve)
