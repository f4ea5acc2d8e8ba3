"""``ahd solve``: one routing instance with the LNS (seed or evolved operators), alone or with
OR-Tools. Registered as an ``ahd.commands`` entry point, so the core CLI does not name it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ahd.durations import parse_duration
from ahd.interrupts import exit_status, what

from .problem import DEFAULT_PROBLEM, get_problem, problem_names

if TYPE_CHECKING:
    from .engine.config import LNSConfig
    from .instance import RoutingInstance
    from .solve_child import SandboxedHeuristic


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


PIPELINE_HELP = (
    "lns (the engine alone), ortools-warmstart (LNS, then OR-Tools from its solution), "
    "ortools-then-lns (OR-Tools' first solution, then LNS), ortools (OR-Tools alone), "
    "ortools-operator (OR-Tools with the destroy/repair operators inside its search)"
)


def solve(
    problem: Annotated[
        str | None,
        typer.Option(help=f"{', '.join(problem_names())} (default: the file's TYPE; for "
                     f"--generate the heuristic's PROBLEM, else {DEFAULT_PROBLEM})"),
    ] = None,
    instance: Annotated[
        Path | None, typer.Option(help="VRPLIB/TSPLIB instance file", dir_okay=False)
    ] = None,
    generate: Annotated[
        int | None, typer.Option(help="instead of --instance: a generated instance of size N")
    ] = None,
    time: Annotated[str, typer.Option(help="time limit: 90s, 5m, 1h or seconds")] = "10s",
    iterations: Annotated[
        int | None, typer.Option(help="iteration limit (--pipeline lns only)")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    bks: Annotated[float | None, typer.Option(help="reference cost; prints the gap")] = None,
    out: Annotated[Path | None, typer.Option(help="write the solution (VRPLIB .sol)")] = None,
    acceptance: Annotated[str, typer.Option(help="sa (simulated annealing) or rrt")] = "sa",
    heuristic: Annotated[
        Path | None,
        typer.Option(help="exported heuristic (.py with DESTROY/REPAIR lists or destroy/repair "
                     "functions); default: the seed operators", dir_okay=False),
    ] = None,
    pipeline: Annotated[str, typer.Option(help=PIPELINE_HELP)] = "lns",
    distances: Annotated[str, typer.Option(
        help="auto (a distance matrix up to 4,000 nodes, distances computed from coordinates "
             "beyond: memory that grows with n), matrix, or coords; same costs either way")
    ] = "auto",
) -> None:
    """Solve one routing instance with the LNS (seed or evolved operators), alone or combined
    with OR-Tools, and print its verified cost.

    A --heuristic file's code runs in a sandbox child, killed a few seconds after the time
    limit if it has not finished. Ctrl-C stops the command (exit status 130).
    """
    try:
        _solve(problem, instance, generate, time, iterations, seed, bks, out, acceptance,
               heuristic, pipeline, distances)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM through ahd.interrupts
        _fail(f"interrupted ({what(exc)})", exit_status(exc))
    except RuntimeError as exc:
        _fail_on_search_failure(exc)


def _fail_on_search_failure(exc: RuntimeError) -> NoReturn:
    """One line (exit status 1) for a search that ended without a feasible solution, as for an
    instance whose fixed fleet no packing of the demands fits; any other error propagates."""
    from .engine.lns import OperatorError

    if isinstance(exc, OperatorError):
        _fail(f"the search ended without a solution: {exc} (is the instance feasible? a "
              "fixed VEHICLES count may be too small)", 1)
    raise exc


def _solve(
    problem: str | None, instance: Path | None, generate: int | None, time: str,
    iterations: int | None, seed: int, bks: float | None, out: Path | None, acceptance: str,
    heuristic: Path | None, pipeline: str, distances: str = "auto",
) -> None:
    """The body of :func:`solve` (the same arguments): check them, then :func:`_run`, with
    the heuristic file's code in a sandbox child when there is one."""
    from .engine.config import LNSConfig
    from .instance import DISTANCE_MODES
    from .io import InstanceFormatError, read_instance
    from .pipelines import PIPELINES

    if distances not in DISTANCE_MODES:
        _fail(f"--distances must be one of {', '.join(DISTANCE_MODES)}, got {distances!r}")
    _check_ranges(time, seed, bks, generate, distances)
    if pipeline not in PIPELINES:
        _fail(f"unknown pipeline {pipeline!r}; choose one of {', '.join(PIPELINES)}")
    if iterations is not None and pipeline != "lns":
        _fail("--iterations only applies to --pipeline lns (the other pipelines are timed)")
    try:
        if problem is not None:
            get_problem(problem)
        limit = parse_duration(time)
        config = LNSConfig(
            time_limit=limit, iterations=iterations, seed=seed, acceptance=acceptance
        )
    except ValueError as exc:
        _fail(str(exc))
    if heuristic is not None and not heuristic.is_file():
        _fail(f"{heuristic}: no such heuristic file")
    if (instance is None) == (generate is None):
        _fail("give exactly one of --instance FILE and --generate N")
    inst = None
    if instance is not None:
        if not instance.is_file():
            _fail(f"{instance}: no such file")
        try:
            inst = read_instance(instance, kind=problem, distances=distances)
        except InstanceFormatError as exc:
            _fail(str(exc))
    elif generate < 1:
        _fail("--generate needs at least 1 customer")
    _check_out(out, instance, heuristic)
    if heuristic is None:
        _run(None, problem, inst, generate, seed, pipeline, limit, config, bks, out, distances)
        return
    from ahd.user_file import UserFileFailure, UserFileRunner

    from .heuristic_file import HeuristicFileError
    from .solve_child import WARMUP, SandboxedHeuristic

    try:
        with UserFileRunner(heuristic, WARMUP, limit) as runner:
            if runner.warning:
                typer.echo(runner.warning, err=True)
            runner.start_clock()
            pools = SandboxedHeuristic(heuristic, runner)
            _run(pools, problem, inst, generate, seed, pipeline, limit, config, bks, out,
                 distances)
    except (HeuristicFileError, UserFileFailure) as exc:
        _fail(str(exc))


def _run(
    pools: SandboxedHeuristic | None, problem: str | None, inst: RoutingInstance | None,
    generate: int | None, seed: int, pipeline: str, limit: float, config: LNSConfig,
    bks: float | None, out: Path | None, distances: str = "auto",
) -> None:
    """Build the instance, run the pipeline (in process, or with the file's pools in their
    sandbox child) and print the verified result."""
    import numpy as np

    from .instance import with_distances
    from .pipelines import run_pipeline

    info = pools.describe() if pools is not None else None
    try:
        spec = get_problem(problem or (info and info.problem) or DEFAULT_PROBLEM)
    except ValueError as exc:
        _fail(str(exc))
    if inst is None:
        inst = with_distances(spec.generate(generate, np.random.default_rng(seed)), distances)
    if info is not None and info.problem not in (None, inst.kind):
        typer.echo(f"warning: {pools.path.name} was made for {info.problem}, solving "
                   f"{inst.kind}", err=True)
    operators = info.describe() if info is not None else "seed operators"
    typer.echo(
        f"{inst.name}: {inst.kind}, {inst.n} customers; {pipeline} with {operators} for "
        f"{limit:g}s (numba compiles on first use)", err=True
    )
    if pools is None:
        if pipeline != "ortools":  # every other pipeline runs the LNS with the seed pools
            from .engine.first_run import compile_in_parallel
            from .engine.lns import as_operators

            compile_in_parallel(inst.kind, {role: as_operators(None, role, inst.kind)
                                       for role in ("destroy", "repair")},
                                "matrix" if inst.dense else "coords")
        result = run_pipeline(pipeline, inst, limit, config=config)
    else:
        result = pools.run(pipeline, inst, limit, config)
        if pools.runner.output.strip():
            typer.echo(pools.runner.output.rstrip("\n"), err=True)
    iters = sum(s.detail.get("iterations", 0) for s in result.stages)
    typer.echo(f"cost {result.cost:.6g}  routes {len(result.routes)}  "
               f"iterations {iters}  time {result.seconds:.1f}s")
    if len(result.stages) > 1 or pipeline != "lns":
        for stage in result.stages:
            cost = "no solution" if stage.cost is None else f"cost {stage.cost:.6g}"
            error = stage.detail.get("operator_error")
            note = f" (operator switched off: {error})" if error else ""
            typer.echo(f"  {stage.name}: {cost} in {stage.seconds:.1f}s{note}")
    if bks is not None:
        typer.echo(f"gap {100.0 * (result.cost - bks) / bks:.3f}%  (reference {bks:g})")
    if out is not None:
        _write_solution(result.routes, result.cost, out)


def _check_ranges(time: str, seed: int, bks: float | None, generate: int | None,
                  distances: str = "auto") -> None:
    """Refuse option values out of range, each naming its option, before anything runs."""
    import math

    try:
        parse_duration(time)
    except ValueError as exc:
        _fail(f"--time: {exc}")
    if seed < 0:
        _fail(f"--seed must be at least 0, got {seed}")
    if bks is not None and not (bks > 0 and math.isfinite(bks)):
        _fail(f"--bks must be a positive finite cost (the gap divides by it), got {bks:g}")
    if generate is not None and generate >= 1:
        from .instance import keep_matrix
        from .instance_limits import coordinate_memory_problem, matrix_memory_problem

        dense = keep_matrix(generate + 1, "FLOAT_2D", distances)
        too_big = (matrix_memory_problem if dense else coordinate_memory_problem)(generate + 1)
        if too_big is not None:
            _fail(f"--generate {generate} is too large for this machine: {too_big}")


def _check_out(out: Path | None, instance: Path | None, heuristic: Path | None) -> None:
    """Refuse an ``--out`` that could not be written (or would overwrite an input) before the
    search, so a long search is never wasted on it."""
    if out is None:
        return
    from ahd.output_paths import OutputPathError, check_output_file

    for given, role in ((instance, "instance"), (heuristic, "heuristic")):
        if given is not None and out.exists() and out.resolve() == given.resolve():
            _fail(f"--out {out}: is the {role} file; choose another path")
    try:
        check_output_file(out)
    except OutputPathError as exc:
        _fail(str(exc))


def _write_solution(routes: list, cost: float, out: Path) -> None:
    """Write the solution atomically; if that fails, print it rather than lose it."""
    from ahd.output_paths import write_result

    from .io import format_solution

    problem = write_result(out, format_solution(routes, cost))
    if problem is not None:
        _fail(f"--out {problem}", 1)
    typer.echo(f"solution written to {out}")


def register(app: typer.Typer) -> None:
    """Add ``solve`` to ``app``."""
    app.command("solve")(solve)
