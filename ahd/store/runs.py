"""The ``runs`` table: one row per search run, and the store's notion of the current run.

A store may hold several runs (``ahd evolve`` resumed, or a second search in the same
directory); most candidate operations act on the current one, which :meth:`RunsMixin.create_run`
and :meth:`RunsMixin.open_run` set and :meth:`RunsMixin.current_run_id` reads.
"""

from __future__ import annotations

import json
import platform
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from .connection import StoreConnection, reads
from .encoding import dumps, now
from .records import RUN_STATUSES, NotFoundError, Run, StoreError


def package_versions() -> dict[str, str]:
    """Versions that decide whether a run can be reproduced (recorded with each run)."""
    from importlib import metadata

    versions = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for name in ("ahd", "numpy", "numba", "ortools"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


#: The columns :class:`~ahd.store.Run` is built from, in its field order (``SELECT *`` would
#: also return columns added by later migrations).
RUN_COLUMNS = "id, created, problem, config, seed, versions, sandbox, status"


class RunsMixin(StoreConnection):
    """Creating, opening and listing runs; part of :class:`~ahd.store.Store`."""

    def create_run(
        self,
        problem: str,
        config: Any = None,
        seed: int | None = None,
        versions: Mapping[str, str] | None = None,
        sandbox: Sequence[Any] | None = None,
    ) -> Run:
        """Record a new run and make it the current one.

        ``config`` may be a mapping or a dataclass; ``versions`` defaults to
        :func:`package_versions`; ``sandbox`` lists the isolation layers in use.
        """
        if not problem:
            raise ValueError("problem must not be empty")
        config_json = dumps(config if config is not None else {})
        versions_json = dumps(dict(versions) if versions is not None else package_versions())
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO runs (created, problem, config, seed, versions, sandbox, status) "
                "VALUES (?, ?, ?, ?, ?, ?, 'running')",
                (now(), problem, config_json, seed, versions_json, dumps(list(sandbox or []))),
            )
            run_id = cur.lastrowid
        return self.open_run(run_id)

    @reads
    def open_run(self, run_id: int | None = None) -> Run:
        """Make run ``run_id`` (the latest when ``None``) the current one and return it."""
        if run_id is None:
            row = self.conn.execute(f"SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT 1"
                                    ).fetchone()
            if row is None:
                raise NotFoundError(f"{self.path}: the store has no run yet")
        else:
            row = self.conn.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?",
                                    (run_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"{self.path}: no run {run_id}")
        run_id, created, problem, config, seed, versions, sandbox, status = row
        self.run = Run(
            run_id, created, problem, json.loads(config), seed, json.loads(versions),
            json.loads(sandbox), status,
        )
        return self.run

    @reads
    def runs(self) -> list[Run]:
        """All runs in the store, oldest first (the current run is left as it was)."""
        current = self.run
        ids = [r[0] for r in self.conn.execute("SELECT id FROM runs ORDER BY id")]
        out = [self.open_run(i) for i in ids]
        self.run = current
        return out

    def set_run_status(self, status: str, run_id: int | None = None,
                       reason: str | None = None) -> None:
        """Mark a run (the current one by default) running, finished, failed or interrupted,
        and keep why it stopped (``reason``; cleared when it runs again).

        The reason lives in the store rather than in ``state.json`` because a run stops most
        often when a file cannot be written; the store is the one place the viewers read.
        """
        if status not in RUN_STATUSES:
            raise ValueError(f"run status must be one of {RUN_STATUSES}, got {status!r}")
        run_id = self.current_run_id(run_id)
        with self.transaction() as conn:
            conn.execute("UPDATE runs SET status = ?, stop_reason = ? WHERE id = ?",
                         (status, None if status == "running" else reason, run_id))
        if self.run is not None and self.run.id == run_id:
            self.open_run(run_id)

    def discard_unsaved(self, generation: int, contexts: Sequence[str],
                        run_id: int | None = None) -> tuple[int, int]:
        """Delete what a round that was never saved stored: the run's candidates of a later
        generation than ``generation`` (with all their evaluations) and the evaluations of the
        run's candidates in ``contexts``. Returns how many candidates and evaluations went.

        A resumed run redoes the round in progress at a stop or a kill. Redone on a clean
        slate, it stores exactly what it finds this time (a proposal or a timeout may differ),
        and its new candidates get the same ids again (SQLite gives a new row the largest id
        plus one, and the discarded ones were the largest).
        """
        run_id = self.current_run_id(run_id)
        marks = ",".join("?" * len(contexts))
        with self.transaction() as conn:
            ids = [r[0] for r in conn.execute(
                "SELECT id FROM candidates WHERE run_id = ? AND generation > ?",
                (run_id, generation))]
            n_evals = 0
            if contexts:
                n_evals += conn.execute(
                    f"DELETE FROM evaluations WHERE context IN ({marks}) AND candidate_id IN "
                    "(SELECT id FROM candidates WHERE run_id = ?)", (*contexts, run_id)
                ).rowcount
            n_evals += conn.execute(
                "DELETE FROM evaluations WHERE candidate_id IN (SELECT id FROM candidates "
                "WHERE run_id = ? AND generation > ?)", (run_id, generation)).rowcount
            conn.execute("DELETE FROM candidates WHERE run_id = ? AND generation > ?",
                         (run_id, generation))
        return len(ids), n_evals

    @reads
    def stop_reason(self, run_id: int | None = None) -> str | None:
        """Why the run (the current one by default) stopped; ``None`` while it runs, or when
        it stopped without saying (killed, or a store from before stop reasons)."""
        row = self.conn.execute("SELECT stop_reason FROM runs WHERE id = ?",
                                (self.current_run_id(run_id),)).fetchone()
        return None if row is None else row[0]

    def current_run_id(self, run_id: int | None = None) -> int:
        """``run_id`` when given, else the current run's id (:class:`StoreError` when there is
        no current run)."""
        if run_id is not None:
            return run_id
        if self.run is None:
            raise StoreError("no current run: call create_run() or open_run() first")
        return self.run.id
