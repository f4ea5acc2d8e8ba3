"""``ahd leaderboard``, ``ahd show`` and ``ahd export``: read a run's store from the shell.

All three open the store read-only, so they are safe to run while the search is writing to
it, work on a run directory the user cannot write to, and never change a store (see
:func:`ahd.store.read_only_uri`); ``ahd export`` writes only its module, into ``--out-dir``.
Problems (no such run directory, no store, a damaged store, an unknown id, a store from a newer
ahd, an output directory that cannot be written) end in one ``error: ...`` line and exit code 2.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.tree import Tree

from ..export import ExportError, export_candidate
from ..store import SPLITS, STORE_FILENAME, LineageNode, NotFoundError, Store, StoreError
from .viewing import output_problem, unreadable_store

#: Lineage trees deeper than this are cut (with a note) to keep ``ahd show`` readable.
MAX_LINEAGE_DEPTH = 12

RunDir = Annotated[
    Path, typer.Argument(help="run directory (holds ahd.sqlite)", metavar="RUN_DIR")
]
CandidateId = Annotated[
    int, typer.Argument(help="candidate id (see ahd leaderboard)", metavar="ID")
]


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _open(run_dir: Path) -> Store:
    """The run's store, read-only, or a one-line error."""
    if not run_dir.is_dir():
        _fail(f"{run_dir}: no such run directory")
    if not (run_dir / STORE_FILENAME).is_file():
        _fail(f"{run_dir}: no store ({STORE_FILENAME}) in this directory; is it an ahd run?")
    try:
        return Store.in_run_dir(run_dir, readonly=True)
    except StoreError as exc:
        _fail(str(exc))


@contextmanager
def _reading(run_dir: Path) -> Iterator[Store]:
    """The run's store, read-only, closed afterwards; damage found while reading it (SQLite
    finds a damaged page only when a query reaches it) is a one-line error too."""
    store = _open(run_dir)
    try:
        with store:
            yield store
    except sqlite3.DatabaseError as exc:
        _fail(unreadable_store(store.path, exc))
    except StoreError as exc:  # the store's own reads say what is damaged
        _fail(str(exc))


def _mean(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _counts(counts: dict[str, int]) -> str:
    return " ".join(f"{status}:{n}" for status, n in sorted(counts.items()))


def leaderboard_command(
    run_dir: RunDir,
    role: Annotated[str | None, typer.Option(help="only candidates filling this role")] = None,
    top: Annotated[int, typer.Option(help="how many candidates to list")] = 20,
    split: Annotated[str, typer.Option(help="train, validation or test")] = "train",
) -> None:
    """List the best candidates of a run on one split (all-ok first, then mean objective)."""
    if split not in SPLITS:
        _fail(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    if top < 1:
        _fail(f"--top must be at least 1, got {top}")
    with _reading(run_dir) as store:
        rows = store.leaderboard(role=role, split=split, top=top)
    if not rows:
        what = f" for role {role}" if role else ""
        typer.echo(f"no evaluations on the {split} split{what} yet")
        return
    title = f"{run_dir} - {split}" + (f" - role {role}" if role else "")
    table = Table(title=title)
    roles_width = max(len(",".join(row.roles)) for row in rows)
    table.add_column("#", justify="right")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("roles", no_wrap=True, min_width=roles_width)
    table.add_column("gen", justify="right")
    table.add_column("proposer", overflow="fold")
    table.add_column("mean obj", justify="right", no_wrap=True)
    table.add_column("inst", justify="right")
    table.add_column("statuses", overflow="fold")
    for row in rows:
        table.add_row(
            str(row.rank), str(row.candidate_id), ",".join(row.roles), str(row.generation),
            row.proposer, _mean(row.mean_objective), str(row.n_instances),
            _counts(row.status_counts),
        )
    Console().print(table)


def _lineage_tree(nodes: list[LineageNode]) -> Tree:
    by_id = {node.id: node for node in nodes}

    def label(node: LineageNode) -> str:
        return f"{node.id}  gen {node.generation}  {','.join(node.roles)}  ({node.proposer})"

    root = Tree(label(nodes[0]))
    shown: set[int] = {nodes[0].id}

    def grow(branch: Tree, node: LineageNode, depth: int) -> None:
        for parent_id in node.parents:
            parent = by_id.get(parent_id)
            if parent is None:
                branch.add(f"{parent_id}  (not in store)")
            elif parent_id in shown:
                branch.add(f"{parent_id}  (shown above)")
            elif depth >= MAX_LINEAGE_DEPTH:
                branch.add(f"{parent_id}  ... (older ancestors omitted)")
            else:
                shown.add(parent_id)
                grow(branch.add(label(parent)), parent, depth + 1)

    grow(root, nodes[0], 1)
    return root


def show_command(run_dir: RunDir, candidate_id: CandidateId) -> None:
    """Show one candidate: provenance, scores per split, lineage and its code."""
    with _reading(run_dir) as store:
        try:
            candidate = store.get_candidate(candidate_id)
            run = store.candidate_run(candidate_id)
            scores = store.scores(candidate_id)
            nodes = store.lineage(candidate_id)
        except NotFoundError:
            _fail(f"no candidate {candidate_id} in {run_dir}")
    console = Console()
    origin = candidate.origin
    console.print(
        f"candidate {candidate_id}: {', '.join(candidate.roles)} for {candidate.problem} "
        f"(run {run.id}, generation {candidate.generation})"
    )
    console.print(
        f"proposer {origin.proposer}"
        + (f", strategy {origin.strategy}" if origin.strategy else "")
        + (f", template {origin.template}" if origin.template else "")
        + (f", model {origin.model}" if origin.model else "")
        + f", tokens {origin.tokens_in}/{origin.tokens_out}, cost ${origin.cost_usd:.4f}",
        markup=False,
    )
    console.print(f"code hash {candidate.code_hash}")
    if scores:
        table = Table(title="scores")
        for name in ("split", "mean objective", "instances", "evaluations", "statuses"):
            table.add_column(name)
        for split, score in scores.items():
            table.add_row(
                split, _mean(score.mean_objective), str(score.n_instances),
                str(score.n_evaluations), _counts(score.status_counts),
            )
        console.print(table)
    else:
        console.print("not evaluated yet")
    console.print("lineage (parents below each candidate):")
    console.print(_lineage_tree(nodes))
    console.print(Syntax(candidate.source, "python", line_numbers=True))


def export_command(
    run_dir: RunDir,
    candidate_id: CandidateId,
    out_dir: Annotated[Path, typer.Option(help="directory for the .py file")] = Path("generated"),
) -> None:
    """Write a candidate as an importable module with a provenance header."""
    with _reading(run_dir) as store:
        problem = output_problem(out_dir, directory=True)
        if problem is not None:  # checked before the work, so the error is one clear line
            _fail(f"cannot write to {out_dir}: {problem}")
        try:
            path = export_candidate(store, candidate_id, out_dir)
        except NotFoundError:
            _fail(f"no candidate {candidate_id} in {run_dir}")
        except (ExportError, OSError) as exc:
            _fail(str(exc))
    typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add ``leaderboard``, ``show`` and ``export`` to ``app``."""
    app.command("leaderboard")(leaderboard_command)
    app.command("show")(show_command)
    app.command("export")(export_command)
