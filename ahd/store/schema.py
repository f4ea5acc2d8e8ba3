"""The store's SQL schema and its migrations, one script per schema version.

A store file records its schema version in ``PRAGMA user_version`` and marks itself as an ahd
store with ``PRAGMA application_id``; :class:`~ahd.store.connection.StoreConnection` compares
both with :data:`SCHEMA_VERSION` when it opens a file and runs the missing
:data:`MIGRATIONS` in one transaction. Keeping the SQL here, apart from the code that queries
it, makes every schema change one appended script.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

#: Marks the file as an ahd store ("AHD1"), so a foreign SQLite file is refused.
APPLICATION_ID = 0x41484431

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

#: Why a run stopped (a budget, Ctrl-C, a full disk, ...), kept with its status so that a run
#: that is no longer running says why; ``NULL`` while it runs and for runs of older stores.
_V2_STOP_REASON = """
ALTER TABLE runs ADD COLUMN stop_reason TEXT;
"""

#: ``MIGRATIONS[i]`` takes a store from schema version ``i`` to ``i + 1``. Append, never edit.
MIGRATIONS: list[str] = [_SCHEMA_V1, _V2_STOP_REASON]
SCHEMA_VERSION = len(MIGRATIONS)


def statements(script: str) -> Iterator[str]:
    """Split an SQL script into complete statements (so they can run inside our transaction;
    ``executescript`` would commit first)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n\t;"):
                yield buffer.strip()
            buffer = ""
