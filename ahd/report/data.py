"""Collect everything a report shows from a run directory, read-only.

Sources, all optional except the store:

- ``ahd.sqlite`` (opened read-only, so a live run keeps writing undisturbed): run settings,
  candidates and their code, evaluations (cooperative team runs carry ``{"round", "role"}``
  metrics), LLM calls;
- ``state.json`` (rewritten atomically after every round): snapshots, credit, uses, failure
  counters and spent budget;
- ``summary.json`` (written last by a finished run): the validated winner and its export.

A running or killed run has no summary; a run killed before its first round has no state either,
and then the team fitness per round is rebuilt from the store's team evaluations.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ahd.plugins import tasks
from ahd.store import STORE_FILENAME, LineageNode, NotFoundError, Run, Store, StoreError

from . import queries
from .model import (
    LLMCallPoint,
    Operator,
    ReportError,
    RoundPoint,
    RunReport,
    RunStatus,
    Team,
)
from .runstate import probe, run_status

STATE_FILE = "state.json"
SUMMARY_FILE = "summary.json"


def _read_json(path: Path, notes: list[str]) -> dict[str, Any] | None:
    """A JSON file of the run, or ``None`` (with a note) when missing or half written."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        notes.append(f"{path.name} could not be read ({exc}); shown without it")
        return None
    return data if isinstance(data, dict) else None


def _open_store(run_dir: Path) -> Store:
    """The run's store, read-only, or a one-line :class:`ReportError`."""
    if not run_dir.exists():
        raise ReportError(f"{run_dir}: no such run directory")
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: not a directory")
    if not (run_dir / STORE_FILENAME).is_file():
        raise ReportError(f"{run_dir}: not an ahd run directory (no {STORE_FILENAME})")
    try:
        return Store.in_run_dir(run_dir, readonly=True)
    except StoreError as exc:
        raise ReportError(str(exc)) from exc


def _finite(value: Any) -> float | None:
    """``value`` as a float, ``None`` for missing or infinite (a seed team never scored)."""
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)


def _rounds(
    snapshots: list[dict[str, Any]], reader: queries.Reader, calls: list[LLMCallPoint],
    call_stamps: list[str],
) -> list[RoundPoint]:
    """Convergence points: each snapshot with the cumulative effort spent to reach it."""
    team_runs, scored_at, smoke = queries.round_counts(reader)
    points, best = [], math.inf
    for snap in sorted(snapshots, key=lambda s: s["round"]):
        r = int(snap["round"])
        evaluations = sum(team_runs.get(i, 0) + smoke.get(i, 0) for i in range(r + 1))
        n = bisect_right(call_stamps, scored_at[r]) if r in scored_at else len(calls)
        done = calls[:n]
        best = min(best, float(snap["fitness"]))
        points.append(RoundPoint(
            r, float(snap["fitness"]), best, snap.get("validation"), evaluations, len(done),
            sum(c.prompt_tokens + c.completion_tokens for c in done), sum(c.cost for c in done),
            {role: list(ids) for role, ids in snap["members"].items()},
        ))
    return points


def _team(summary: dict | None, snapshots: list[dict[str, Any]]) -> Team | None:
    """The winner of a finished run, else the best training snapshot so far."""
    if summary and summary.get("winner_members"):
        return Team(
            "winner", int(summary["winner_round"]), summary["winner_members"],
            float(summary["winner_train"]), summary.get("winner_validation"),
            summary.get("exported"),
        )
    evolved = [s for s in snapshots if s["round"] > 0]
    if not evolved and not snapshots:
        return None
    best = min(evolved or snapshots, key=lambda s: (s["fitness"], s["round"]))
    label = ("best training team so far (no validated winner yet)" if evolved
             else "seed team (no evolved team scored yet)")
    return Team(label, int(best["round"]), best["members"], float(best["fitness"]),
                best.get("validation"))


def _operators(
    store: Store, run: Run, team: Team | None, state: dict | None, top: int
) -> tuple[list[Operator], list[LineageNode]]:
    """The leaderboard's operators, the team's, and the team's ancestors, with their code."""
    rows = {row.candidate_id: row for row in store.leaderboard(split="train", top=top,
                                                                  run_id=run.id)}
    credit = {int(k): v for k, v in ((state or {}).get("credit") or {}).items()}
    uses = {int(k): v for k, v in ((state or {}).get("uses") or {}).items()}
    population = {int(i) for ids in ((state or {}).get("population") or {}).values()
                  for i in ids}
    team_ids = team.ids if team else set()
    nodes: dict[int, LineageNode] = {}
    for cid in sorted(team_ids):
        for node in store.lineage(cid):
            if node.id not in nodes or node.depth < nodes[node.id].depth:
                nodes[node.id] = node
    lineage = [n for n in nodes.values() if n.parents or any(
        n.id in m.parents for m in nodes.values())]
    wanted = list(rows) + sorted((team_ids | {n.id for n in lineage}) - set(rows))
    operators = []
    for cid in wanted:
        cand = store.get_candidate(cid)
        row = rows.get(cid)
        if row is not None:
            numbers = (row.mean_objective, row.n_instances, row.n_evaluations, row.status_counts)
        else:
            score = store.scores(cid).get("train")
            numbers = (None, 0, 0, {}) if score is None else (
                score.mean_objective, score.n_instances, score.n_evaluations, score.status_counts)
        mean, n_instances, n_evaluations, counts = numbers
        operators.append(Operator(
            cid, cand.roles, cand.generation, cand.origin.proposer, cand.origin.strategy,
            cand.origin.model, cand.parents, cand.source, rank=row.rank if row else None,
            mean_objective=mean, n_instances=n_instances, n_evaluations=n_evaluations,
            status_counts=dict(counts), credit=credit.get(cid), uses=uses.get(cid),
            in_team=cid in team_ids, in_population=cid in population,
        ))
    return operators, sorted(lineage, key=lambda n: (n.generation, n.id))


def collect_run(
    run_dir: str | Path, top: int = 20, routes: bool = True, route_timeout: float = 120.0,
    progress: Callable[[str], None] | None = None,
) -> RunReport:
    """Read a run directory (finished, running or killed) into a :class:`RunReport`.

    Parameters
    ----------
    run_dir
        Directory of an ``ahd evolve`` run (holds ``ahd.sqlite``).
    top
        Leaderboard length.
    routes
        Re-run the team on the first validation instance (routing runs) to draw its routes.
        The operators run in the sandbox, as during the run, for up to ``route_timeout``
        seconds; nothing is written to the run directory.
    progress
        Told before slow steps (the re-run takes seconds to compile the operators).

    Raises
    ------
    ReportError
        No such directory, no store in it, an unreadable store or one without a run.
    """
    run_dir = Path(run_dir)
    notes: list[str] = []
    db_path = run_dir / STORE_FILENAME
    holder, probe_error = None, None
    if run_dir.is_dir() and db_path.is_file():
        # Before this process opens the store itself (see ahd.report.runstate).
        holder, probe_error = probe(db_path)
    store = _open_store(run_dir)
    with store:
        try:
            run = store.open_run()
        except NotFoundError as exc:
            raise ReportError(f"{run_dir}: the store has no run yet") from exc
        summary = _read_json(run_dir / SUMMARY_FILE, notes)
        state = _read_json(run_dir / STATE_FILE, notes)
        status = run_status(run.status, summary is not None, holder, probe_error)
        reader = queries.Reader(db_path, run.id)
        try:
            report = _collect(store, reader, run, run_dir, status, summary, state, top, notes)
        finally:
            reader.close()
        plugin = tasks().get(run.problem)
        if routes and report.team is not None and plugin is not None and plugin.cooperative:
            if progress is not None:
                progress(f"re-running the {report.team.label} on a validation instance in the "
                         "sandbox to draw its solution (--no-routes skips this)...")
            report.routes = plugin.team_picture(store, run, report.team, route_timeout)
    return report


def _collect(
    store: Store, reader: queries.Reader, run: Run, run_dir: Path, status: RunStatus,
    summary: dict | None, state: dict | None, top: int, notes: list[str],
) -> RunReport:
    calls, stamps = queries.llm_calls(reader, run.created)
    if state is not None:
        snapshots, source = list(state.get("snapshots") or []), STATE_FILE
    else:
        snapshots = queries.snapshots_from_store(reader)
        source = "the store (no state.json yet)"
        notes.append("no state.json yet: team fitness per round rebuilt from the store; "
                     "credit, uses and failure counters are not available")
    team = _team(summary, snapshots)
    operators, lineage = _operators(store, run, team, state, top)
    if not calls:
        notes.append("offline run: no LLM calls were made, so there are no calls, tokens or "
                     "cost to show" if not run.config.get("model")
                     else "no LLM calls recorded yet")
    plugin = tasks().get(run.problem)
    # Candidates scored alone (not as one team) have a per-instance coverage worth a table.
    # (a run of a problem whose plugin is not installed shows it too: the data is generic).
    cooperative = plugin is not None and plugin.cooperative
    return RunReport(
        run_dir=run_dir, status=status, run_id=run.id, problem=run.problem,
        created=run.created, config=run.config, versions=run.versions,
        round=int((state or {}).get("round", max((s["round"] for s in snapshots), default=0))),
        spent=dict((state or {}).get("spent") or {}),
        stop=(summary or {}).get("stop"),
        seed_train=_finite((summary or {}).get("seed_train", (state or {}).get("seed_train"))),
        seed_validation=(summary or {}).get("seed_validation"),
        team=team, rounds=_rounds(snapshots, reader, calls, stamps), rounds_source=source,
        operators=operators, lineage=lineage,
        membership=queries.membership(reader, snapshots), llm_calls=calls,
        llm_totals=store.llm_totals(run.id), failures=queries.failures(reader, state),
        routes=None, coverage=None if cooperative else queries.coverage(reader), notes=notes,
        validation_gain=_gain(summary), draws_solutions=cooperative,
    )


def _gain(summary: dict | None) -> tuple[float, float] | None:
    if not summary or summary.get("validation_gain_se_pct") is None:
        return None
    return float(summary["validation_gain_pct"]), float(summary["validation_gain_se_pct"])
