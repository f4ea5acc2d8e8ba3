"""The ``candidates`` table: every candidate of a run, once per roles and normalized code.

Identity is ``(run, roles, code_hash)``, so adding a candidate twice (a proposer repeating
itself, or a killed run adding its candidates again on resume) returns the stored id.
"""

from __future__ import annotations

import json

from ..candidate import Candidate, Origin
from .connection import reads
from .encoding import dumps, now, roles_text
from .records import NotFoundError, Run, StoreError
from .runs import RunsMixin


class CandidatesMixin(RunsMixin):
    """Adding and reading candidates; part of :class:`~ahd.store.Store`."""

    def add_candidate(self, candidate: Candidate, run_id: int | None = None) -> tuple[int, bool]:
        """Store ``candidate`` in the current run unless an identical one is there.

        Identity is ``(run, roles, code_hash)``: the same normalized code filling the same roles.
        Returns ``(id, is_new)``; a duplicate returns the existing id and ``False``.
        """
        run_id = self.current_run_id(run_id)
        roles = roles_text(candidate.roles)
        with self.transaction() as conn:
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
                    run_id, candidate.code_hash, roles, dumps(dict(candidate.entry_points)),
                    candidate.source, candidate.problem, dumps(parents),
                    dumps(candidate.origin.to_dict()), candidate.generation, now(),
                ),
            )
            if cur.rowcount == 1:
                return int(cur.lastrowid), True
            row = conn.execute(
                "SELECT id FROM candidates WHERE run_id = ? AND roles = ? AND code_hash = ?",
                (run_id, roles, candidate.code_hash),
            ).fetchone()
            return int(row[0]), False

    @reads
    def find_candidate(self, candidate: Candidate, run_id: int | None = None) -> int | None:
        """Id of the stored candidate identical to ``candidate`` in the run, or ``None``."""
        row = self.conn.execute(
            "SELECT id FROM candidates WHERE run_id = ? AND roles = ? AND code_hash = ?",
            (self.current_run_id(run_id), roles_text(candidate.roles), candidate.code_hash),
        ).fetchone()
        return None if row is None else int(row[0])

    @reads
    def get_candidate(self, candidate_id: int) -> Candidate:
        """The stored candidate ``candidate_id`` (with its id set)."""
        row = self.conn.execute(
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

    @reads
    def candidate_run(self, candidate_id: int) -> Run:
        """The run a candidate belongs to (the current run is left as it was)."""
        row = self.conn.execute(
            "SELECT run_id FROM candidates WHERE id = ?", (candidate_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no candidate {candidate_id} in {self.path}")
        current = self.run
        run = self.open_run(row[0])
        self.run = current
        return run

    @reads
    def candidate_ids(self, run_id: int | None = None) -> list[int]:
        """Ids of the run's candidates (every run's when no run is current), oldest first."""
        if run_id is None and self.run is None:
            rows = self.conn.execute("SELECT id FROM candidates ORDER BY id")
        else:
            rows = self.conn.execute(
                "SELECT id FROM candidates WHERE run_id = ? ORDER BY id",
                (self.current_run_id(run_id),),
            )
        return [int(r[0]) for r in rows]
