"""SQL the :class:`~ahd.store.Store` API has no method for: the report's per-round, per-stage
and per-call aggregates, on a read-only connection of their own.

Every query is limited to one run (a store may hold several) and reads only committed data, so
it is safe while ``ahd evolve`` writes to the same file.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from ahd.store import connect_read_only

from .model import Coverage, FailureExample, Failures, LLMCallPoint, Membership

#: Failure messages shown in the report (the newest distinct ones).
MAX_EXAMPLES = 8


class Reader:
    """A read-only connection of its own, scoped to one run: :meth:`rows` binds the run id as
    the first parameter, so no query can forget it."""

    def __init__(self, path: Path, run_id: int):
        self.conn = connect_read_only(path)  # writes nothing, even beside the file
        self.run_id = run_id

    def rows(self, query: str, *params: Any) -> list[tuple]:
        """All rows of ``query``, whose first ``?`` is the run id."""
        return self.conn.execute(query, (self.run_id, *params)).fetchall()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def _seconds(stamp: str, start: datetime) -> float:
    return (datetime.fromisoformat(stamp) - start).total_seconds()


def llm_calls(reader: Reader, created: str) -> tuple[list[LLMCallPoint], list[str]]:
    """The run's LLM calls in order, timed from the run's creation, and their timestamps."""
    start = datetime.fromisoformat(created)
    rows = reader.rows(
        "SELECT created, model, prompt_tokens, completion_tokens, cost, latency, cached, status"
        " FROM llm_calls WHERE run_id = ? ORDER BY created, id"
    )
    points = [
        LLMCallPoint(_seconds(c, start), m, 0, 0, 0.0, lat, True, status) if cached else
        LLMCallPoint(_seconds(c, start), m, p, t, cost, lat, False, status)
        for c, m, p, t, cost, lat, cached, status in rows
    ]
    return points, [row[0] for row in rows]


def round_counts(reader: Reader) -> tuple[dict[int, int], dict[int, str], dict[int, int]]:
    """Per round: training instances the team ran on, when it was scored, smoke runs.

    A smoke run is one per offspring that passed the static check (statically rejected ones
    carry an ``invalid`` record in their round's ``smoke:`` context).
    """
    team_runs: dict[int, int] = {}
    scored_at: dict[int, str] = {}
    for context, n, last in reader.rows(
        "SELECT e.context, count(DISTINCT e.instance), max(e.created) FROM evaluations e"
        " JOIN candidates c ON c.id = e.candidate_id WHERE c.run_id = ? AND e.split = 'train'"
        " AND e.context LIKE 'team:%' GROUP BY e.context"
    ):
        tail = context.split(":", 1)[1]
        if tail.isdigit():
            team_runs[int(tail)], scored_at[int(tail)] = n, last
    smoke: dict[int, int] = defaultdict(int)
    for generation, n in reader.rows(
        "SELECT generation, count(*) FROM candidates WHERE run_id = ? AND generation > 0"
        " GROUP BY generation"
    ):
        smoke[generation] += n
    for generation, n in reader.rows(
        "SELECT c.generation, count(DISTINCT c.id) FROM candidates c JOIN evaluations e"
        " ON e.candidate_id = c.id WHERE c.run_id = ? AND e.status = 'invalid'"
        " AND e.context = 'smoke:' || c.generation GROUP BY c.generation"
    ):
        smoke[generation] -= n
    return team_runs, scored_at, dict(smoke)


def snapshots_from_store(reader: Reader) -> list[dict[str, Any]]:
    """Snapshots rebuilt from team evaluations, for a run that has no ``state.json`` yet."""
    by_round: dict[int, dict[str, Any]] = {}
    for context, instance, objective, status, cid, metrics in reader.rows(
        "SELECT e.context, e.instance, e.objective, e.status, e.candidate_id, e.metrics"
        " FROM evaluations e JOIN candidates c ON c.id = e.candidate_id WHERE c.run_id = ?"
        " AND e.split = 'train' AND e.context LIKE 'team:%' ORDER BY e.id"
    ):
        tail = context.split(":", 1)[1]
        if not tail.isdigit():
            continue
        snap = by_round.setdefault(int(tail), {"objectives": {}, "ok": True, "members": {}})
        snap["ok"] &= status == "ok"
        snap["objectives"][instance] = objective
        role = json.loads(metrics).get("role", "?")
        members = snap["members"].setdefault(role, [])
        if cid not in members:
            members.append(cid)
    return [
        {"round": r, "members": s["members"], "validation": None,
         "fitness": sum(s["objectives"].values()) / len(s["objectives"])}
        for r, s in sorted(by_round.items()) if s["ok"] and s["objectives"]
    ]


def membership(reader: Reader, snapshots: list[dict[str, Any]]) -> list[Membership]:
    """Rounds in which each candidate was in the scored team, per role.

    The team evaluations' metrics say it for every scored team (failed ones too), but store only
    one record per candidate and instance, so a joint candidate (destroy and repair at once)
    shows one role there; the snapshots add the other.
    """
    rounds: dict[tuple[int, str], set[int]] = defaultdict(set)
    for snap in snapshots:
        for role, ids in snap["members"].items():
            for cid in ids:
                rounds[(int(cid), role)].add(int(snap["round"]))
    for cid, metrics in reader.rows(
        "SELECT DISTINCT e.candidate_id, e.metrics FROM evaluations e JOIN candidates c"
        " ON c.id = e.candidate_id WHERE c.run_id = ? AND e.split = 'train'"
        " AND e.context LIKE 'team:%'"
    ):
        data = json.loads(metrics)
        if "round" in data and "role" in data:
            rounds[(cid, str(data["role"]))].add(int(data["round"]))
    return [Membership(cid, role, tuple(sorted(rs))) for (cid, role), rs in sorted(rounds.items())]


def _stage(context: str, split: str) -> str:
    if context.startswith("smoke:"):
        return "smoke"
    return "validation" if split == "validation" else "team"


def failures(reader: Reader, state: dict | None) -> Failures:
    """The loop's failure counters and the store's evaluation statuses, per stage."""
    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    seen: set[tuple] = set()
    for cid, instance, split, context, status in reader.rows(
        "SELECT e.candidate_id, e.instance, e.split, e.context, e.status FROM evaluations e"
        " JOIN candidates c ON c.id = e.candidate_id WHERE c.run_id = ?"
    ):
        stage = _stage(context, split)
        key = (stage, cid, context) if stage == "smoke" else (stage, instance, context)
        if key not in seen:  # a team run is stored once per member; count it once
            seen.add(key)
            statuses[stage][status] += 1
    examples: list[FailureExample] = []
    firsts: set[str] = set()
    for cid, split, context, status, error in reader.rows(
        "SELECT e.candidate_id, e.split, e.context, e.status, e.error FROM evaluations e"
        " JOIN candidates c ON c.id = e.candidate_id WHERE c.run_id = ? AND e.status != 'ok'"
        " AND e.error IS NOT NULL ORDER BY e.id DESC LIMIT 200"
    ):
        first = error.strip().splitlines()[0] if error.strip() else status
        if first in firsts or len(examples) >= MAX_EXAMPLES:
            continue
        firsts.add(first)
        examples.append(FailureExample(cid, _stage(context, split), status, error[:1500]))
    kinds = {str(k): int(v) for k, v in ((state or {}).get("failures") or {}).items()}
    return Failures(kinds, {s: dict(by) for s, by in statuses.items()}, examples)


def coverage(reader: Reader) -> list[Coverage]:
    """Planning runs: per task, how many of its evaluations found a plan."""
    return [
        Coverage(split, instance, int(solved), int(total))
        for split, instance, solved, total in reader.rows(
            "SELECT e.split, e.instance, sum(e.status = 'ok'), count(*) FROM evaluations e"
            " JOIN candidates c ON c.id = e.candidate_id WHERE c.run_id = ?"
            " AND e.context NOT LIKE 'smoke:%' GROUP BY e.split, e.instance"
            " ORDER BY e.split, e.instance"
        )
    ]



