"""``ahd report``: one self-contained HTML page (and optionally PNG plots) for a run directory.

Works on finished, running and killed runs, and on run directories the user cannot write to:
the store is opened read-only (see :func:`ahd.store.read_only_uri`) and nothing in the run
directory is changed except the report file itself when it is written there (the default; with
a read-only run directory, name another file with ``--out``). Problems (no such directory, not
a run, an unreadable or damaged store, an unwritable output) end in one ``error: ...`` line and
exit code 2; the outputs are checked before the report is built.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ..durations import parse_duration
from ..store import STORE_FILENAME, StoreError
from .viewing import output_problem, unreadable_store

REPORT_FILE = "report.html"


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def report_command(
    run_dir: Annotated[
        Path, typer.Argument(help="run directory (holds ahd.sqlite)", metavar="RUN_DIR")
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="HTML file to write (default RUN_DIR/report.html)", dir_okay=False),
    ] = None,
    png: Annotated[
        Path | None,
        typer.Option(help="also write the plots as PNG files into this directory",
                     file_okay=False),
    ] = None,
    top: Annotated[int, typer.Option(help="leaderboard length")] = 20,
    routes: Annotated[
        bool,
        typer.Option("--routes/--no-routes",
                     help="re-run the team on a validation instance (sandboxed) to draw routes"),
    ] = True,
    route_timeout: Annotated[
        str, typer.Option(help="wall-clock limit of that re-run: 90s, 5m or seconds")
    ] = "120s",
    dpi: Annotated[int, typer.Option(help="resolution of the --png files")] = 200,
) -> None:
    """Write an HTML report of a run: convergence, leaderboard with code, lineage, operator
    usage, LLM spending, failures and, for routing, the best team's routes."""
    from ..report import ReportError, collect_run, write_pngs, write_report

    if top < 1:
        _fail(f"--top must be at least 1, got {top}")
    if dpi < 10:
        _fail(f"--dpi must be at least 10, got {dpi}")
    try:
        timeout = parse_duration(route_timeout)
    except ValueError as exc:
        _fail(str(exc))
    target = out or run_dir / REPORT_FILE
    # Checked before the work (which may re-run the team for minutes); a directory that is not
    # a run is left to collect_run's own message.
    is_run = (run_dir / STORE_FILENAME).is_file()
    problem = output_problem(target, directory=False) if is_run else None
    if problem is not None:
        hint = "" if out is not None else "; write the report elsewhere with --out FILE"
        _fail(f"cannot write {target}: {problem}{hint}")
    problem = output_problem(png, directory=True) if png is not None else None
    if problem is not None:
        _fail(f"cannot write the plots to {png}: {problem}")
    try:
        report = collect_run(run_dir, top=top, routes=routes, route_timeout=timeout,
                             progress=lambda line: typer.echo(line, err=True))
    except ReportError as exc:
        _fail(str(exc))
    except sqlite3.DatabaseError as exc:  # damage SQLite finds only when a query reaches it
        _fail(unreadable_store(run_dir / STORE_FILENAME, exc))
    except StoreError as exc:  # the same, found by the store's own reads
        _fail(str(exc))
    typer.echo(f"{run_dir}: {report.status.state}: {report.status.detail}", err=True)
    try:
        path = write_report(report, target)
    except OSError as exc:
        _fail(f"cannot write {target}: {exc.strerror or exc}")
    typer.echo(f"wrote {path}")
    if png is not None:
        try:
            written, skipped = write_pngs(report, png, dpi=dpi)
        except OSError as exc:
            _fail(f"cannot write the plots to {png}: {exc.strerror or exc}")
        except ImportError:
            _fail("--png needs matplotlib (pip install matplotlib)")
        for file in written:
            typer.echo(f"wrote {file}")
        for name, reason in skipped.items():
            typer.echo(f"left out {name}: {reason}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``report`` to ``app``."""
    app.command("report")(report_command)
