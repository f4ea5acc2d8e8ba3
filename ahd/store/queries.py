"""What the store's tables say together: per-split scores, the leaderboard, lineage graphs.

These read-only queries join candidates with their evaluations (or with their parents) and
return the records of :mod:`ahd.store.records`; they are what ``ahd leaderboard``, ``ahd
lineage`` and the report show.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .connection import StoreConnection, reads
from .encoding import chunks
from .records import SPLITS, LeaderboardRow, LineageNode, NotFoundError, SplitScore


class QueriesMixin(StoreConnection):
    """Scores, leaderboard and lineage; part of :class:`~ahd.store.Store`."""

    def _status_counts(self, candidate_ids: Sequence[int], split: str) -> dict[int, dict]:
        counts: dict[int, dict[str, int]] = {cid: {} for cid in candidate_ids}
        for chunk in chunks(list(candidate_ids)):
            marks = ",".join("?" * len(chunk))
            for cid, status, n in self.conn.execute(
                f"SELECT candidate_id, status, count(*) FROM evaluations WHERE split = ? "
                f"AND candidate_id IN ({marks}) GROUP BY candidate_id, status ORDER BY status",
                [split, *chunk],
            ):
                counts[cid][status] = n
        return counts

    @reads
    def scores(self, candidate_id: int) -> dict[str, SplitScore]:
        """Per split with any evaluation: mean objective of the ``ok`` ones and status counts."""
        out = {}
        for split, mean, n_inst, n_eval in self.conn.execute(
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
        return self._ranked(role, split, top, run_id)

    @reads
    def _ranked(self, role: str | None, split: str, top: int,
                run_id: int | None) -> list[LeaderboardRow]:
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
        rows = self.conn.execute(query, [*params, top]).fetchall()
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

    @reads
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
            rows = self.conn.execute(
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
