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

from .connection import StoreConnection
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

    def open_run(self, run_id: int | None = None) -> Run:
        """Make run ``run_id`` (the latest when ``None``) the current one and return it."""
        if run_id is None:
            row = self.conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()
            if row is None:
                raise NotFoundError(f"{self.path}: the store has no run yet")
        else:
            row = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"{self.path}: no run {run_id}")
        run_id, created, problem, config, seed, versions, sandbox, status = row
        self.run = Run(
            run_id, created, problem, json.loads(config), seed, json.loads(versions),
            json.loads(sandbox), status,
        )
        return self.run

    def runs(self) -> list[Run]:
        """All runs in the store, oldest first (the current run is left as it was)."""
        current = self.run
        ids = [r[0] for r in self.conn.execute("SELECT id FROM runs ORDER BY id")]
        out = [self.open_run(i) for i in ids]
        self.run = current
        return out

    def set_run_status(self, status: str, run_id: int | None = None) -> None:
        """Mark a run (the current one by default) running, finished, failed or interrupted."""
        if status not in RUN_STATUSES:
            raise ValueError(f"run status must be one of {RUN_STATUSES}, got {status!r}")
        run_id = self.current_run_id(run_id)
        with self.transaction() as conn:
            conn.execute("UPDATE runs SET status = ? WHERE id = ?", (status, run_id))
        if self.run is not None and self.run.id == run_id:
            self.open_run(run_id)

    def current_run_id(self, run_id: int | None = None) -> int:
        """``run_id`` when given, else the current run's id (:class:`StoreError` when there is
        no current run)."""
        if run_id is not None:
            return run_id
        if self.run is None:
            raise StoreError("no current run: call create_run() or open_run() first")
        return self.run.id
