"""The run's leaderboard store: one SQLite file per run directory (``RUN_DIR/ahd.sqlite``).

Everything a run learns goes here: the run's configuration, every candidate (deduplicated by
the hash of its normalized code), every evaluation (never repeated, thanks to a unique key),
and every LLM call with its cost. A run that is killed resumes from what the store holds:
:func:`pending_work` lists what is still to evaluate.

The store holds no secrets: nothing from the environment (API keys ...) is ever written.

This package re-exports the public names of its modules, so callers import from
``ahd.store`` only:

- :mod:`~ahd.store.records`: the dataclasses rows are read into, vocabularies and errors;
- :mod:`~ahd.store.schema`: the SQL schema and its migrations;
- :mod:`~ahd.store.encoding`: how values are written to columns;
- :mod:`~ahd.store.connection`: opening a file (read-write, or read-only without writing
  anything), schema checks, transactions, durability;
- :mod:`~ahd.store.runs`, :mod:`~ahd.store.candidates`, :mod:`~ahd.store.evaluations`,
  :mod:`~ahd.store.llm_calls`: one table each;
- :mod:`~ahd.store.queries`: scores, leaderboard and lineage across tables;
- :mod:`~ahd.store.store`: :class:`Store`, built from all of the above, and
  :func:`pending_work`.
"""

from .connection import STORE_FILENAME, connect_read_only, read_only_uri, store_path
from .records import (
    RUN_STATUSES,
    SPLITS,
    STATUSES,
    Evaluation,
    LeaderboardRow,
    LineageNode,
    LLMCall,
    NotFoundError,
    ReadOnlyStoreError,
    Run,
    SchemaVersionError,
    SplitScore,
    StoreError,
    evaluation_context,
)
from .runs import package_versions
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from .store import Store, pending_work

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "SPLITS",
    "STATUSES",
    "STORE_FILENAME",
    "Evaluation",
    "LLMCall",
    "LeaderboardRow",
    "LineageNode",
    "NotFoundError",
    "ReadOnlyStoreError",
    "Run",
    "SchemaVersionError",
    "SplitScore",
    "Store",
    "StoreError",
    "connect_read_only",
    "evaluation_context",
    "package_versions",
    "pending_work",
    "read_only_uri",
    "store_path",
]
