"""Routing evaluation requests and records: what the parent sends a sandbox child and keeps.

A :class:`RoutingEvaluation` names the operator pool of each role: candidate sources
(:class:`SourceOperator` or a :class:`~ahd.candidate.Candidate`), seed operators by registry
name, or ``None`` for the problem's default seed pool. :meth:`RoutingEvaluation.for_candidate`
builds the usual request: the candidate alone in its role(s), the rest of the team from seeds or
partner candidates. The instance is a :class:`~ahd.problems.instance.RoutingInstance` (pickled
to the child) or an :class:`InstanceSpec` the child rebuilds with the same generator.
Record statuses are the shared ones of :mod:`ahd.trust`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ahd.candidate import Candidate
from ahd.store import Evaluation
from ahd.trust import (
    MAX_ERROR_CHARS,  # noqa: F401 - re-exported for the child
    RECORD_STATUSES,
)

from .engine.config import LNSConfig
from .instance import RoutingInstance
from .problem import problems

#: The routing roles, in the order the engine takes them.
ROUTING_ROLES = ("destroy", "repair", "improve")
#: Keys of the child's result, with their exact types.
CHILD_KEYS = (
    "routes", "iterations", "python_mode", "compile_errors", "stats", "pairs", "elapsed",
)
#: Columns of the engine's per-operator statistics (``ahd.problems.engine.lns.STAT_COLUMNS``).
STAT_COLUMNS = ("chosen", "improved", "new_best", "accepted", "seconds", "gain")
#: Roles the engine reports statistics for.
STAT_ROLES = ("destroy", "repair")
#: Module whose primitives candidates call; all of its public names are pre-provided.
STATE_MODULE = "ahd.problems.engine.state"
#: Names the candidate namespace provides besides the state helpers.
PREAMBLE_NAMES = ("np", "numpy", "math", "numba", "njit", "prange")


# ------------------------------------------------------------------------------ requests


@dataclass(frozen=True)
class InstanceSpec:
    """A generated instance, rebuilt identically by the child and the parent.

    ``problem`` is a variant name (built by its
    :meth:`~ahd.problems.problem.RoutingProblem.build_spec`: :func:`uniform_cvrp` for CVRP,
    :func:`uniform_tsp` for TSP, where ``n`` counts every city, ...) or a generator name from
    :data:`GENERATORS`.
    """

    problem: str
    n: int
    seed: int

    def __post_init__(self) -> None:
        if self.problem not in GENERATORS:
            raise ValueError(f"unknown generator {self.problem!r}; known: {sorted(GENERATORS)}")
        for name in ("n", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"InstanceSpec.{name} must be an int, got {value!r}")

    def build(self) -> RoutingInstance:
        return GENERATORS[self.problem](self.n, self.seed)

    def to_dict(self) -> dict[str, Any]:
        return {"problem": self.problem, "n": self.n, "seed": self.seed}


def _generator(name: str) -> Callable[[int, int], RoutingInstance]:
    def build(n: int, seed: int) -> RoutingInstance:
        from ahd.problems import generators

        return getattr(generators, name)(n, seed)

    build.__name__ = name
    return build


#: Generators an :class:`InstanceSpec` may name: ``(n, seed) -> RoutingInstance``; every
#: variant under its own name, and the generator functions under theirs.
GENERATORS: dict[str, Callable[[int, int], RoutingInstance]] = {
    **{problem.name: problem.build_spec for problem in problems()},
    **{name: _generator(name) for name in ("uniform_cvrp", "uniform_tsp", "kool_cvrp", "x_cvrp")},
}


@dataclass(frozen=True)
class SourceOperator:
    """Operator code given as source text.

    ``entry`` is the function to call (default: the role name); ``name`` labels the operator in
    the engine's statistics (default: the entry name).
    """

    source: str
    entry: str = ""
    name: str = ""


OperatorSpec = str | SourceOperator | Candidate


def as_pool(value: Any, role: str) -> tuple[OperatorSpec, ...] | None:
    if value is None:
        return None
    if isinstance(value, (str, SourceOperator, Candidate)):
        value = (value,)
    pool = tuple(value)
    for op in pool:
        if not isinstance(op, (str, SourceOperator, Candidate)):
            raise TypeError(
                f"{role} operators must be registry names, SourceOperator or Candidate, "
                f"got {type(op).__name__}"
            )
        if isinstance(op, Candidate) and role not in op.roles:
            raise ValueError(f"candidate with roles {op.roles} cannot fill the {role} role")
    return pool


@dataclass(frozen=True, eq=False)
class RoutingEvaluation:
    """One sandboxed LNS run: operator pools per role, an instance, a config and a seed.

    A role left ``None`` gets the problem's default seed pool (``improve``: none by default).
    ``seed`` overrides ``config.seed`` when given.
    """

    instance: RoutingInstance | InstanceSpec
    config: LNSConfig
    destroy: Any = None
    repair: Any = None
    improve: Any = None
    seed: int | None = None

    def __post_init__(self) -> None:
        instance = self.instance
        if isinstance(instance, tuple):
            instance = InstanceSpec(*instance)
            object.__setattr__(self, "instance", instance)
        if not isinstance(instance, (RoutingInstance, InstanceSpec)):
            raise TypeError("instance must be a RoutingInstance, an InstanceSpec or a tuple")
        if not isinstance(self.config, LNSConfig):
            raise TypeError("config must be an LNSConfig")
        for role in ROUTING_ROLES:
            object.__setattr__(self, role, as_pool(getattr(self, role), role))

    @classmethod
    def for_candidate(
        cls,
        candidate: Candidate,
        instance: RoutingInstance | InstanceSpec | tuple,
        config: LNSConfig,
        partners: Mapping[str, Any] | None = None,
        seed: int | None = None,
    ) -> RoutingEvaluation:
        """The candidate alone in each of its roles; other roles from ``partners`` (registry
        names, sources or other candidates) or, when not named there, the default seeds."""
        partners = dict(partners or {})
        unknown = set(candidate.roles) - set(ROUTING_ROLES)
        if unknown:
            raise ValueError(f"not routing roles: {sorted(unknown)}")
        clash = set(partners) & set(candidate.roles)
        if clash:
            raise ValueError(f"partners fill roles the candidate fills itself: {sorted(clash)}")
        pools = {role: partners.get(role) for role in ROUTING_ROLES}
        for role in candidate.roles:
            pools[role] = (candidate,)
        return cls(instance, config, seed=seed, **pools)

    def effective_config(self) -> LNSConfig:
        if self.seed is None:
            return self.config
        return dataclasses.replace(self.config, seed=int(self.seed))


# ------------------------------------------------------------------------------ records


@dataclass
class EvaluationRecord:
    """The outcome of one :class:`RoutingEvaluation`.

    ``objective`` is the cost the parent verified (``None`` unless ``status == "ok"``);
    ``time`` the sandbox's wall-clock seconds (compilation included); ``metrics`` holds
    ``iterations``, ``python_mode``, ``operator_stats``, ``compile_errors``, the child's own
    ``search_seconds`` (informative only), ``cpu_time``, ``max_rss`` and ``sandbox_status``;
    ``routes`` the verified routes (not stored).
    """

    instance: str
    status: str
    objective: float | None = None
    time: float | None = None
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    routes: list[list[int]] | None = None
    candidate_id: int | None = None

    def __post_init__(self) -> None:
        if self.status not in RECORD_STATUSES:
            raise ValueError(f"status must be one of {RECORD_STATUSES}, got {self.status!r}")

    def to_evaluation(
        self, candidate_id: int | None = None, split: str = "train", context: str = ""
    ) -> Evaluation:
        """The store's :class:`~ahd.store.Evaluation` (``static`` becomes ``invalid``)."""
        cid = self.candidate_id if candidate_id is None else candidate_id
        if cid is None:
            raise ValueError("to_evaluation needs a candidate id")
        status, metrics = self.status, dict(self.metrics)
        if status == "static":
            status = "invalid"
            metrics["stage"] = "static"
        objective = self.objective if status == "ok" else None
        return Evaluation(
            cid, self.instance, split, status, objective, self.time, self.error, metrics,
            context,
        )


class CandidateError(RuntimeError):
    """Raised in the child for any failure of the candidate's run.

    Its message is ``"<kind>|<text>"``: ``kind`` is ``infeasible`` (the engine's own check
    found the best solution infeasible) or ``error``; ``text`` is the original exception's
    type and message, the candidate's own frames, and notes (e.g. a failed numba compilation).
    It is a claim of failure only, so the parent may believe it.
    """


