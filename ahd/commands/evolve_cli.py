"""``ahd evolve``: co-evolve operator pools offline or with any LLM, resumable and replayable."""

from __future__ import annotations

import json
import math
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ..durations import parse_duration


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _given(**options) -> dict:
    """The options the user set; the others keep the task config's own defaults."""
    return {k: v for k, v in options.items() if v is not None}


def _echo(line: str) -> None:
    typer.echo(line, err=True)
    sys.stderr.flush()


def evolve(
    problem: Annotated[str, typer.Option(help="cvrp, tsp, ovrp or planning")] = "cvrp",
    size: Annotated[
        int | None, typer.Option(help="customers per generated instance [default: 200]")
    ] = None,
    instances: Annotated[
        Path | None, typer.Option(help="folder of instance files, alternately train/validation")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="litellm model (e.g. gpt-4o-mini); none = offline GP")
    ] = None,
    api_base: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint URL")] = None,
    max_calls: Annotated[int | None, typer.Option(help="stop after N LLM calls")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="stop after N tokens")] = None,
    max_cost: Annotated[float | None, typer.Option(help="stop after this many USD")] = None,
    max_evals: Annotated[int | None, typer.Option(help="stop after N LNS runs")] = None,
    rounds: Annotated[int | None, typer.Option(help="stop after N rounds")] = None,
    target: Annotated[float | None, typer.Option(help="stop at this training objective")] = None,
    time: Annotated[str, typer.Option(help="evolution wall time: 90s, 5m, 1h or seconds")] = "4m",
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    iterations: Annotated[int, typer.Option(help="LNS iterations per scored run")] = 1000,
    train: Annotated[int, typer.Option(help="training instances")] = 16,
    validation: Annotated[
        int | None, typer.Option(help="validation instances [default: 48; planning: 32 tasks]")
    ] = None,
    local_search: Annotated[
        bool, typer.Option(help="score teams with the engine's local search after each repair")
    ] = True,
    offspring: Annotated[int, typer.Option(help="proposals per round")] = 4,
    pool_size: Annotated[int, typer.Option(help="operators kept per pool")] = 6,
    jobs: Annotated[int, typer.Option(help="sandbox workers")] = 2,
    out: Annotated[Path | None, typer.Option(help="run directory (default runs/PROBLEM-TIME)")]
    = None,
    resume: Annotated[Path | None, typer.Option(help="continue the run in this directory")]
    = None,
    replay: Annotated[bool, typer.Option(help="answer LLM calls only from the run's cache")]
    = False,
    llm_cache: Annotated[
        Path | None, typer.Option(help="LLM response cache (default RUN_DIR/llm_cache)")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="simultaneous LLM requests")] = 4,
    eval_timeout: Annotated[
        str, typer.Option(help="wall-clock limit of one sandboxed evaluation")
    ] = "120s",
    domain: Annotated[
        Path | None, typer.Option(help="planning: learning-track domain folder (domain.pddl, "
                                  "training/...)")
    ] = None,
    expansions: Annotated[int, typer.Option(help="planning: expansion limit per task")] = 20000,
    task_time: Annotated[str, typer.Option(help="planning: search time limit per task")] = "2s",
) -> None:
    """Evolve destroy/repair operator pools, or a planning heuristic for one domain
    (--problem planning --domain DIR); print the results and the exported winner."""
    from ..evolve.budget import Budget, StopRule
    from ..evolve.loop import EvolveConfig

    if problem == "planning":
        _evolve_planning(domain, model, api_base, max_calls, max_tokens, max_cost, max_evals,
                         rounds, target, time, seed, train, validation, offspring, pool_size,
                         jobs, out, resume, replay, llm_cache, concurrency, expansions,
                         task_time)
        return
    if domain is not None:
        _fail("--domain is for --problem planning")
    try:
        wall = parse_duration(time)
        budget = Budget(max_calls, max_tokens, max_cost, max_evals, wall, target, rounds)
        config = EvolveConfig(pool_size=pool_size, offspring=offspring, seed=seed)
        from ..problems.task import RoutingTaskConfig

        task_config = RoutingTaskConfig(
            problem=problem, n_train=train, **_given(size=size, n_validation=validation),
            iterations=iterations, seed=seed, instances_dir=instances,
            local_search=local_search, sandbox_wall=parse_duration(eval_timeout),
        )
    except ValueError as exc:
        _fail(str(exc))
    run_dir, settings, llm = _prepare_run(
        f"{problem}", task_config, config, budget, jobs, concurrency, out, resume, model,
        api_base, replay, llm_cache,
    )
    run_evolution(run_dir, settings, task_config, config, StopRule(budget), llm, jobs,
                  resume is not None)


def _prepare_run(stem, task_config, config, budget, jobs, concurrency, out, resume, model,
                 api_base, replay, llm_cache):
    """Checks shared by every problem; returns ``(run_dir, settings, llm options)``."""
    if jobs < 1 or concurrency < 1:
        _fail("--jobs and --concurrency must be at least 1")
    if resume is not None and out is not None:
        _fail("give --out or --resume, not both")
    run_dir = resume or out or Path("runs") / f"{stem}-{datetime.now():%Y%m%d-%H%M%S}"
    if resume is not None and not (resume / "ahd.sqlite").is_file():
        _fail(f"{resume}: no run to resume (no ahd.sqlite)")
    if replay and model is None:
        _fail("--replay needs --model (the cache is keyed by the model)")
    run_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "task": {k: str(v) if isinstance(v, Path) else v
                 for k, v in task_config.__dict__.items()},
        "evolve": config.__dict__, "budget": budget.__dict__, "model": model,
        "api_base": api_base,
    }
    llm = {"model": model, "api_base": api_base, "replay": replay, "concurrency": concurrency,
           "cache_dir": llm_cache or run_dir / "llm_cache"}
    return run_dir, settings, llm


def _open_store(run_dir: Path, settings: dict, resuming: bool):
    """The run's store; on resume, refuse task settings that differ from the stored ones."""
    from ..store import Store

    store = Store.in_run_dir(run_dir)
    if resuming:
        stored = store.open_run().config.get("task", {})
        changed = sorted(k for k, v in settings["task"].items() if stored.get(k, v) != v)
        if changed:
            store.close()
            _fail(f"--resume with different settings ({', '.join(changed)}); the run used "
                  + ", ".join(f"{k}={stored[k]}" for k in changed))
        _echo(f"resuming {run_dir}")
    return store


def run_evolution(run_dir, settings, task_config, config, stop, llm, jobs, resuming) -> None:
    from ..evaluate import WARMUP_SPEC
    from ..evolve.export_team import export_team
    from ..evolve.loop import Evolution
    from ..problems.task import RoutingTask
    from ..proposers.offline import OfflineProposer
    from ..sandbox import SandboxPool

    store = _open_store(run_dir, settings, resuming)
    _echo(f"starting {jobs} sandbox worker(s) (numba compiles the engine on first use)...")
    pool = SandboxPool(jobs, warmup=WARMUP_SPEC, shared_dir=run_dir / "numba")
    if not resuming:
        store.create_run(task_config.problem, settings, seed=config.seed,
                         sandbox=sorted(pool.active_layers))
    _echo(f"sandbox layers: {', '.join(sorted(pool.active_layers)) or 'none'}")
    task = RoutingTask(task_config, pool)
    usage = None
    if llm["model"] is None:
        proposer = OfflineProposer(task.seeds())
    else:
        from ..llm import LLMClient, LLMConfig
        from ..proposers.llm import LLMProposer

        client = LLMClient(
            LLMConfig(model=llm["model"], api_base=llm["api_base"], cache_dir=llm["cache_dir"],
                      replay=llm["replay"], concurrency=llm["concurrency"]),
            on_call=lambda record: store.record_llm_call(**record.store_fields()),
        )
        proposer = LLMProposer(client, task)

        def usage():
            return store.llm_totals(store.run.id)

    evolution = Evolution(task, proposer, store, run_dir, config, stop, _echo, usage)
    try:
        result = evolution.run()
    except KeyboardInterrupt:
        store.set_run_status("interrupted")
        _echo(f"interrupted; resume with: ahd evolve --resume {run_dir}")
        raise typer.Exit(130) from None
    finally:
        pool.close()
    store.set_run_status("finished")
    _report(store, run_dir, task_config.problem, result, export_team)


def _report(store, run_dir: Path, problem: str, result, export_team) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..evolve.loop import paired_gain

    console = Console()
    table = Table(title=f"final pools ({problem})")
    for col in ("role", "id", "strategy", "parents", "team objective (train)"):
        table.add_column(col)
    if result.winner is not None:
        for role, ids in result.winner.members.items():
            for cid in ids:
                cand = store.get_candidate(cid)
                score = store.scores(cid).get("train")
                value = None if score is None else score.mean_objective
                mean = "-" if value is None else f"{value:.6g}"
                table.add_row(role, str(cid), cand.origin.strategy or cand.origin.proposer,
                              ",".join(map(str, cand.parents)) or "-", mean)
    console.print(table)
    seed_val = result.seed_validation
    typer.echo(f"stopped: {result.stop_reason}")
    typer.echo(f"seed team: training {result.seed_train:.6g}, validation "
               f"{'-' if seed_val is None else f'{seed_val:.6g}'}")
    summary = {"seed_train": result.seed_train, "seed_validation": seed_val,
               "failures": result.failures, "stop": result.stop_reason}
    if result.winner is None:
        typer.echo("no evolved team was validated")
    else:
        w = result.winner
        paired = paired_gain(result.seed_validation_objectives, w.validation_objectives)
        verdict = ""
        if paired is not None:
            gain, se, n = paired
            sure = ("better beyond noise" if gain > 2 * se else "worse beyond noise"
                    if gain < -2 * se else "within noise: not a finding")
            verdict = (f" ({gain:+.2f}% vs seeds, standard error {se:.2f}% over {n} "
                       f"instances: {sure})")
            summary.update(validation_gain_pct=gain, validation_gain_se_pct=se)
        typer.echo(f"winner (round {w.round}): training {w.fitness:.6g}, validation "
                   f"{w.validation:.6g}{verdict}")
        header = [
            f"Run: {run_dir}   Problem: {problem}   Round: {w.round}",
            f"Validation objective {w.validation:.6g} (seed team {seed_val}); "
            f"training {w.fitness:.6g}",
            f"Members: {json.dumps(w.members)}",
        ]
        path = export_team(store, w.members, problem, run_dir / "generated", header)
        typer.echo(f"exported winner: {path}")
        summary.update(winner_round=w.round, winner_train=w.fitness,
                       winner_validation=w.validation, winner_members=w.members,
                       exported=str(path))
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))


# --- planning (--problem planning --domain DIR) -----------------------------------------------


def _evolve_planning(domain, model, api_base, max_calls, max_tokens, max_cost, max_evals, rounds,
                     target, time, seed, train, validation, offspring, pool_size, jobs, out,
                     resume, replay, llm_cache, concurrency, expansions, task_time) -> None:
    """``ahd evolve --problem planning``: one heuristic for one domain (see
    :mod:`ahd.planners.evolve_task`); same budgets, store, resume and LLM options as routing."""
    from ..evolve.budget import Budget, StopRule
    from ..evolve.loop import EvolveConfig
    from ..planners.evolve_task import PlanningTaskConfig, find_tasks

    if domain is None:
        _fail("--problem planning needs --domain DIR (a folder with domain.pddl and training/)")
    try:
        budget = Budget(max_calls, max_tokens, max_cost, max_evals, parse_duration(time), target,
                        rounds)
        # One role scored alone: candidates are not mixed into teams, so no joint proposals.
        config = EvolveConfig(pool_size=pool_size, offspring=offspring, seed=seed, weights=(
            ("mutate_params", 0.35), ("mutate_logic", 0.3), ("crossover", 0.2), ("init", 0.15)))
        task_config = PlanningTaskConfig(
            domain_dir=domain, n_train=train, **_given(n_validation=validation),
            max_expansions=expansions, time_limit=parse_duration(task_time),
        )
        find_tasks(domain)
    except ValueError as exc:
        _fail(str(exc))
    run_dir, settings, llm = _prepare_run(
        f"planning-{domain.resolve().name}", task_config, config, budget, jobs, concurrency,
        out, resume, model, api_base, replay, llm_cache,
    )
    _run_planning(run_dir, settings, task_config, config, StopRule(budget), llm, jobs,
                  resume is not None)


def _run_planning(run_dir, settings, task_config, config, stop, llm, jobs, resuming) -> None:
    from ..evolve.loop import Evolution
    from ..planners.evolve_task import WARMUP_SPEC, PlanningTask, export_heuristic
    from ..proposers.planning_offline import PlanningOfflineProposer
    from ..sandbox import SandboxPool

    store = _open_store(run_dir, settings, resuming)
    from ..planners import PlanningInputError

    _echo(f"starting {jobs} sandbox worker(s)...")
    pool = SandboxPool(jobs, warmup=WARMUP_SPEC, prewarm_numba="basic")
    try:
        task = PlanningTask(task_config, pool)
        try:
            profile = task.profile  # parses and grounds the training tasks
        except PlanningInputError as exc:
            _fail(str(exc))
        if not resuming:
            store.create_run(task.problem, settings, seed=config.seed,
                             sandbox=sorted(pool.active_layers))
        _echo(f"sandbox layers: {', '.join(sorted(pool.active_layers)) or 'none'}")
        _echo(f"domain {task.domain_name}: {len(task.files['train'])} training and "
              f"{len(task.files['validation'])} validation tasks; {profile.describe()}")
        usage = None
        if llm["model"] is None:
            proposer = PlanningOfflineProposer(task.profile.catalogue)
        else:
            from ..llm import LLMClient, LLMConfig
            from ..proposers.llm import LLMProposer

            client = LLMClient(
                LLMConfig(model=llm["model"], api_base=llm["api_base"],
                          cache_dir=llm["cache_dir"], replay=llm["replay"],
                          concurrency=llm["concurrency"]),
                on_call=lambda record: store.record_llm_call(**record.store_fields()),
            )
            proposer = LLMProposer(client, task)

            def usage():
                return store.llm_totals(store.run.id)

        evolution = Evolution(task, proposer, store, run_dir, config, stop, _echo, usage)
        try:
            result = evolution.run()
        except KeyboardInterrupt:
            store.set_run_status("interrupted")
            _echo(f"interrupted; resume with: ahd evolve --resume {run_dir} --problem planning "
                  f"--domain {task_config.domain_dir}")
            raise typer.Exit(130) from None
    finally:
        pool.close()
    store.set_run_status("finished")
    n_val = len(task.files["validation"])
    summary = {"domain": task.domain_name, "seed_train": result.seed_train,
               "seed_validation": result.seed_validation, "failures": result.failures,
               "stop": result.stop_reason, "validation_tasks": n_val,
               "limits": {"max_expansions": task_config.max_expansions,
                          "time_limit": task_config.time_limit}}

    def solved(value):
        return None if value is None or not math.isfinite(value) else n_val - int(value)

    typer.echo(f"stopped: {result.stop_reason}")
    seed_solved = solved(result.seed_validation)
    typer.echo(f"goal count (seed): training fitness {result.seed_train:.6g}, held-out "
               f"{'-' if seed_solved is None else seed_solved}/{n_val} solved")
    summary["seed_validation_solved"] = seed_solved
    if result.winner is None:
        typer.echo("no evolved heuristic was validated")
    else:
        w = result.winner
        (cid,) = w.members["heuristic"]
        cand = store.get_candidate(cid)
        won = solved(w.validation)
        typer.echo(f"winner (candidate {cid}, round {w.round}, {cand.origin.strategy}): "
                   f"training fitness {w.fitness:.6g}, held-out "
                   f"{'-' if won is None else won}/{n_val} solved (validation fitness "
                   f"{w.validation:.6g})")
        if seed_solved is not None and (won is None or won < seed_solved):
            typer.echo("note: the winner solves fewer held-out tasks than goal count")
        header = [
            f"Run: {run_dir}   Domain: {task.domain_name}   Candidate: {cid}   Round: {w.round}",
            f"Held-out tasks solved: {won}/{n_val} (goal count {seed_solved}/{n_val}); limits "
            f"{task_config.max_expansions} expansions, {task_config.time_limit:g} s per task",
        ]
        path = export_heuristic(cand.source, run_dir / "generated", task.domain_name, header)
        typer.echo(f"exported winner: {path}")
        summary.update(winner_id=cid, winner_round=w.round, winner_train=w.fitness,
                       winner_validation=w.validation, winner_validation_solved=won,
                       exported=str(path))
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))


def register(app: typer.Typer) -> None:
    app.command("evolve")(evolve)
