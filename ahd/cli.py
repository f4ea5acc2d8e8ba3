"""The ``ahd`` command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from .commands.store_cli import register as register_store_commands
from .durations import parse_duration

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Automatic heuristic design: evolve and run LNS operators and planning heuristics.",
)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.callback()
def _main() -> None:
    """Automatic heuristic design for routing and planning."""


@app.command()
def solve(
    problem: Annotated[
        str | None, typer.Option(help="cvrp, tsp or ovrp (default: the file's TYPE, else cvrp)")
    ] = None,
    instance: Annotated[
        Path | None, typer.Option(help="VRPLIB/TSPLIB instance file", dir_okay=False)
    ] = None,
    generate: Annotated[
        int | None, typer.Option(help="instead of --instance: a generated instance of size N")
    ] = None,
    time: Annotated[str, typer.Option(help="time limit: 90s, 5m, 1h or seconds")] = "10s",
    iterations: Annotated[int | None, typer.Option(help="iteration limit")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    bks: Annotated[float | None, typer.Option(help="reference cost; prints the gap")] = None,
    out: Annotated[Path | None, typer.Option(help="write the solution (VRPLIB .sol)")] = None,
    acceptance: Annotated[str, typer.Option(help="sa (simulated annealing) or rrt")] = "sa",
) -> None:
    """Solve one routing instance with the seed-operator LNS and print its verified cost."""
    import numpy as np

    from .problems.engine.config import LNSConfig
    from .problems.engine.lns import run_lns
    from .problems.io import InstanceFormatError, read_instance, write_solution
    from .problems.problem import get_problem

    try:
        spec = get_problem(problem or "cvrp")
        limit = parse_duration(time)
        config = LNSConfig(
            time_limit=limit, iterations=iterations, seed=seed, acceptance=acceptance
        )
    except ValueError as exc:
        _fail(str(exc))
    if (instance is None) == (generate is None):
        _fail("give exactly one of --instance FILE and --generate N")
    if instance is not None:
        if not instance.is_file():
            _fail(f"{instance}: no such file")
        try:
            inst = read_instance(instance, kind=problem)
        except InstanceFormatError as exc:
            _fail(str(exc))
    else:
        if generate < 1:
            _fail("--generate needs at least 1 customer")
        inst = spec.generate(generate, np.random.default_rng(seed))
    typer.echo(
        f"{inst.name}: {inst.kind}, {inst.n} customers; searching for {limit:g}s "
        f"(numba compiles on first use)", err=True
    )
    result = run_lns(inst, config)
    typer.echo(f"cost {result.cost:.6g}  routes {len(result.routes)}  "
               f"iterations {result.iterations}  time {result.elapsed:.1f}s")
    if bks is not None:
        typer.echo(f"gap {100.0 * (result.cost - bks) / bks:.3f}%  (reference {bks:g})")
    if out is not None:
        os.makedirs(out.parent, exist_ok=True) if str(out.parent) else None
        write_solution(result.routes, result.cost, out)
        typer.echo(f"solution written to {out}")


register_store_commands(app)

if __name__ == "__main__":
    app()
