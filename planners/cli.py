"""``ahd plan``: solve one PDDL task with greedy best-first search.

Prints one summary line (status, cost, expansions, times) and, with ``--out``, writes the
plan in IPC format. Exit codes: 0 solved, 1 no plan (unsolvable, a limit, a failing
heuristic), 2 bad input (unreadable or unsupported PDDL, bad option values), 130 interrupted
(Ctrl-C). A ``.py`` heuristic's code runs in a sandbox child
(:mod:`ahd.planners.plan_child`), killed a few seconds after the time limit; a file that
misbehaves (runs on, exits, dies) is one ``error:`` line and exit code 1.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ahd.durations import parse_duration
from ahd.interrupts import exit_status, what


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
    search: Annotated[str, typer.Option(
        help="gbfs, or ehc: enforced hill-climbing (for direct heuristics), GBFS where stuck"
    )] = "gbfs",
    preferred: Annotated[bool, typer.Option(
        "--preferred", help="with --lazy and hff (or an evolved heuristic file that runs "
        "compiled): helpful actions first, LAMA-style"
    )] = False,
    landmarks: Annotated[bool, typer.Option(
        "--landmarks", help="with gbfs: LAMA's landmark count as a second heuristic, in "
        "alternation (--lazy --preferred --landmarks with hff: LAMA's first search)"
    )] = False,
    memory: Annotated[
        float | None, typer.Option(help="memory limit in MiB (resident memory)")
    ] = None,
    max_expansions: Annotated[int | None, typer.Option(help="expansion limit")] = None,
    tie_breaking: Annotated[str, typer.Option(help="fifo or lifo among equal h")] = "fifo",
    out: Annotated[Path | None, typer.Option(help="write the plan here (IPC format)")] = None,
    seed: Annotated[int | None, typer.Option(
        help="with gbfs: expand successors in an order shuffled by this seed (Fast "
        "Downward's randomize_successors) instead of operator order")] = None,
) -> None:
    """Solve a PDDL task with greedy best-first search and print the checked result.

    A .py heuristic's code runs in a sandbox child, killed a few seconds after the time limit
    if it has not finished. Ctrl-C stops the command (exit status 130).
    """
    try:
        _plan(domain, problem, heuristic, time, lazy, memory, max_expansions, tie_breaking, out,
              search, preferred, landmarks, seed)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM through ahd.interrupts
        _fail(f"interrupted ({what(exc)})", exit_status(exc))


def _plan(
    domain: Path, problem: Path, heuristic: str, time: str, lazy: bool, memory: float | None,
    max_expansions: int | None, tie_breaking: str, out: Path | None, search: str = "gbfs",
    preferred: bool = False, landmarks: bool = False, seed: int | None = None,
) -> None:
    """The body of :func:`plan_command` (the same arguments)."""
    from ahd.planners import HEURISTICS, PlanningInputError, solve
    from ahd.planners.heuristics import compiled_file
    from ahd.planners.heuristics.genome import GenomeTooLarge
    from ahd.user_file import UserFileFailure

    _check_ranges(time, memory, max_expansions)
    try:
        limit = parse_duration(time)
    except ValueError as exc:
        _fail(str(exc))
    if tie_breaking not in ("fifo", "lifo"):
        _fail(f"--tie-breaking must be fifo or lifo, got {tie_breaking!r}")
    if search not in ("gbfs", "ehc"):
        _fail(f"--search must be gbfs or ehc, got {search!r}")
    if search == "ehc" and lazy:
        _fail("--lazy applies to gbfs, not to --search ehc")
    if preferred and (not lazy or (heuristic != "hff" and not heuristic.endswith(".py"))):
        _fail("--preferred needs --lazy and --heuristic hff or an evolved heuristic file "
              "(helpful actions come from h_FF's relaxed plan)")
    if landmarks and search != "gbfs":
        _fail("--landmarks needs --search gbfs")
    if seed is not None and search != "gbfs":
        _fail("--seed shuffles gbfs's successors, not --search ehc's")
    for path in (domain, problem):
        if not path.is_file():
            _fail(f"{path}: no such file")
    _check_heuristic(heuristic)
    _check_out(out, (domain, problem, Path(heuristic)))
    options = {"heuristic": heuristic, "time_limit": limit, "memory_limit_mb": memory,
               "max_expansions": max_expansions, "lazy": lazy, "tie_breaking": tie_breaking,
               "search": search, **({"preferred": True} if preferred else {}),
               **({"landmarks": True} if landmarks else {}),
               **({"seed": seed} if seed is not None else {})}
    try:
        # A user's file runs in a sandbox child; built-in heuristics are trusted and run here,
        # and so does the loader's error for a name that is neither (nothing of it runs), and
        # a file that is a rendered genome: it runs compiled, none of its code is executed.
        genome = None if heuristic in HEURISTICS else compiled_file(heuristic)
        result = None
        if genome is not None:  # without its source: nothing of the file may run here
            result = solve(domain, problem,
                           **{**options, "heuristic": dataclasses.replace(genome, source="")})
            if result.status == "error" and (result.error or "").startswith(
                    GenomeTooLarge.PREFIX):
                result = None  # too large to compile: its Python, in a sandbox child
        if result is None and (heuristic not in HEURISTICS and heuristic.endswith(".py")
                               and Path(heuristic).is_file()):
            from ahd.planners.plan_child import solve_with_file

            result = solve_with_file(domain, problem, **options,
                                     notify=lambda text: typer.echo(text, err=True))
        elif result is None:
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
        _write_plan(out, result.plan or [], result.cost, result.unit_cost)


def _check_ranges(time: str, memory: float | None, max_expansions: int | None) -> None:
    """Refuse option values out of range, each naming its option, before any parsing."""
    import math

    try:
        parse_duration(time)
    except ValueError as exc:
        _fail(f"--time: {exc}")
    if memory is not None and not (memory > 0 and math.isfinite(memory)):
        _fail(f"--memory must be a positive number of MiB, got {memory:g}")
    if max_expansions is not None and max_expansions < 0:
        _fail(f"--max-expansions must be at least 0, got {max_expansions}")


def _check_heuristic(heuristic: str) -> None:
    """Refuse a ``--heuristic`` that is neither a built-in name nor an existing ``.py`` file
    before the task is parsed and ground (the loader would, only later). Exit status 1, as
    for every heuristic that cannot be used (see the module docstring)."""
    from ahd.planners import HEURISTICS

    if heuristic in HEURISTICS:
        return
    if not heuristic.endswith(".py"):
        _fail(f"--heuristic: unknown heuristic {heuristic!r}: use one of "
              f"{', '.join(HEURISTICS)} or a .py file", 1)
    if not Path(heuristic).is_file():
        _fail(f"--heuristic {heuristic}: no such heuristic file", 1)


def _check_out(out: Path | None, inputs: tuple[Path, ...]) -> None:
    """Refuse an ``--out`` that could not be written (or would overwrite an input file)
    before the search, so a long search is never wasted on it."""
    if out is None:
        return
    from ahd.output_paths import OutputPathError, check_output_file

    for given in inputs:
        if out.exists() and given.exists() and out.resolve() == given.resolve():
            _fail(f"--out {out}: is an input file ({given}); choose another path")
    try:
        check_output_file(out)
    except OutputPathError as exc:
        _fail(str(exc))


def _write_plan(out: Path, plan: list[str], cost: float | None, unit_cost: bool) -> None:
    """Write the plan atomically; if that fails, print it rather than lose it."""
    from ahd.output_paths import write_result
    from ahd.planners import format_plan

    problem = write_result(out, format_plan(plan, cost, unit_cost))
    if problem is not None:
        _fail(f"--out {problem}", 1)
    typer.echo(f"plan written to {out}")


def register(app: typer.Typer) -> None:
    """Add ``plan`` to ``app``."""
    app.command("plan")(plan_command)
