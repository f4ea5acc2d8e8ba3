"""``ahd plan-eval``: planning-competition-style evaluation of several planners on a suite.

Runs every planner on every selected task, one process per run under the time and memory
limits, validates every plan with unified-planning, stores each result as it ends (an
interrupted evaluation resumes where it stopped) and writes ``report.md``, ``runs.csv``,
``summary.csv`` and ``cactus.png`` into the evaluation folder. ``--scheduler`` runs them on a
dask.distributed cluster instead (:mod:`.cluster_runner`); plans still come back here to be
validated and stored. Exit codes: 0 done, 1 interrupted or the dask scheduler lost (rerun to
resume), 2 bad input (unknown planner, empty selection, a folder holding an evaluation with
other limits, a scheduler that cannot be reached or whose workers cannot run a request).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ahd.durations import parse_duration
from ahd.interrupts import what

PLANNER_HELP = (
    "planner spec, repeatable: ahd:hff, ahd:goalcount, ahd:PATH.py (PATH may contain {domain}), "
    "fd:lama-first, fd:gbfs-ff (or any FD alias or search string), pyperplan:hff, "
    "cmd:'prog {domain} {problem} {plan}'; prefix LABEL= to name it in tables"
)


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _items(values: list[str] | None) -> list[str] | None:
    """Repeated and comma-separated values, flattened; None when none were given."""
    if not values:
        return None
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def plan_eval_command(
    suite: Annotated[Path, typer.Argument(
        help="suite folder (one folder per domain, IPC 2023 learning-track layout), one domain "
             "folder, or a file of 'DOMAIN_FILE PROBLEM_FILE' lines", metavar="SUITE")],
    planner: Annotated[list[str] | None, typer.Option(help=PLANNER_HELP)] = None,
    time: Annotated[str, typer.Option(help="time limit per run: 90s, 5m, 1h or seconds")] = "5m",
    memory: Annotated[str, typer.Option(
        help="memory (address-space) limit per run: 8G, 512M, MiB as a number, or none")] = "8G",
    jobs: Annotated[int, typer.Option(help="runs at the same time (one core each)")] = 1,
    split: Annotated[list[str] | None, typer.Option(
        help="splits to run, repeatable or comma-separated: testing, testing/easy, training, "
             "all (default testing)")] = None,
    domains: Annotated[list[str] | None, typer.Option(
        help="domain names or patterns, repeatable or comma-separated")] = None,
    tasks: Annotated[list[str] | None, typer.Option(
        help="problem names or patterns (p01, p0*), repeatable or comma-separated")] = None,
    out: Annotated[Path | None, typer.Option(
        help="evaluation folder (results store, plans, logs, report); "
             "default SUITE/../plan-eval")] = None,
    grace: Annotated[str, typer.Option(
        help="extra time before a run is killed, to write its plan and exit")] = "5s",
    ipc_invalid_rule: Annotated[bool, typer.Option(
        "--ipc-invalid-rule", help="an invalid plan zeroes its planner's whole domain "
        "(IPC 2023 rule); default: it scores 0 on its task only")] = False,
    scheduler: Annotated[str | None, typer.Option(
        help="run on a dask cluster: the scheduler's address (tcp://HOST:PORT) or local:N for "
             "N worker processes here; --jobs then counts validations at the same time")] = None,
    report_only: Annotated[bool, typer.Option(
        "--report-only", help="rewrite the report of --out (or the default folder) from its "
        "store, running nothing")] = False,
) -> None:
    """Run planners on a suite competition-style and report coverage, IPC quality and agile
    scores (resumable: rerun the same command to continue)."""
    from ahd.planners.competition import (
        Limits,
        PlannerSpecError,
        ResultsError,
        SuiteError,
        default_out_dir,
        evaluate,
        parse_memory,
        report_from_store,
    )
    from ahd.sandbox import ClusterError, ClusterLost

    folder = out if out is not None else default_out_dir(suite)
    if report_only:
        try:
            _, files = report_from_store(folder, invalid_zeroes_domain=ipc_invalid_rule)
        except ResultsError as exc:
            _fail(str(exc))
        typer.echo(files["markdown"].read_text())
        typer.echo(f"report written to {folder}")
        return
    if not planner:
        _fail("give at least one --planner (e.g. --planner ahd:hff --planner fd:lama-first)")
    if jobs < 1:
        _fail("--jobs must be at least 1")
    _check_ranges(time, memory, grace)
    if scheduler is not None:
        from ahd.sandbox.cluster import parse_scheduler

        try:
            parse_scheduler(scheduler)
        except ValueError as exc:
            _fail(str(exc))
    try:
        limits = Limits(
            time=parse_duration(time),
            memory_mb=None if memory.strip().lower() == "none" else parse_memory(memory),
            grace=parse_duration(grace),
        )
    except ValueError as exc:
        _fail(str(exc))
    splits = _items(split) or ["testing"]
    if "all" in splits:
        splits = None

    _check_planners(planner)
    _check_inputs(suite, splits, _items(domains), _items(tasks))
    _check_out_dir(folder)

    def progress(rec, done: int, total: int) -> None:
        cost = "" if rec.cost is None else f" cost {rec.cost:g}"
        why = f" ({rec.error[:120]})" if rec.error and not rec.solved else ""
        typer.echo(f"[{done}/{total}] {rec.planner} {rec.task}: {rec.status}{cost} "
                   f"{rec.time:.1f}s{why}", err=True)

    try:
        result = evaluate(
            suite, planner, limits, out_dir=folder, jobs=jobs, splits=splits,
            domains=_items(domains), tasks=_items(tasks),
            invalid_zeroes_domain=ipc_invalid_rule, on_result=progress, scheduler=scheduler,
        )
    except (SuiteError, PlannerSpecError, ResultsError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM through ahd.interrupts
        typer.echo(f"interrupted ({what(exc)}); rerun the same command to resume ({folder})",
                   err=True)
        raise typer.Exit(1) from None
    except ClusterLost as exc:
        _fail(f"{_one_line(exc)}; rerun the same command to resume ({folder})", code=1)
    except ClusterError as exc:
        _fail(_one_line(exc))
    for p in result.planners if scheduler is None else ():  # workers speak in the report
        why = p.unavailable()
        if why:
            typer.echo(f"warning: {p.label} unavailable: {why}", err=True)
    typer.echo(result.files["markdown"].read_text())
    typer.echo(f"{result.ran} runs this time; report written to {result.out_dir}")


def _check_ranges(time: str, memory: str, grace: str) -> None:
    """Refuse out-of-range limits, each naming its option, before anything runs."""
    from ahd.planners.competition import parse_memory

    for option, text in (("--time", time), ("--grace", grace)):
        try:
            parse_duration(text)
        except ValueError as exc:
            _fail(f"{option}: {exc}")
    if memory.strip().lower() != "none":
        try:
            parse_memory(memory)
        except ValueError as exc:
            _fail(f"--memory: {exc}")


def _check_planners(specs: list[str]) -> None:
    """Refuse an unknown planner spec before the evaluation folder is made."""
    from ahd.planners.competition import PlannerSpecError, parse_planner

    for spec in specs:
        try:
            parse_planner(spec)
        except PlannerSpecError as exc:
            _fail(_one_line(exc))


def _check_inputs(suite: Path, splits: list[str] | None, domains: list[str] | None,
                  tasks: list[str] | None) -> None:
    """Refuse a suite whose pair list or selected PDDL files are not text, before any run.

    Each run would otherwise fail on its own, minutes into the evaluation, and a pair list
    that is not text would end the command in a decoding traceback.
    """
    from ahd.planners import PlanningInputError
    from ahd.planners.competition import SuiteError, discover
    from ahd.planners.pddl_io import read_pddl_text

    try:
        if suite.is_file():
            read_pddl_text(suite, "pair list")
        selected = discover(suite, splits=splits, domains=domains, tasks=tasks)
        seen: set[Path] = set()
        for task in selected:
            for path, what in ((task.domain_file, "domain"), (task.problem_file, "problem")):
                if path not in seen:
                    seen.add(path)
                    read_pddl_text(path, what)
    except (SuiteError, PlanningInputError) as exc:
        _fail(_one_line(exc))


def _check_out_dir(folder: Path) -> None:
    """Refuse an evaluation folder that could not be written, before any run."""
    from ahd.output_paths import OutputPathError, check_output_dir

    try:
        check_output_dir(folder)
    except OutputPathError as exc:
        _fail(str(exc))


def register(app: typer.Typer) -> None:
    """Add ``plan-eval`` to ``app``."""
    app.command("plan-eval")(plan_eval_command)
