"""Cooperative evaluation of operator teams: one sandbox child runs a team on many instances.

A team (destroy, repair and improve pools) is what co-evolution scores. Running it on each
training instance in its own child would pay the per-child costs of every evolved operator
(loading it from numba's cache and building its first-class-function wrapper, about a second
for a large operator) once per instance; one child per team and batch of instances pays them
once. Every run is validated and its objective recomputed by the trusted parent exactly as in
:mod:`ahd.problems.evaluate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ahd.sandbox.records import SandboxLimits
from ahd.trust import InvalidOutput, clip, record_status, redact, secret_values

from .checks import check_source, validate_child_output
from .child import code_file, may_compile, run_candidate_lns
from .engine.config import LNSConfig
from .evaluate import prepare, unwrap_error
from .instance import RoutingInstance
from .requests import EvaluationRecord, InstanceSpec, RoutingEvaluation
from .verify import InfeasibleSolution, verify


@dataclass(frozen=True, eq=False)
class TeamEvaluation:
    """A team's pools run on several instances, one after the other, in one child."""

    instances: tuple[RoutingInstance | InstanceSpec, ...]
    config: LNSConfig
    destroy: Any = None
    repair: Any = None
    improve: Any = None

    def __post_init__(self) -> None:
        if not self.instances:
            raise ValueError("a team evaluation needs at least one instance")
        object.__setattr__(self, "instances", tuple(self.instances))


def run_team_lns(request: dict) -> dict:
    """Child side: the team's LNS on every instance of ``request["instances"]``."""
    runs = []
    for data in request["instances"]:
        single = {"instance": data, "config": request["config"],
                  "operators": request["operators"]}
        runs.append(run_candidate_lns(single))
    return {"runs": runs}


def _prepared(team: TeamEvaluation, built: dict) -> tuple[list, dict]:
    prepared = [
        prepare(
            RoutingEvaluation(inst, team.config, team.destroy, team.repair, team.improve), built
        )
        for inst in team.instances
    ]
    payload = dict(prepared[0].payload)
    payload["instances"] = [p.payload["instance"] for p in prepared]
    del payload["instance"]
    return prepared, payload


def _records(prepared: list, result: Any) -> list[EvaluationRecord]:
    secrets = secret_values()
    base = {"sandbox_status": result.status, "cpu_time": float(result.cpu_time),
            "max_rss": int(result.max_rss)}
    wall = float(result.wall_time) / len(prepared)

    def failed(prep, status: str, error: str) -> EvaluationRecord:
        return EvaluationRecord(
            prep.instance.name, status, None, wall, redact(clip(error), secrets), dict(base)
        )

    if result.status != "ok":
        if result.status == "error":
            kind, message = unwrap_error(result.error or "")
            status = "infeasible" if kind == "infeasible" else "error"
        else:
            status, message = record_status(result.status), result.error or ""
        return [failed(p, status, message or result.status) for p in prepared]
    runs = result.value.get("runs") if type(result.value) is dict else None
    if type(runs) is not list or len(runs) != len(prepared):
        return [failed(p, "invalid", "invalid result from the sandbox: bad 'runs'")
                for p in prepared]
    out = []
    for prep, run in zip(prepared, runs, strict=True):
        try:
            routes, found = validate_child_output(run, prep.labels)
            objective = verify(prep.instance, routes)
        except InvalidOutput as exc:
            out.append(failed(prep, "invalid", f"invalid result from the sandbox: {exc}"))
            continue
        except InfeasibleSolution as exc:
            out.append(failed(prep, "infeasible", f"InfeasibleSolution: {exc}"))
            continue
        metrics = {**base, **redact(found, secrets)}
        out.append(EvaluationRecord(prep.instance.name, "ok", float(objective), wall, None,
                                    metrics, routes))
    return out


def evaluate_teams(
    teams: Sequence[TeamEvaluation], pool: Any, limits: SandboxLimits | None = None,
    check_static: bool = True,
) -> list[list[EvaluationRecord]]:
    """Evaluate every team in ``pool`` (a :class:`~ahd.sandbox.SandboxPool`); per team, one
    record per instance, in order. A static problem in any member fails the whole team."""
    import concurrent.futures as cf

    built: dict = {}
    jobs: dict[Any, int] = {}
    out: list[list[EvaluationRecord] | None] = [None] * len(teams)
    prepared_all = []
    shared_dir = getattr(pool, "shared_dir", None)
    for i, team in enumerate(teams):
        prepared, payload = _prepared(team, built)
        prepared_all.append(prepared)
        problems: list[str] = []
        if check_static:
            for code, entries in prepared[0].sources.items():
                problems.extend(check_source(code, entries))
        if problems:
            text = redact(clip("\n".join(problems)))
            out[i] = [EvaluationRecord(p.instance.name, "static", None, 0.0, text)
                      for p in prepared]
            continue
        if shared_dir:
            for ops in payload["operators"].values():
                for op in ops:
                    if "source" in op:
                        op["path"] = code_file(shared_dir, op["source"])
        jobs[pool.submit(run_team_lns, (payload,), limits, compiles=may_compile(payload))] = i
    for future in cf.as_completed(jobs):
        i = jobs[future]
        out[i] = _records(prepared_all[i], future.result())
    return out  # type: ignore[return-value]
