"""The ``evaluations`` table: one row per candidate, instance, split and context, never two.

Batches go in one transaction and a key already stored is skipped, never overwritten; what is
stored is what a resumed run does not evaluate again (see :func:`~ahd.store.pending_work`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from .connection import StoreConnection, reads
from .encoding import chunks, dumps, now
from .records import SPLITS, Evaluation, StoreError


class EvaluationsMixin(StoreConnection):
    """Adding and reading evaluations; part of :class:`~ahd.store.Store`."""

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
        created = now()
        rows = [
            (
                e.candidate_id, e.instance, e.split, e.context, e.objective, e.time, e.status,
                e.error, dumps(dict(e.metrics)), created,
            )
            for e in batch
        ]
        try:
            with self.transaction() as conn:
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

    @reads
    def has_evaluation(
        self, candidate_id: int, instance: str, split: str = "train", context: str = ""
    ) -> bool:
        """Whether this exact evaluation key is stored."""
        row = self.conn.execute(
            "SELECT 1 FROM evaluations WHERE candidate_id = ? AND instance = ? AND split = ? "
            "AND context = ?",
            (candidate_id, instance, split, context),
        ).fetchone()
        return row is not None

    @reads
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
        for row in self.conn.execute(query, params):
            eid, cid, instance, sp, context, objective, time, status, error, metrics, created = row
            out.append(Evaluation(
                cid, instance, sp, status, objective, time, error, json.loads(metrics), context,
                eid, created,
            ))
        out.sort(key=lambda e: (SPLITS.index(e.split), e.instance, e.context))
        return out

    @reads
    def evaluated_pairs(
        self, candidate_ids: Iterable[int], split: str = "train", context: str = ""
    ) -> set[tuple[int, str]]:
        """The ``(candidate_id, instance)`` pairs stored for ``split`` and ``context``."""
        ids = list(candidate_ids)
        done: set[tuple[int, str]] = set()
        for chunk in chunks(ids):
            marks = ",".join("?" * len(chunk))
            done.update(
                self.conn.execute(
                    f"SELECT candidate_id, instance FROM evaluations WHERE split = ? AND"
                    f" context = ? AND candidate_id IN ({marks})",
                    [split, context, *chunk],
                ).fetchall()
            )
        return done
