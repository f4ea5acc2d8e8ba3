"""The evaluation's results store: one SQLite file, one row per (planner, task).

A row is committed the moment its run ends, in its own ``BEGIN IMMEDIATE`` transaction, in WAL
mode with ``synchronous=NORMAL`` (the conventions of :mod:`ahd.store`): a SIGKILL of the
evaluator loses only the runs in flight, and a restarted evaluation runs exactly the pairs
without a row. Every start of a run is logged in ``attempts`` too, so one can check that a
resumed evaluation re-ran nothing that had finished.

The settings that change results (time and memory limits, grace, the suite) are stored with
the first run; resuming with other settings is refused rather than mixing incomparable rows.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["RESULTS_FILENAME", "STATUSES", "ResultsError", "ResultsStore", "RunRecord", "now"]

RESULTS_FILENAME = "results.sqlite"
#: Final statuses of a run. Only ``solved`` counts: ``invalid`` is a plan the validator
#: rejected, ``unvalidated`` one it could not check in time.
STATUSES = ("solved", "invalid", "unvalidated", "timeout", "memory", "unsolvable", "unsolved",
            "error", "unavailable")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS planners (label TEXT PRIMARY KEY, spec TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    planner TEXT NOT NULL,
    task TEXT NOT NULL,
    domain TEXT NOT NULL,
    split TEXT NOT NULL,
    status TEXT NOT NULL,
    cost REAL,
    time REAL NOT NULL,
    cpu_time REAL,
    expanded INTEGER,
    peak_mb REAL,
    returncode INTEGER,
    error TEXT,
    plan_file TEXT,
    fingerprint TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    PRIMARY KEY (planner, task)
);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    planner TEXT NOT NULL,
    task TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    started TEXT NOT NULL
);
"""


def now() -> str:
    """UTC timestamp with milliseconds, as stored."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class ResultsError(Exception):
    """A results folder that cannot be used as asked; the message is meant for the user."""


@dataclass(frozen=True)
class RunRecord:
    """The outcome of one planner on one task.

    Attributes
    ----------
    planner, task : str
        Planner label and task key (the row's identity).
    domain, split : str
        Copied from the task, so reports need not rediscover the suite.
    status : str
        One of :data:`STATUSES`.
    cost : float or None
        The validator's plan cost (never the planner's claim) for solved tasks.
    time : float
        Wall-clock seconds from start to exit.
    cpu_time : float or None
        User plus system CPU seconds of the process and its children.
    expanded : int or None
        Expansions, when the planner reports them.
    peak_mb : float or None
        Peak resident memory (MiB) of the process or its largest waited-for descendant.
    returncode : int or None
        Exit code (negative: killed by that signal).
    error : str or None
        Why it failed: the validator's reason for ``invalid``, the planner's message, ...
    plan_file : str or None
        Where the plan was kept.
    fingerprint : str
        The planner setup (see :meth:`Planner.fingerprint`).
    started, finished : str
        UTC timestamps.
    """

    planner: str
    task: str
    domain: str
    split: str
    status: str
    time: float
    fingerprint: str
    started: str
    finished: str
    cost: float | None = None
    cpu_time: float | None = None
    expanded: int | None = None
    peak_mb: float | None = None
    returncode: int | None = None
    error: str | None = None
    plan_file: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def solved(self) -> bool:
        return self.status == "solved"


_COLUMNS = [f.name for f in fields(RunRecord)]


class ResultsStore:
    """The SQLite results file of one evaluation folder.

    One connection shared by the evaluator's worker threads, each write under a lock and in
    its own immediate transaction.

    Parameters
    ----------
    path : str or Path
        The database file (created with its folder if missing).
    readonly : bool
        Open an existing file without writing (for reports of a running evaluation).
    """

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        if readonly:
            if not self.path.is_file():
                raise ResultsError(f"{self.path}: no results store")
            self._conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                         timeout=30, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.executescript(_SCHEMA)
        self._conn.row_factory = sqlite3.Row

    @classmethod
    def in_dir(cls, out_dir: str | Path, readonly: bool = False) -> ResultsStore:
        """The store of an evaluation folder."""
        return cls(Path(out_dir) / RESULTS_FILENAME, readonly=readonly)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, sql: str, params: Any = (), many: bool = False) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                (self._conn.executemany if many else self._conn.execute)(sql, params)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # ------------------------------------------------------------------ settings, planners

    def settings(self) -> dict[str, Any]:
        """The stored settings (empty before the first run)."""
        with self._lock:
            rows = self._conn.execute("SELECT key, value FROM meta").fetchall()
        return {r["key"]: json.loads(r["value"]) for r in rows}

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        """Store ``settings`` on first use; afterwards refuse different values.

        Raises
        ------
        ResultsError
            Naming each setting that differs from the stored evaluation.
        """
        stored = self.settings()
        wanted = json.loads(json.dumps(dict(settings)))
        diff = [f"{k}: stored {stored[k]!r}, now {v!r}" for k, v in wanted.items()
                if k in stored and stored[k] != v]
        if diff:
            raise ResultsError(
                f"{self.path.parent} holds an evaluation with other settings ("
                + "; ".join(diff) + "); use another --out folder to start a new one"
            )
        new = [(k, json.dumps(v)) for k, v in wanted.items() if k not in stored]
        if new:
            self._write("INSERT INTO meta (key, value) VALUES (?, ?)", new, many=True)

    def register_planners(self, planners: Mapping[str, str]) -> None:
        """Record ``label -> spec``; a label reused for another spec is refused."""
        with self._lock:
            stored = {r["label"]: r["spec"]
                      for r in self._conn.execute("SELECT label, spec FROM planners")}
        for label, spec in planners.items():
            if label in stored and stored[label] != spec:
                raise ResultsError(
                    f"planner label {label!r} was {stored[label]!r} in this evaluation, "
                    f"now {spec!r}; choose another label (LABEL=KIND:CONFIG)"
                )
        new = [(k, v) for k, v in planners.items() if k not in stored]
        if new:
            self._write("INSERT INTO planners (label, spec) VALUES (?, ?)", new, many=True)

    def planners(self) -> dict[str, str]:
        """Every planner label ever run here, in registration order, with its spec."""
        with self._lock:
            rows = self._conn.execute("SELECT label, spec FROM planners ORDER BY rowid")
            return {r["label"]: r["spec"] for r in rows}

    # ------------------------------------------------------------------------- runs

    def finished(self) -> dict[tuple[str, str], tuple[str, str]]:
        """``(planner, task) -> (status, fingerprint)`` of every stored row."""
        with self._lock:
            rows = self._conn.execute("SELECT planner, task, status, fingerprint FROM results")
            return {(r["planner"], r["task"]): (r["status"], r["fingerprint"]) for r in rows}

    def start_attempt(self, planner: str, task: str, fingerprint: str) -> None:
        """Log that a run starts (committed before the process is spawned)."""
        self._write("INSERT INTO attempts (planner, task, fingerprint, started) "
                    "VALUES (?, ?, ?, ?)", (planner, task, fingerprint, now()))

    def record(self, rec: RunRecord) -> None:
        """Store a finished run at once (replacing a stale row for the same pair)."""
        values = asdict(rec)
        cols = ", ".join(_COLUMNS)
        marks = ", ".join("?" for _ in _COLUMNS)
        self._write(f"INSERT OR REPLACE INTO results ({cols}) VALUES ({marks})",
                    [values[c] for c in _COLUMNS])

    def records(self) -> list[RunRecord]:
        """Every stored run, ordered by planner registration, then task."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT r.* FROM results r LEFT JOIN planners p ON p.label = r.planner "
                "ORDER BY p.rowid, r.task"
            ).fetchall()
        return [RunRecord(**{c: row[c] for c in _COLUMNS}) for row in rows]

    def attempt_counts(self) -> dict[tuple[str, str], int]:
        """How many times each (planner, task) was started."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT planner, task, count(*) AS n FROM attempts GROUP BY planner, task")
            return {(r["planner"], r["task"]): r["n"] for r in rows}
