"""Re-run the reported team on one validation instance to draw its routes.

The store keeps objectives, not solutions, so the routes are recomputed: the team's operators
run in the sandbox exactly as in the run (the run's LNS settings and seed, unchanged seeds under
their precompiled registry names), on the first validation instance rebuilt from the run's
stored settings. The run is deterministic at an iteration budget, so the cost found normally
equals the stored validation record, which the report shows next to it as a check.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from ahd.candidate import Candidate
from ahd.report.model import Routes, Team
from ahd.store import Run, Store

from .problem import DEFAULT_PROBLEM

#: Instance file suffixes an ``--instances`` run reads (as :mod:`ahd.problems.task` does).
INSTANCE_SUFFIXES = (".vrp", ".tsp", ".txt")
VALIDATION_SEED = 2_000


def _validation_instance(task: dict[str, Any]) -> Any:
    """The run's first validation instance: generated from its seed, or its second file."""
    from ahd.problems.evaluate import InstanceSpec

    problem = task.get("problem", DEFAULT_PROBLEM)
    folder = task.get("instances_dir")
    if folder:
        from ahd.problems.io import read_instance

        files = sorted(p for p in Path(folder).iterdir()
                       if p.suffix.lower() in INSTANCE_SUFFIXES)
        if len(files) < 2:
            raise FileNotFoundError(f"{folder}: the run's instance files are gone")
        return read_instance(files[1], kind=problem)  # validation takes files[1::2]
    seed = VALIDATION_SEED + 100 * int(task.get("seed", 0))
    return InstanceSpec(problem, int(task["size"]), seed).build()


def _operator(cand: Candidate, role: str, problem: str) -> Any:
    """A seed under its registry name (precompiled in the workers), anything else as code."""
    from ahd.problems.operators.registry import DEFAULT_POOLS
    from ahd.problems.operators.standalone import standalone_source

    name = cand.origin.strategy
    if cand.origin.proposer == "seed" and name in DEFAULT_POOLS.get(problem, {}).get(role, ()):
        original = Candidate(standalone_source(role, name), (role,), problem)
        if original.code_hash == cand.code_hash:
            return name
    return cand


def _stored(store: Store, team: Team, instance: str) -> float | None:
    """The stored validation objective of this team on ``instance``, when unambiguous.

    Every member of a team gets the team's record, but a member validated in an earlier team
    keeps that team's record; evolved members whose records agree identify the team's own.
    """
    values = set()
    for cid in sorted(team.ids):
        cand = store.get_candidate(cid)
        if cand.origin.proposer == "seed":
            continue  # the seed team is validated first and owns the seeds' records
        for ev in store.evaluations_for(cid, "validation"):
            if ev.instance == instance and ev.context == "team:validation" and ev.status == "ok":
                values.add(ev.objective)
    return values.pop() if len(values) == 1 else None


def team_routes(store: Store, run: Run, team: Team, timeout: float = 120.0) -> Routes:
    """The team's verified routes on the first validation instance (or why there are none)."""
    task = dict(run.config.get("task") or {})
    label = f"{team.label} (round {team.round})"
    try:
        instance = _validation_instance(task)
    except (OSError, KeyError, ValueError) as exc:
        return Routes("-", run.problem, label, error=f"cannot rebuild the instance: {exc}")
    coords = [] if instance.coords is None else [tuple(map(float, xy))
                                                 for xy in instance.coords]
    base = Routes(instance.name, instance.kind, label, coords,
                  open_routes=instance.open_routes)
    if instance.coords is None:
        return replace(base, error="the instance has no coordinates to draw")
    try:
        record = _run(store, run, team, instance, task, timeout)
    except Exception as exc:  # noqa: BLE001 - the report goes on without routes
        return replace(base, error=f"{type(exc).__name__}: {exc}")
    if record.status != "ok" or record.routes is None:
        error = (record.error or "").strip().splitlines()
        return replace(base, error=f"{record.status}: {error[0] if error else 'no routes'}")
    return replace(base, routes=[list(map(int, r)) for r in record.routes],
                    cost=record.objective, stored=_stored(store, team, instance.name))


def _run_cache(run_dir: Path) -> Path | None:
    """The run's own cache of compiled candidates (``RUN/numba``, see
    :func:`ahd.problems.child.code_file`), so the team loads the machine code the run compiled
    instead of compiling it again (20-40 s for a team); ``None`` when the run has none or it
    cannot be written (a read-only run: the team then compiles in the child, uncached)."""
    folder = run_dir / "numba"
    return folder if folder.is_dir() and os.access(folder, os.W_OK | os.X_OK) else None


def _run(store: Store, run: Run, team: Team, instance: Any, task: dict, timeout: float) -> Any:
    from ahd.problems.engine.config import LNSConfig
    from ahd.problems.evaluate import WARMUP_SPEC, RoutingEvaluation, evaluate_candidates
    from ahd.sandbox import SandboxLimits, SandboxPool

    pools = {
        role: [_operator(store.get_candidate(cid), role, run.problem) for cid in ids]
        for role, ids in team.members.items()
    }
    config = LNSConfig(time_limit=float(task.get("time_cap", 20.0)),
                       iterations=int(task.get("iterations", 1000)),
                       seed=int(task.get("seed", 0)))
    request = RoutingEvaluation(instance, config, destroy=pools.get("destroy"),
                                repair=pools.get("repair"), improve=pools.get("improve"))
    pool = SandboxPool(1, warmup=WARMUP_SPEC, prewarm_numba="basic",
                       limits=SandboxLimits(wall_time=timeout),
                       shared_dir=_run_cache(Path(store.path).parent))
    try:
        return evaluate_candidates([request], pool)[0]
    finally:
        pool.close()
