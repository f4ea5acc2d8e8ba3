"""``ahd plan``: solve one PDDL task with greedy best-first search.

Prints one summary line (status, cost, expansions, times) and, with ``--out``, writes the
plan in IPC format. Exit codes: 0 solved, 1 no plan (unsolvable, a limit, a failing
heuristic), 2 bad input (unreadable or unsupported PDDL, bad option values), 130 interrupted
(Ctrl-C). A ``.py`` heuristic's code runs in a sandbox child
(:mod:`ahd.planners.plan_child`), killed a few seconds after the time limit; a file that
misbehaves (runs on, exits, dies) is one ``error:`` line and exit code 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ahd.durations import parse_duration


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def plan_command(
    domain: Annotated[Path, typer.Argument(help="PDDL domain file", metavar="DOMAIN")],
    problem: Annotated[Path, typer.Argument(help="PDDL problem file", metavar="PROBLEM")],
    heuristic: Annotated[
        str, typer.Option(help="blind, goalcount, hmax, hadd, hff, or a .py file defining h")
    ] = "hff",
    time: Annotated[str, typer.Option(help="time limit: 90s, 5m, 1h or seconds")] = "60",
    lazy: Annotated[bool, typer.Option("--lazy", help="lazy instead of eager GBFS")] = False,
    memory: Annotated[
        float | None, typer.Option(help="memory limit in MiB (resident memory)")
    ] = None,
    max_expansions: Annotated[int | None, typer.Option(help="expansion limit")] = None,
    tie_breaking: Annotated[str, typer.Option(help="fifo or lifo among equal h")] = "fifo",
    out: Annotated[Path | None, typer.Option(help="write the plan here (IPC format)")] = None,
) -> None:
    """Solve a PDDL task with greedy best-first search and print the checked result.

    A .py heuristic's code runs in a sandbox child, killed a few seconds after the time limit
    if it has not finished. Ctrl-C stops the command (exit status 130).
    """
    try:
        _plan(domain, problem, heuristic, time, lazy, memory, max_expansions, tie_breaking, out)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


def _plan(
    domain: Path, problem: Path, heuristic: str, time: str, lazy: bool, memory: float | None,
    max_expansions: int | None, tie_breaking: str, out: Path | None,
) -> None:
    """The body of :func:`plan_command` (the same arguments)."""
    from ahd.planners import HEURISTICS, PlanningInputError, solve, write_plan
    from ahd.user_file import UserFileFailure

    try:
        limit = parse_duration(time)
    except ValueError as exc:
        _fail(str(exc))
    if tie_breaking not in ("fifo", "lifo"):
        _fail(f"--tie-breaking must be fifo or lifo, got {tie_breaking!r}")
    for path in (domain, problem):
        if not path.is_file():
            _fail(f"{path}: no such file")
    options = {"heuristic": heuristic, "time_limit": limit, "memory_limit_mb": memory,
               "max_expansions": max_expansions, "lazy": lazy, "tie_breaking": tie_breaking}
    try:
        # A user's file runs in a sandbox child; built-in heuristics are trusted and run here,
        # and so does the loader's error for a name that is neither (nothing of it runs).
        if heuristic not in HEURISTICS and heuristic.endswith(".py") and Path(heuristic).is_file():
            from ahd.planners.plan_child import solve_with_file

            result = solve_with_file(domain, problem, **options,
                                     notify=lambda text: typer.echo(text, err=True))
        else:
            result = solve(domain, problem, **options)
    except PlanningInputError as exc:
        _fail(str(exc))
    except UserFileFailure as exc:
        _fail(str(exc), 1)
    cost = "-" if result.cost is None else f"{result.cost:g}"
    typer.echo(
        f"{result.status}  cost {cost}  expanded {result.expanded}  "
        f"evaluated {result.evaluated}  search {result.search_time:.2f}s  "
        f"ground {result.ground_time:.2f}s  heuristic {result.heuristic}"
    )
    if result.status == "error":
        _fail(result.error or "search failed", 1)
    if result.status != "solved":
        raise typer.Exit(1)
    if out is not None:
        if out.parent != Path(""):
            out.parent.mkdir(parents=True, exist_ok=True)
        write_plan(out, result.plan or [], result.cost, unit_cost=result.unit_cost)
        typer.echo(f"plan written to {out}")


def register(app: typer.Typer) -> None:
    """Add ``plan`` to ``app``."""
    app.command("plan")(plan_command)
