"""The run's leaderboard store: one SQLite file per run directory (``RUN_DIR/ahd.sqlite``).

Everything a run learns goes here: the run's configuration, every candidate (deduplicated by
the hash of its normalized code), every evaluation (never repeated, thanks to a unique key),
and every LLM call with its cost. A run that is killed resumes from what the store holds:
:func:`pending_work` lists what is still to evaluate.

Durability
----------
The database is in WAL mode and every batch of writes is one ``BEGIN IMMEDIATE`` transaction.
``synchronous=NORMAL`` is enough for the guarantee we need, "a SIGKILL at any moment loses at
most the evaluations in flight": in WAL mode a commit appends the transaction's pages and a
commit marker to the ``-wal`` file with ``write()``; once ``write()`` returns, the data is in
the operating system's page cache and survives the death of the *process*. What NORMAL skips is
the ``fsync`` of the WAL at each commit, so only a power loss or kernel crash can undo the last
few commits (never corrupt the file). FULL would add an fsync (milliseconds on many disks) per
commit for protection against power loss that an evaluation run does not need. A transaction
cut short by a kill has no commit marker and is ignored when the file is next opened.

The store holds no secrets: nothing from the environment (API keys ...) is ever written.
"""

from __future__ import annotations

import json
import math
import platform
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .candidate import Candidate, Origin, canonical_roles

STORE_FILENAME = "ahd.sqlite"
#: Marks the file as an ahd store ("AHD1"), so a foreign SQLite file is refused.
APPLICATION_ID = 0x41484431
SPLITS = ("train", "validation", "test")
#: Evaluation outcomes. ``invalid``: rejected before running (static check, compilation);
#: ``memory``: exceeded its memory limit; ``crashed``: the process died.
STATUSES = ("ok", "error", "timeout", "crashed", "infeasible", "invalid", "memory")
RUN_STATUSES = ("running", "finished", "failed", "interrupted")
#: Candidate ids per ``IN (...)`` query, well below SQLite's bound-parameter limit.
_CHUNK = 500

_SCHEMA_V1 = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    created TEXT NOT NULL,
    problem TEXT NOT NULL,
    config TEXT NOT NULL DEFAULT '{}',
    seed INTEGER,
    versions TEXT NOT NULL DEFAULT '{}',
    sandbox TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'running'
);
CREATE TABLE candidates (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    code_hash TEXT NOT NULL,
    roles TEXT NOT NULL,
    entry_points TEXT NOT NULL DEFAULT '{}',
    source TEXT NOT NULL,
    problem TEXT NOT NULL,
    parents TEXT NOT NULL DEFAULT '[]',
    origin TEXT NOT NULL DEFAULT '{}',
    generation INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    UNIQUE (run_id, roles, code_hash)
);
CREATE INDEX candidates_generation ON candidates (run_id, generation);
CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY,
    candidate_id INTEGER NOT NULL REFERENCES candidates(id),
    instance TEXT NOT NULL,
    split TEXT NOT NULL CHECK (split IN ('train', 'validation', 'test')),
    context TEXT NOT NULL DEFAULT '',
    objective REAL,
    time REAL,
    status TEXT NOT NULL,
    error TEXT,
    metrics TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    UNIQUE (candidate_id, instance, split, context)
);
CREATE INDEX evaluations_split ON evaluations (split, candidate_id);
CREATE TABLE llm_calls (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    model TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost REAL NOT NULL DEFAULT 0,
    latency REAL,
    cached INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    error TEXT,
    request_hash TEXT,
    created TEXT NOT NULL
);
CREATE INDEX llm_calls_run ON llm_calls (run_id);
CREATE INDEX llm_calls_request ON llm_calls (request_hash);
"""

#: ``MIGRATIONS[i]`` takes a store from schema version ``i`` to ``i + 1``. Append, never edit.
MIGRATIONS: list[str] = [_SCHEMA_V1]
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """A store that cannot be opened or used as asked; the message is meant for the user."""


class SchemaVersionError(StoreError):
    """The store was written by a newer (or unknown) version of ahd."""


class NotFoundError(StoreError, KeyError):
    """No run or candidate with the given id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _json_default(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):  # numpy arrays
        return obj.tolist()
    return str(obj)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def store_path(run_dir: str | Path) -> Path:
    """Where the store of ``run_dir`` lives."""
    return Path(run_dir) / STORE_FILENAME


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


def evaluation_context(partners: Mapping[str, int | str] | None = None, **extra: Any) -> str:
    """The evaluation-key string that says *how* a candidate was evaluated.

    An evaluation is unique per ``(candidate, instance, split, context)``. The empty context
    means "the candidate in its usual setting" (alone in its role, run config defaults).
    Cooperative evaluations name the partner candidates filling the other roles, so the same
    destroy operator evaluated with two different repairs gets two records; ``extra`` adds
    anything else that changes the result (a seed, a time budget).

    Examples
    --------
    >>> evaluation_context({"repair": 12}, seed=3)
    'partners=repair:12;seed=3'
    """
    parts = []
    if partners:
        for role in partners:
            if not str(role).isidentifier():
                raise ValueError(f"partner role must be an identifier, got {role!r}")
        pairs = ",".join(f"{role}:{partners[role]}" for role in sorted(partners))
        parts.append(f"partners={pairs}")
    for key in sorted(extra):
        value = str(extra[key])
        if any(ch in value for ch in ";="):
            raise ValueError(f"context value of {key!r} must not contain ';' or '=': {value!r}")
        parts.append(f"{key}={value}")
    return ";".join(parts)


# ------------------------------------------------------------------------------ records


@dataclass(frozen=True)
class Run:
    """One search run: what was searched, with which configuration and software."""

    id: int
    created: str
    problem: str
    config: dict[str, Any]
    seed: int | None
    versions: dict[str, str]
    sandbox: list[Any]
    status: str


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one candidate on one instance.

    Parameters
    ----------
    candidate_id
        Store id of the candidate.
    instance
        Instance name.
    split
        ``train``, ``validation`` or ``test``.
    status
        One of :data:`STATUSES`; ``ok`` requires a finite objective.
    objective
        Lower is better (cost or gap); ``None`` when there is no valid solution.
    time
        Seconds the evaluation took.
    error
        Message of a failed evaluation (shown to the proposer).
    metrics
        Anything else worth keeping (iterations, gap to BKS ...), stored as JSON.
    context
        Evaluation key beyond candidate, instance and split; see :func:`evaluation_context`.
    id, created
        Set by the store.
    """

    candidate_id: int
    instance: str
    split: str
    status: str
    objective: float | None = None
    time: float | None = None
    error: str | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict, hash=False)
    context: str = ""
    id: int | None = None
    created: str | None = None

    def __post_init__(self) -> None:
        if not self.instance:
            raise ValueError("Evaluation.instance must not be empty")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.objective is not None:
            object.__setattr__(self, "objective", float(self.objective))
            if not math.isfinite(self.objective):
                raise ValueError(f"objective must be finite or None, got {self.objective}")
        if self.status == "ok" and self.objective is None:
            raise ValueError("an 'ok' evaluation needs an objective")
        if self.time is not None and not (self.time >= 0.0):
            raise ValueError(f"time must be >= 0, got {self.time}")
        if not isinstance(self.context, str):
            raise TypeError("Evaluation.context must be a string")
        object.__setattr__(self, "metrics", dict(self.metrics))  # a copy; dicts pickle

    @property
    def key(self) -> tuple[int, str, str, str]:
        """The unique key: nothing is evaluated twice under it."""
        return (self.candidate_id, self.instance, self.split, self.context)


@dataclass(frozen=True)
class SplitScore:
    """How a candidate did on one split."""

    split: str
    mean_objective: float | None
    n_instances: int
    n_evaluations: int
    status_counts: dict[str, int]

    @property
    def all_ok(self) -> bool:
        """True when every evaluation of the split succeeded."""
        return self.status_counts.get("ok", 0) == self.n_evaluations


@dataclass(frozen=True)
class LeaderboardRow:
    """One line of the leaderboard; ``mean_objective`` averages the ``ok`` evaluations."""

    rank: int
    candidate_id: int
    roles: tuple[str, ...]
    generation: int
    proposer: str
    mean_objective: float | None
    n_instances: int
    n_evaluations: int
    status_counts: dict[str, int]


@dataclass(frozen=True)
class LineageNode:
    """One ancestor (or the candidate itself, at depth 0) in a lineage graph."""

    id: int
    parents: tuple[int, ...]
    generation: int
    roles: tuple[str, ...]
    proposer: str
    depth: int


@dataclass(frozen=True)
class LLMCall:
    """One request to a language model, for cost accounting and cache auditing."""

    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    latency: float | None = None
    cached: bool = False
    status: str = "ok"
    error: str | None = None
    request_hash: str | None = None

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("LLMCall.model must not be empty")
        if self.prompt_tokens < 0 or self.completion_tokens < 0:
            raise ValueError("token counts must be >= 0")
        if not math.isfinite(self.cost) or self.cost < 0:
            raise ValueError(f"cost must be finite and >= 0, got {self.cost}")
        if self.latency is not None and not (self.latency >= 0.0):
            raise ValueError(f"latency must be >= 0, got {self.latency}")
        if not self.status:
            raise ValueError("LLMCall.status must not be empty")


# ------------------------------------------------------------------------------ store


def _statements(script: str) -> Iterator[str]:
    """Split an SQL script into complete statements (so they can run inside our transaction;
    ``executescript`` would commit first)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n\t;"):
                yield buffer.strip()
            buffer = ""


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _roles_text(roles: Iterable[str]) -> str:
    return ",".join(canonical_roles(roles))


class Store:
    """The SQLite store of one run directory.

    Parameters
    ----------
    path
        The database file (``RUN_DIR/ahd.sqlite``; see :meth:`in_run_dir`). Created with the
        current schema when missing, unless ``readonly``.
    readonly
        Open without the right to write (for ``ahd leaderboard`` and friends while a run is
        going on). The file must exist and have the current schema.
    timeout
        Seconds to wait for another process's write lock before giving up.

    Notes
    -----
    One ``Store`` per thread: sqlite3 connections are not shared between threads. Several
    processes may open the same file; writes are serialized by ``BEGIN IMMEDIATE``.
    """

    def __init__(self, path: str | Path, readonly: bool = False, timeout: float = 30.0):
        self.path = Path(path)
        self.readonly = readonly
        self.run: Run | None = None
        if readonly and not self.path.is_file():
            raise StoreError(f"{self.path}: no such store file")
        if not self.path.parent.is_dir():
            raise StoreError(f"{self.path.parent}: no such directory")
        try:
            if readonly:
                uri = self.path.resolve().as_uri() + "?mode=ro"
                self._conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
            else:
                self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open store: {exc}") from exc
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(f"{self.path}: not a usable ahd store: {exc}") from exc
        except StoreError:
            self._conn.close()
            raise

    @classmethod
    def in_run_dir(cls, run_dir: str | Path, readonly: bool = False) -> Store:
        """Open (or, unless ``readonly``, create) the store of ``run_dir``."""
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            if readonly:
                raise StoreError(f"{run_dir}: no such run directory")
            run_dir.mkdir(parents=True)
        return cls(store_path(run_dir), readonly=readonly)

    # -------------------------------------------------------------- connection and schema

    def _setup(self) -> None:
        conn = self._conn
        conn.execute("PRAGMA foreign_keys = ON")
        if not self.readonly:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{self.path}: cannot switch to WAL mode (got {mode!r})")
            # NORMAL is enough to survive a process kill in WAL mode; see the module docstring.
            conn.execute("PRAGMA synchronous = NORMAL")
        version = self.schema_version
        self._check_version(version)
        if version < SCHEMA_VERSION:
            if self.readonly:
                raise StoreError(
                    f"{self.path}: schema version {version} is older than {SCHEMA_VERSION}; "
                    f"open it once read-write (any ahd command that writes) to migrate it"
                )
            self._migrate()

    @property
    def schema_version(self) -> int:
        """``PRAGMA user_version`` of the file: the schema version it was written with."""
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.path}: written by a newer ahd (schema version {version}; this ahd "
                f"reads versions up to {SCHEMA_VERSION}); upgrade ahd to open it"
            )
        app_id = int(self._conn.execute("PRAGMA application_id").fetchone()[0])
        if app_id not in (0, APPLICATION_ID):
            raise StoreError(f"{self.path}: not an ahd store (application_id {app_id:#x})")
        if version == 0:
            tables = self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise StoreError(f"{self.path}: a SQLite file without an ahd schema version")

    def _migrate(self) -> None:
        with self._write():
            version = self.schema_version  # re-read under the write lock: another process
            self._check_version(version)  # may have migrated while we waited
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _statements(MIGRATIONS[target - 1]):
                    self._conn.execute(statement)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none of it."""
        if self.readonly:
            raise StoreError(f"{self.path}: store is open read-only")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            if self._conn.in_transaction:  # SQLite may already have rolled back (disk full)
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection (committed data is already safe)."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: ``'ok'`` or the problems found, one a line."""
        rows = self._conn.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(row[0]) for row in rows)

    # -------------------------------------------------------------- runs

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
        config_json = _dumps(config if config is not None else {})
        versions_json = _dumps(dict(versions) if versions is not None else package_versions())
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO runs (created, problem, config, seed, versions, sandbox, status) "
                "VALUES (?, ?, ?, ?, ?, ?, 'running')",
                (_now(), problem, config_json, seed, versions_json, _dumps(list(sandbox or []))),
            )
            run_id = cur.lastrowid
        return self.open_run(run_id)

    def open_run(self, run_id: int | None = None) -> Run:
        """Make run ``run_id`` (the latest when ``None``) the current one and return it."""
        if run_id is None:
            row = self._conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()
            if row is None:
                raise NotFoundError(f"{self.path}: the store has no run yet")
        else:
            row = self._conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
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
        ids = [r[0] for r in self._conn.execute("SELECT id FROM runs ORDER BY id")]
        out = [self.open_run(i) for i in ids]
        self.run = current
        return out

    def set_run_status(self, status: str, run_id: int | None = None) -> None:
        """Mark a run (the current one by default) running, finished, failed or interrupted."""
        if status not in RUN_STATUSES:
            raise ValueError(f"run status must be one of {RUN_STATUSES}, got {status!r}")
        run_id = self._run_id(run_id)
        with self._write() as conn:
            conn.execute("UPDATE runs SET status = ? WHERE id = ?", (status, run_id))
        if self.run is not None and self.run.id == run_id:
            self.open_run(run_id)

    def _run_id(self, run_id: int | None) -> int:
        if run_id is not None:
            return run_id
        if self.run is None:
            raise StoreError("no current run: call create_run() or open_run() first")
        return self.run.id

    # -------------------------------------------------------------- candidates

    def add_candidate(self, candidate: Candidate, run_id: int | None = None) -> tuple[int, bool]:
        """Store ``candidate`` in the current run unless an identical one is there.

        Identity is ``(run, roles, code_hash)``: the same normalized code filling the same roles.
        Returns ``(id, is_new)``; a duplicate returns the existing id and ``False``.
        """
        run_id = self._run_id(run_id)
        roles = _roles_text(candidate.roles)
        with self._write() as conn:
            parents = list(candidate.parents)
            if parents:
                marks = ",".join("?" * len(parents))
                found = {
                    r[0]
                    for r in conn.execute(
                        f"SELECT id FROM candidates WHERE id IN ({marks})", parents
                    )
                }
                missing = sorted(set(parents) - found)
                if missing:
                    raise StoreError(f"unknown parent candidate ids: {missing}")
            cur = conn.execute(
                "INSERT INTO candidates (run_id, code_hash, roles, entry_points, source, problem,"
                " parents, origin, generation, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (run_id, roles, code_hash) DO NOTHING",
                (
                    run_id, candidate.code_hash, roles, _dumps(dict(candidate.entry_points)),
                    candidate.source, candidate.problem, _dumps(parents),
                    _dumps(candidate.origin.to_dict()), candidate.generation, _now(),
                ),
            )
            if cur.rowcount == 1:
                return int(cur.lastrowid), True
            row = conn.execute(
                "SELECT id FROM candidates WHERE run_id = ? AND roles = ? AND code_hash = ?",
                (run_id, roles, candidate.code_hash),
            ).fetchone()
            return int(row[0]), False

    def find_candidate(self, candidate: Candidate, run_id: int | None = None) -> int | None:
        """Id of the stored candidate identical to ``candidate`` in the run, or ``None``."""
        row = self._conn.execute(
            "SELECT id FROM candidates WHERE run_id = ? AND roles = ? AND code_hash = ?",
            (self._run_id(run_id), _roles_text(candidate.roles), candidate.code_hash),
        ).fetchone()
        return None if row is None else int(row[0])

    def get_candidate(self, candidate_id: int) -> Candidate:
        """The stored candidate ``candidate_id`` (with its id set)."""
        row = self._conn.execute(
            "SELECT source, roles, problem, parents, origin, generation, entry_points "
            "FROM candidates WHERE id = ?",
            (candidate_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no candidate {candidate_id} in {self.path}")
        source, roles, problem, parents, origin, generation, entry = row
        return Candidate(
            source=source,
            roles=tuple(roles.split(",")),
            problem=problem,
            parents=tuple(json.loads(parents)),
            origin=Origin.from_dict(json.loads(origin)),
            generation=generation,
            entry_points=json.loads(entry),
            id=candidate_id,
        )

    def candidate_run(self, candidate_id: int) -> Run:
        """The run a candidate belongs to (the current run is left as it was)."""
        row = self._conn.execute(
            "SELECT run_id FROM candidates WHERE id = ?", (candidate_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no candidate {candidate_id} in {self.path}")
        current = self.run
        run = self.open_run(row[0])
        self.run = current
        return run

    def candidate_ids(self, run_id: int | None = None) -> list[int]:
        """Ids of the run's candidates (every run's when no run is current), oldest first."""
        if run_id is None and self.run is None:
            rows = self._conn.execute("SELECT id FROM candidates ORDER BY id")
        else:
            rows = self._conn.execute(
                "SELECT id FROM candidates WHERE run_id = ? ORDER BY id", (self._run_id(run_id),)
            )
        return [int(r[0]) for r in rows]

    # -------------------------------------------------------------- evaluations

    def add_evaluations(self, evaluations: Iterable[Evaluation]) -> int:
        """Store a batch of evaluations in one transaction; return how many were new.

        Either the whole batch is stored or, when anything fails (an unknown candidate id, a
        full disk, a kill), none of it. An evaluation whose key is already stored is skipped:
        results are never overwritten.
        """
        batch = list(evaluations)
        for item in batch:
            if not isinstance(item, Evaluation):
                raise TypeError(f"expected Evaluation, got {type(item).__name__}")
        if not batch:
            return 0
        created = _now()
        rows = [
            (
                e.candidate_id, e.instance, e.split, e.context, e.objective, e.time, e.status,
                e.error, _dumps(dict(e.metrics)), created,
            )
            for e in batch
        ]
        try:
            with self._write() as conn:
                before = conn.total_changes
                conn.executemany(
                    "INSERT INTO evaluations (candidate_id, instance, split, context, objective,"
                    " time, status, error, metrics, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (candidate_id, instance, split, context) DO NOTHING",
                    rows,
                )
                return conn.total_changes - before
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"evaluation batch refused, nothing stored: {exc}") from exc

    def add_evaluation(self, evaluation: Evaluation) -> bool:
        """Store one evaluation; ``False`` when its key was already stored."""
        return self.add_evaluations([evaluation]) == 1

    def has_evaluation(
        self, candidate_id: int, instance: str, split: str = "train", context: str = ""
    ) -> bool:
        """Whether this exact evaluation key is stored."""
        row = self._conn.execute(
            "SELECT 1 FROM evaluations WHERE candidate_id = ? AND instance = ? AND split = ? "
            "AND context = ?",
            (candidate_id, instance, split, context),
        ).fetchone()
        return row is not None

    def evaluations_for(self, candidate_id: int, split: str | None = None) -> list[Evaluation]:
        """A candidate's evaluations, by split (train, validation, test), instance, context."""
        query = (
            "SELECT id, candidate_id, instance, split, context, objective, time, status, error,"
            " metrics, created FROM evaluations WHERE candidate_id = ?"
        )
        params: list[Any] = [candidate_id]
        if split is not None:
            query += " AND split = ?"
            params.append(split)
        out = []
        for row in self._conn.execute(query, params):
            eid, cid, instance, sp, context, objective, time, status, error, metrics, created = row
            out.append(Evaluation(
                cid, instance, sp, status, objective, time, error, json.loads(metrics), context,
                eid, created,
            ))
        out.sort(key=lambda e: (SPLITS.index(e.split), e.instance, e.context))
        return out

    def evaluated_pairs(
        self, candidate_ids: Iterable[int], split: str = "train", context: str = ""
    ) -> set[tuple[int, str]]:
        """The ``(candidate_id, instance)`` pairs stored for ``split`` and ``context``."""
        ids = list(candidate_ids)
        done: set[tuple[int, str]] = set()
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            done.update(
                self._conn.execute(
                    f"SELECT candidate_id, instance FROM evaluations WHERE split = ? AND"
                    f" context = ? AND candidate_id IN ({marks})",
                    [split, context, *chunk],
                ).fetchall()
            )
        return done

    def _status_counts(self, candidate_ids: Sequence[int], split: str) -> dict[int, dict]:
        counts: dict[int, dict[str, int]] = {cid: {} for cid in candidate_ids}
        for chunk in _chunks(list(candidate_ids)):
            marks = ",".join("?" * len(chunk))
            for cid, status, n in self._conn.execute(
                f"SELECT candidate_id, status, count(*) FROM evaluations WHERE split = ? "
                f"AND candidate_id IN ({marks}) GROUP BY candidate_id, status ORDER BY status",
                [split, *chunk],
            ):
                counts[cid][status] = n
        return counts

    def scores(self, candidate_id: int) -> dict[str, SplitScore]:
        """Per split with any evaluation: mean objective of the ``ok`` ones and status counts."""
        out = {}
        for split, mean, n_inst, n_eval in self._conn.execute(
            "SELECT split, avg(CASE WHEN status = 'ok' THEN objective END),"
            " count(DISTINCT instance), count(*) FROM evaluations WHERE candidate_id = ?"
            " GROUP BY split",
            (candidate_id,),
        ):
            counts = self._status_counts([candidate_id], split)[candidate_id]
            out[split] = SplitScore(split, mean, n_inst, n_eval, counts)
        return {s: out[s] for s in SPLITS if s in out}

    def leaderboard(
        self,
        role: str | None = None,
        split: str = "train",
        top: int = 20,
        run_id: int | None = None,
    ) -> list[LeaderboardRow]:
        """The best candidates on ``split``, best first.

        Ranking: candidates whose every evaluation on the split succeeded come first (a mean
        over the instances a candidate survived would otherwise reward failing on the hard
        ones); then lower mean objective of the ``ok`` evaluations, then more instances, then
        the older candidate. Candidates without a single ``ok`` evaluation come last.

        Parameters
        ----------
        role
            Only candidates that fill this role (alone or jointly with others).
        split
            ``train``, ``validation`` or ``test``.
        top
            How many rows at most.
        run_id
            Only this run's candidates; ``None`` for every run in the store.
        """
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if top < 1:
            raise ValueError(f"top must be >= 1, got {top}")
        where = ["e.split = ?"]
        params: list[Any] = [split]
        if role is not None:
            where.append("instr(',' || c.roles || ',', ?) > 0")
            params.append(f",{role},")
        if run_id is not None:
            where.append("c.run_id = ?")
            params.append(run_id)
        query = f"""
            SELECT c.id, c.roles, c.generation, c.origin,
                   avg(CASE WHEN e.status = 'ok' THEN e.objective END) AS mean_objective,
                   count(DISTINCT e.instance) AS n_instances,
                   count(*) AS n_evaluations,
                   sum(e.status != 'ok') AS n_failed
            FROM candidates c JOIN evaluations e ON e.candidate_id = c.id
            WHERE {" AND ".join(where)}
            GROUP BY c.id
            ORDER BY n_failed > 0, mean_objective IS NULL, mean_objective, n_instances DESC, c.id
            LIMIT ?
        """
        rows = self._conn.execute(query, [*params, top]).fetchall()
        counts = self._status_counts([r[0] for r in rows], split)
        return [
            LeaderboardRow(
                rank=i + 1,
                candidate_id=cid,
                roles=tuple(roles.split(",")),
                generation=generation,
                proposer=json.loads(origin).get("proposer", "unknown"),
                mean_objective=mean,
                n_instances=n_inst,
                n_evaluations=n_eval,
                status_counts=counts[cid],
            )
            for i, (cid, roles, generation, origin, mean, n_inst, n_eval, _) in enumerate(rows)
        ]

    def lineage(self, candidate_id: int) -> list[LineageNode]:
        """The candidate and all its ancestors, nearest first (``depth`` 0 is the candidate).

        Each node lists its parents, so the result is the ancestry graph (a DAG: crossover
        gives two parents, and an ancestor reached along two paths appears once, at its
        shortest depth).
        """
        nodes: dict[int, LineageNode] = {}
        frontier = [candidate_id]
        depth = 0
        while frontier:
            marks = ",".join("?" * len(frontier))
            rows = self._conn.execute(
                f"SELECT id, parents, generation, roles, origin FROM candidates "
                f"WHERE id IN ({marks})",
                frontier,
            ).fetchall()
            if depth == 0 and not rows:
                raise NotFoundError(f"no candidate {candidate_id} in {self.path}")
            following: list[int] = []
            for cid, parents, generation, roles, origin in sorted(rows):
                parent_ids = tuple(json.loads(parents))
                nodes[cid] = LineageNode(
                    cid, parent_ids, generation, tuple(roles.split(",")),
                    json.loads(origin).get("proposer", "unknown"), depth,
                )
                following.extend(p for p in parent_ids if p not in nodes)
            frontier = sorted(set(following) - set(nodes))
            depth += 1
        return list(nodes.values())

    # -------------------------------------------------------------- LLM calls

    def record_llm_call(
        self,
        model: str,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        cost: float = 0.0,
        latency: float | None = None,
        cached: bool = False,
        status: str = "ok",
        error: str | None = None,
        request_hash: str | None = None,
        run_id: int | None = None,
    ) -> int:
        """Record one LLM request (cached answers too, with ``cached=True``); return its id.

        ``run_id`` defaults to the current run; with no current run the call is recorded
        without one. Never pass headers, keys or environment values in ``error``.
        """
        call = LLMCall(
            model, prompt_tokens, completion_tokens, cost, latency, cached, status, error,
            request_hash,
        )
        if run_id is None and self.run is not None:
            run_id = self.run.id
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO llm_calls (run_id, model, prompt_tokens, completion_tokens, cost,"
                " latency, cached, status, error, request_hash, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id, call.model, call.prompt_tokens, call.completion_tokens, call.cost,
                    call.latency, int(call.cached), call.status, call.error, call.request_hash,
                    _now(),
                ),
            )
            return int(cur.lastrowid)

    def llm_totals(self, run_id: int | None = None) -> dict[str, float]:
        """Calls, tokens and cost spent so far (in a run, or in the whole store)."""
        query = (
            "SELECT count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),"
            " coalesce(sum(cost), 0.0), coalesce(sum(cached), 0) FROM llm_calls"
        )
        params: tuple[Any, ...] = ()
        if run_id is not None:
            query += " WHERE run_id = ?"
            params = (run_id,)
        calls, tokens_in, tokens_out, cost, cached = self._conn.execute(query, params).fetchone()
        return {
            "calls": calls, "prompt_tokens": tokens_in, "completion_tokens": tokens_out,
            "cost": cost, "cached": cached,
        }


def pending_work(
    store: Store,
    candidate_ids: Iterable[int],
    instances: Iterable[str],
    split: str = "train",
    context: str = "",
) -> list[tuple[int, str]]:
    """The ``(candidate_id, instance)`` pairs not yet evaluated, in the order given.

    This is the resume step of a killed run: add the run's candidates again (``add_candidate``
    is idempotent and returns the existing ids), then evaluate only what this returns. Work
    that was in flight at the kill was never committed, so it is pending again.
    """
    ids = list(dict.fromkeys(int(c) for c in candidate_ids))
    names = list(dict.fromkeys(instances))
    done = store.evaluated_pairs(ids, split, context)
    return [(cid, name) for cid in ids for name in names if (cid, name) not in done]
