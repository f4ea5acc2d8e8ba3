"""Opening a store file: the SQLite connection, schema checks and migration, transactions.

:class:`StoreConnection` is the base of :class:`~ahd.store.Store`: it owns the connection and
everything that is about the file rather than its tables, so the table modules (runs,
candidates, evaluations, queries, LLM calls) only issue SQL through :attr:`conn` and
:meth:`transaction`.

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

Reading without writing
-----------------------
A store opened read-only (the viewers: ``ahd leaderboard``, ``show``, ``export``, ``report``)
never writes, neither to the file nor beside it, so it can be read from a directory the user
cannot write to (an archived run, another user's run) and viewing a run never changes it.
``mode=ro`` alone is not enough for that: a WAL database needs its ``-shm`` index, and a
read-only connection creates ``-wal`` and ``-shm`` when they are missing (and fails when the
directory is not writable) and leaves them behind on close. So :func:`read_only_uri` adds
``immutable=1`` when no ``-wal``, ``-shm`` or ``-journal`` file exists: then no process has the
store open (a WAL connection keeps its ``-shm`` while open, and the last one to close
checkpoints and removes both), everything committed is in the file itself, and SQLite reads it
without locks or side files. When they do exist (a run going on, or one that was killed), the
committed data may still be in the ``-wal`` file, which an immutable reader would not see; then
the plain read-only connection reads it through the existing ``-shm`` (it may update that
index, where it can, but never the store file), as before.
The one gap: a writer that starts while an immutable reader is open is not seen by it, and its
checkpoint may rewrite pages under the reader, which then fails with a read error (the store
itself is not harmed).
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from .records import ReadOnlyStoreError, Run, SchemaVersionError, StoreError
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, statements

STORE_FILENAME = "ahd.sqlite"


#: Files SQLite keeps beside a database while it is open or after a crash.
SIDE_FILE_SUFFIXES = ("-wal", "-shm", "-journal")


#: What reading a damaged file raises besides sqlite's own errors: a cut or NULL JSON column
#: (``ValueError``, ``TypeError``), a column of the wrong type (``AttributeError``), a row that
#: no longer passes the record checks (``ValueError``).
DAMAGE = (sqlite3.DatabaseError, ValueError, TypeError, AttributeError)

Method = TypeVar("Method", bound=Callable[..., Any])


def reads(method: Method) -> Method:
    """Turn what a damaged store file raises while ``method`` reads it into :class:`StoreError`.

    A file cut short (a full disk, an interrupted copy) opens cleanly when the cut is in its
    last pages; sqlite notices only when a query reaches them, and a row cut mid-column
    decodes to garbage. Callers of the store handle :class:`StoreError` (one line for the
    user); without this they would see sqlite's or json's exceptions instead. Only reading
    methods carry it: a failed write keeps its ``sqlite3.OperationalError`` so that the run
    can tell a full disk from a damaged file.
    """

    @functools.wraps(method)
    def checked(self: StoreConnection, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except StoreError:
            raise
        except DAMAGE as exc:
            raise StoreError(
                f"{self.path}: the store is damaged and cannot be read "
                f"({type(exc).__name__}: {exc}); restore it from a copy"
            ) from exc

    return checked  # type: ignore[return-value]


def store_path(run_dir: str | Path) -> Path:
    """Where the store of ``run_dir`` lives."""
    return Path(run_dir) / STORE_FILENAME


def read_only_uri(path: str | Path) -> str:
    """The SQLite URI that reads ``path`` without writing to it or creating files beside it.

    ``immutable=1`` is added when no side file (``-wal``, ``-shm``, ``-journal``) exists, that
    is when no process has the store open and all committed data is in the file; see "Reading
    without writing" in this module's docstring for why and for the one race it leaves.
    """
    path = Path(path).resolve()
    uri = path.as_uri() + "?mode=ro"
    if not any(Path(f"{path}{suffix}").exists() for suffix in SIDE_FILE_SUFFIXES):
        uri += "&immutable=1"
    return uri


def connect_read_only(path: str | Path, timeout: float = 30.0) -> sqlite3.Connection:
    """A connection that can only read ``path`` (see :func:`read_only_uri`).

    Raises
    ------
    StoreError
        When the committed data cannot be read without writing: a ``-wal`` file with no
        ``-shm`` index beside it, in a directory this process cannot write to (SQLite would
        have to create the index). Copying the run directory somewhere writable reads it.
    """
    path = Path(path)
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    if wal.exists() and not shm.exists() and not os.access(path.parent, os.W_OK | os.X_OK):
        raise StoreError(
            f"{path}: {wal.name} holds data not yet in the store file, and reading it needs "
            f"a {shm.name} file that cannot be created in this read-only directory; copy "
            f"the run directory somewhere writable to read it"
        )
    try:
        return sqlite3.connect(read_only_uri(path), uri=True, timeout=timeout,
                               isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open store: {exc}") from exc


class StoreConnection:
    """An open store file with the current schema; see :class:`~ahd.store.Store`.

    Attributes
    ----------
    conn
        The sqlite3 connection (autocommit mode: write through :meth:`transaction`).
    readonly
        Opened by :func:`connect_read_only`: nothing is ever written, and :meth:`transaction`
        raises :class:`~ahd.store.ReadOnlyStoreError`.
    run
        The current run (see :meth:`~ahd.store.Store.open_run`), ``None`` until one is
        created or opened.
    """

    def __init__(self, path: str | Path, readonly: bool = False, timeout: float = 30.0):
        self.path = Path(path)
        self.readonly = readonly
        self.run: Run | None = None
        if readonly and not self.path.is_file():
            raise StoreError(f"{self.path}: no such store file")
        if not self.path.parent.is_dir():
            raise StoreError(f"{self.path.parent}: no such directory")
        if readonly:
            self.conn = connect_read_only(self.path, timeout)
        else:
            try:
                self.conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot open store: {exc}") from exc
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise StoreError(f"{self.path}: not a usable ahd store: {exc}") from exc
        except StoreError:
            self.conn.close()
            raise

    # -------------------------------------------------------------- connection and schema

    def _setup(self) -> None:
        conn = self.conn
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
            if self.readonly and version == 0:  # an empty file: never written by ahd
                raise StoreError(f"{self.path}: an empty database, not an ahd store")
            if self.readonly:
                raise StoreError(
                    f"{self.path}: schema version {version} is older than {SCHEMA_VERSION}; "
                    f"open it once read-write (any ahd command that writes) to migrate it"
                )
            self._migrate()

    @property
    def schema_version(self) -> int:
        """``PRAGMA user_version`` of the file: the schema version it was written with."""
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.path}: written by a newer ahd (schema version {version}; this ahd "
                f"reads versions up to {SCHEMA_VERSION}); upgrade ahd to open it"
            )
        app_id = int(self.conn.execute("PRAGMA application_id").fetchone()[0])
        if app_id not in (0, APPLICATION_ID):
            raise StoreError(f"{self.path}: not an ahd store (application_id {app_id:#x})")
        if version == 0:
            tables = self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise StoreError(f"{self.path}: a SQLite file without an ahd schema version")

    def _migrate(self) -> None:
        with self.transaction():
            version = self.schema_version  # re-read under the write lock: another process
            self._check_version(version)  # may have migrated while we waited
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in statements(MIGRATIONS[target - 1]):
                    self.conn.execute(statement)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none of it."""
        if self.readonly:
            raise ReadOnlyStoreError(
                f"{self.path}: the store is open read-only (as the viewers open it); writing "
                f"needs a store opened without readonly"
            )
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            if self.conn.in_transaction:  # SQLite may already have rolled back (disk full)
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection (committed data is already safe)."""
        self.conn.close()

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: ``'ok'`` or the problems found, one a line."""
        rows = self.conn.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(row[0]) for row in rows)

    @property
    def _conn(self) -> sqlite3.Connection:
        """Former name of :attr:`conn`, kept for code that still reads it."""
        return self.conn
