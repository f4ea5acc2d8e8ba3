"""The checks of ``ahd evolve --resume RUN_DIR``, made before any sandbox worker starts.

Starting the workers takes tens of seconds (numba compiles in each), and a damaged run
directory found only afterwards costs that time and, worse, may already have been written to
(status, WAL files, a migration). So :func:`check_resume` reads the store and ``state.json``
read-only first and refuses, in one line, a store that is not an SQLite file, is truncated or
fails SQLite's ``quick_check``, holds no run, and a state file that is empty, not JSON, lacks
keys, names candidates the store does not hold, has snapshots beyond its round, or is older
than the store (it would make the resume discard finished rounds). Nothing on
disk changes when it refuses. The one write it may make is the schema migration of a store
from an older ahd that passed every check (the resumed run would make it anyway).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ahd.store import SCHEMA_VERSION, Run, Store, StoreError
from ahd.store.connection import connect_read_only, store_path

from .state import StateError, check_state, read_state, state_path


class ResumeError(ValueError):
    """A run directory that cannot be resumed (the message is one line)."""


def _quick_check(path: Path) -> int:
    """SQLite's ``quick_check`` of ``path`` read-only; its schema version. Raises
    :class:`ResumeError` when the file is not a readable, intact SQLite database."""
    try:
        conn = connect_read_only(path)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except (StoreError, sqlite3.Error) as exc:
        raise ResumeError(f"{path}: cannot resume: the store cannot be read "
                          f"({str(exc).splitlines()[0]})") from None
    if [tuple(r) for r in rows] != [("ok",)]:
        first = str(rows[0][0]).splitlines()[0] if rows else "no answer"
        raise ResumeError(f"{path}: cannot resume: the store is damaged ({first}; "
                          f"{len(rows)} problem(s) found by sqlite quick_check)")
    return version


def check_resume(run_dir: str | Path) -> Run:
    """The run stored in ``run_dir``, after checking that it can be resumed (see the module
    docstring); :class:`ResumeError` otherwise."""
    run_dir = Path(run_dir)
    path = store_path(run_dir)
    if not path.is_file():
        raise ResumeError(f"{run_dir}: no run to resume (no {path.name})")
    version = _quick_check(path)
    if 0 < version < SCHEMA_VERSION:
        try:
            Store(path).close()  # migrate once, read-write: a read-only store is never migrated
        except (StoreError, sqlite3.Error, OSError) as exc:
            raise ResumeError(f"{path}: cannot resume: the store from an older ahd cannot be "
                              f"migrated ({str(exc).splitlines()[0]})") from None
    try:
        with Store.in_run_dir(run_dir, readonly=True) as store:
            run = store.open_run()
            ids = {int(r[0]) for r in store.conn.execute(
                "SELECT id FROM candidates WHERE run_id = ?", (run.id,))}
            newest = store.conn.execute("SELECT max(generation) FROM candidates WHERE "
                                        "run_id = ?", (run.id,)).fetchone()[0]
    except StoreError as exc:
        hint = ("; it was stopped before the run began: start it again with --out"
                if "no run yet" in str(exc) else "")
        raise ResumeError(f"{run_dir}: cannot resume: {str(exc).splitlines()[0]}{hint}"
                          ) from None
    except sqlite3.Error as exc:
        raise ResumeError(f"{path}: cannot resume: the store cannot be read ({exc})") from None
    try:
        state = read_state(run_dir)
        if state is not None:
            check_state(state_path(run_dir), state, ids)
    except StateError as exc:
        raise ResumeError(f"cannot resume: {exc}") from None
    # Resuming redoes the round after the saved one and discards what it stored; a state
    # older than that would discard finished rounds.
    if state is not None and newest is not None and newest > state["round"] + 1:
        raise ResumeError(f"cannot resume: {state_path(run_dir)} is of round {state['round']} "
                          f"but the store holds candidates of round {newest}: it is not the "
                          f"run's last state")
    return run
