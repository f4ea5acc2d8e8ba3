"""The :class:`Store` itself, assembled from one mixin per table, and the resume step.

Each table's operations live in a module of their own (:mod:`~ahd.store.runs`,
:mod:`~ahd.store.candidates`, :mod:`~ahd.store.evaluations`, :mod:`~ahd.store.queries`,
:mod:`~ahd.store.llm_calls`), all over the connection of :mod:`~ahd.store.connection`; this
module puts them together into the one class callers use, and adds :func:`pending_work`, which
needs the whole store.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .candidates import CandidatesMixin
from .connection import store_path
from .evaluations import EvaluationsMixin
from .llm_calls import LLMCallsMixin
from .queries import QueriesMixin
from .records import StoreError


class Store(CandidatesMixin, EvaluationsMixin, QueriesMixin, LLMCallsMixin):
    """The SQLite store of one run directory.

    Parameters
    ----------
    path
        The database file (``RUN_DIR/ahd.sqlite``; see :meth:`in_run_dir`). Created with the
        current schema when missing, unless ``readonly``.
    readonly
        Open for reading only, as the viewers (``ahd leaderboard``, ``show``, ``export``,
        ``report``) do, while a run is going on or after it ended: nothing is written to the
        file or beside it (no ``-wal``/``-shm`` files, no migration), so a run directory the
        user cannot write to can be read, and any write raises
        :class:`~ahd.store.ReadOnlyStoreError`. The file must exist and have the current
        schema.
    timeout
        Seconds to wait for another process's write lock before giving up.

    Notes
    -----
    One ``Store`` per thread: sqlite3 connections are not shared between threads. Several
    processes may open the same file; writes are serialized by ``BEGIN IMMEDIATE``.
    """

    @classmethod
    def in_run_dir(cls, run_dir: str | Path, readonly: bool = False) -> Store:
        """Open (or, unless ``readonly``, create) the store of ``run_dir``."""
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            if readonly:
                raise StoreError(f"{run_dir}: no such run directory")
            run_dir.mkdir(parents=True)
        return cls(store_path(run_dir), readonly=readonly)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


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
