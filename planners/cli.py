"""``ahd plan``: solve one PDDL task with greedy best-first search.

Prints one summary line (status, cost, expansions, times) and, with ``--out``, writes the
plan in IPC format. Exit codes: 0 solved, 1 no plan (unsolvable, a limit, a failing
heuristic), 2 bad input (unreadable or unsupported PDDL, bad option values).
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
    """Solve a PDDL task with greedy best-first search and print the checked result."""
    from ahd.planners import PlanningInputError, solve, write_plan

    try:
        limit = parse_duration(time)
    except ValueError as exc:
        _fail(str(exc))
    if tie_breaking not in ("fifo", "lifo"):
        _fail(f"--tie-breaking must be fifo or lifo, got {tie_breaking!r}")
    for path in (domain, problem):
        if not path.is_file():
            _fail(f"{path}: no such file")
    try:
        result = solve(
            domain, problem, heuristic=heuristic, time_limit=limit, memory_limit_mb=memory,
            max_expansions=max_expansions, lazy=lazy, tie_breaking=tie_breaking,
        )
    except PlanningInputError as exc:
        _fail(str(exc))
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
