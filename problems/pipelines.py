"""Pipelines that combine the engine's LNS (evolved or seed operators) with OR-Tools.

Each pipeline takes a time budget and operator pools as ``run_lns`` takes them (keywords
``destroy``/``repair``/``improve``: names, functions or ``Operator`` records; ``None`` = the
problem's seed pool) and returns a :class:`PipelineResult` whose cost the trusted verifier
recomputed from its routes.

* :func:`lns_then_ortools` ("ortools-warmstart"): the LNS for a fraction of the budget, then
  OR-Tools' guided local search started from the LNS solution for the rest.
* :func:`ortools_then_lns`: OR-Tools' first solution (PATH_CHEAPEST_ARC by default), improved
  by the LNS for the rest of the budget.
* :func:`ortools_alone`: OR-Tools (PATH_CHEAPEST_ARC + guided local search) for the whole
  budget, optionally with the destroy/repair pools running *inside* its local search
  (:class:`~ahd.problems.ortools_model.DestroyRepairOperator`).
* :func:`lns_alone`: the LNS for the whole budget, for comparison under the same accounting.

Warm starts never lose ground: a pipeline returns the best verified solution over its stages,
so its cost is at most the cost of the solution it handed on. The comparison uses verified
float costs because OR-Tools optimises integer (possibly scaled and rounded) costs.

Time accounting: ``time_limit`` is search time. The LNS stage's own limit excludes numba's
compilation (as ``run_lns`` does), and OR-Tools gets what is left of the budget after the LNS
stage, with building its model and reading in the start solution charged to it. Wall time is
therefore ``time_limit`` plus any first-use compilation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .engine.config import LNSConfig
from .engine.lns import run_lns
from .instance import RoutingInstance
from .ortools_model import (
    MIN_SEARCH_S,
    add_destroy_repair_operator,
    build_model,
    search_parameters,
    solve,
)
from .verify import verify

#: Share of the budget the LNS gets before OR-Tools takes over in :func:`lns_then_ortools`.
LNS_FRACTION = 0.5


@dataclass
class Stage:
    """One stage of a pipeline: which solver, its verified best cost, its seconds.

    ``cost`` is ``None`` when the stage found nothing (e.g. OR-Tools ran out of time before
    its first solution); ``detail`` holds stage-specific counters (iterations, proposals).
    """

    name: str
    cost: float | None
    seconds: float
    detail: dict = field(default_factory=dict)


@dataclass
class PipelineResult:
    """The best solution of a pipeline and how each stage did.

    Attributes
    ----------
    pipeline
        The pipeline's name (``PIPELINES`` key).
    routes
        Best routes over all stages (customer ids, depot implicit).
    cost
        Their cost, recomputed by :func:`ahd.problems.verify.verify`.
    stages
        The stages in the order they ran.
    """

    pipeline: str
    routes: list[list[int]]
    cost: float
    stages: list[Stage]

    @property
    def seconds(self) -> float:
        """Search seconds over all stages."""
        return sum(s.seconds for s in self.stages)


@dataclass(frozen=True)
class _Pools:
    """The operator pools handed to every LNS stage (and to the operator inside OR-Tools)."""

    destroy: object = None
    repair: object = None
    improve: object = None


def _lns(instance, config: LNSConfig, pools: _Pools, seconds: float, start=None):
    """``run_lns`` with ``config``'s settings and ``seconds`` as its time limit."""
    cfg = replace(config, time_limit=max(seconds, 1e-3))
    return run_lns(
        instance, cfg, destroy=pools.destroy, repair=pools.repair, improve=pools.improve,
        initial_routes=start,
    )


def _lns_stage(result) -> Stage:
    detail = {"iterations": result.iterations}
    if result.python_mode:
        detail["python_mode"] = True
    return Stage("lns", result.cost, result.elapsed, detail)


def _best(
    instance: RoutingInstance, pipeline: str, candidates: list, stages: list[Stage]
) -> PipelineResult:
    """The cheapest of ``candidates`` (routes or None), re-verified."""
    scored = [(verify(instance, r), i, r) for i, r in enumerate(candidates) if r is not None]
    if not scored:
        raise RuntimeError(f"{pipeline}: no stage found a solution for {instance.name}")
    cost, _, routes = min(scored)
    return PipelineResult(pipeline, routes, cost, stages)


def _config(config: LNSConfig | None) -> LNSConfig:
    """``config``, or the engine defaults (its time limit is replaced per stage)."""
    return config if config is not None else LNSConfig(time_limit=1.0)


# --------------------------------------------------------------------------- pipelines


def lns_alone(
    instance: RoutingInstance,
    time_limit: float,
    *,
    destroy=None,
    repair=None,
    improve=None,
    config: LNSConfig | None = None,
) -> PipelineResult:
    """The LNS alone for ``time_limit`` seconds (``config``'s other settings kept)."""
    res = _lns(instance, _config(config), _Pools(destroy, repair, improve), time_limit)
    return _best(instance, "lns", [res.routes], [_lns_stage(res)])


def lns_then_ortools(
    instance: RoutingInstance,
    time_limit: float,
    *,
    destroy=None,
    repair=None,
    improve=None,
    config: LNSConfig | None = None,
    lns_fraction: float = LNS_FRACTION,
    operator_inside: bool = False,
) -> PipelineResult:
    """The LNS for ``lns_fraction`` of the budget, then OR-Tools GLS warm-started from it.

    OR-Tools gets the LNS solution through ``ReadAssignmentFromRoutes`` and improves it with
    ``SolveFromAssignmentWithParameters`` (guided local search) for the rest of the budget;
    its model has at least as many vehicles as the LNS solution has routes. With
    ``operator_inside`` the destroy/repair pools also run as an operator inside OR-Tools'
    search. The result is the better of the two stages, so never worse than the LNS solution.
    """
    if not 0 < lns_fraction < 1:
        raise ValueError(f"lns_fraction must be in (0, 1), got {lns_fraction}")
    pools, cfg = _Pools(destroy, repair, improve), _config(config)
    lns = _lns(instance, cfg, pools, lns_fraction * time_limit)
    model, op, build_s = _model(instance, pools, operator_inside, cfg, len(lns.routes))
    remaining = max(MIN_SEARCH_S, time_limit - lns.elapsed - build_s)
    t0 = time.perf_counter()
    ort = solve(model, search_parameters(remaining), start=lns.routes)
    stages = [_lns_stage(lns), _ortools_stage(ort, build_s + time.perf_counter() - t0, op)]
    candidates = [lns.routes, ort.routes if ort else None]
    return _best(instance, "ortools-warmstart", candidates, stages)


def ortools_then_lns(
    instance: RoutingInstance,
    time_limit: float,
    *,
    destroy=None,
    repair=None,
    improve=None,
    config: LNSConfig | None = None,
    first_solution: str = "path_cheapest_arc",
) -> PipelineResult:
    """OR-Tools' first solution, improved by the LNS for the rest of the budget.

    Only OR-Tools' construction heuristic runs (``solution_limit = 1``); the LNS starts from
    its routes (``run_lns(..., initial_routes=...)``) and keeps them unless it finds better.
    If OR-Tools finds no first solution, the LNS starts from its own construction.
    """
    t0 = time.perf_counter()
    model = build_model(instance)
    params = search_parameters(time_limit, first_solution=first_solution, solution_limit=1)
    first = solve(model, params)
    stages = [_ortools_stage(first, time.perf_counter() - t0, None, name="ortools-first")]
    remaining = max(MIN_SEARCH_S, time_limit - stages[0].seconds)
    start = first.routes if first is not None else None
    pools = _Pools(destroy, repair, improve)
    lns = _lns(instance, _config(config), pools, remaining, start=start)
    stages.append(_lns_stage(lns))
    return _best(instance, "ortools-then-lns", [start, lns.routes], stages)


def ortools_alone(
    instance: RoutingInstance,
    time_limit: float,
    *,
    destroy=None,
    repair=None,
    improve=None,
    config: LNSConfig | None = None,
    operator_inside: bool = False,
) -> PipelineResult:
    """OR-Tools PATH_CHEAPEST_ARC + guided local search for the whole budget.

    The pools and ``config`` are used only with ``operator_inside``: the destroy/repair pools
    then run as an extra local-search operator of OR-Tools (sharing ``config``'s destroy sizes,
    local-search switch and seed). ``improve`` is never used.
    """
    pools = _Pools(destroy, repair, improve)
    model, op, build_s = _model(instance, pools, operator_inside, _config(config))
    remaining = max(MIN_SEARCH_S, time_limit - build_s)
    t0 = time.perf_counter()
    ort = solve(model, search_parameters(remaining))
    stage = _ortools_stage(ort, build_s + time.perf_counter() - t0, op)
    name = "ortools-operator" if operator_inside else "ortools"
    return _best(instance, name, [ort.routes if ort else None], [stage])


def ortools_operator(instance: RoutingInstance, time_limit: float, **kwargs) -> PipelineResult:
    """:func:`ortools_alone` with the destroy/repair pools inside OR-Tools' local search."""
    return ortools_alone(instance, time_limit, operator_inside=True, **kwargs)


def _model(instance, pools: _Pools, inside: bool, config: LNSConfig, min_vehicles: int = 0):
    """The OR-Tools model, its destroy/repair operator (when ``inside``, else ``None``), and
    the seconds spent building the model.

    Creating the operator compiles the pools with numba; like the LNS stage's compilation
    that is not charged to the budget.
    """
    t0 = time.perf_counter()
    model = build_model(instance, min_vehicles=min_vehicles)
    build_s = time.perf_counter() - t0
    op = None
    if inside:
        op = add_destroy_repair_operator(model, pools.destroy, pools.repair, config)
    return model, op, build_s


def _ortools_stage(result, seconds: float, op, name: str = "ortools") -> Stage:
    detail = {}
    if result is not None:
        detail["objective"] = result.objective
    if op is not None:
        detail.update(operator_neighbours=op.proposed, operator_unchanged=op.unchanged)
        if op.error is not None:
            detail["operator_error"] = op.error
    return Stage(name, None if result is None else result.cost, seconds, detail)


#: Pipelines by CLI name; each is called as
#: ``f(instance, time_limit, destroy=..., repair=..., improve=..., config=...)``.
PIPELINES: dict[str, Callable[..., PipelineResult]] = {
    "lns": lns_alone,
    "ortools-warmstart": lns_then_ortools,
    "ortools-then-lns": ortools_then_lns,
    "ortools": ortools_alone,
    "ortools-operator": ortools_operator,
}


def run_pipeline(
    name: str,
    instance: RoutingInstance,
    time_limit: float,
    *,
    destroy=None,
    repair=None,
    improve=None,
    config: LNSConfig | None = None,
) -> PipelineResult:
    """Run the pipeline called ``name`` (a ``PIPELINES`` key); ``ValueError`` if unknown."""
    if name not in PIPELINES:
        raise ValueError(f"unknown pipeline {name!r}; choose one of {sorted(PIPELINES)}")
    return PIPELINES[name](
        instance, time_limit, destroy=destroy, repair=repair, improve=improve, config=config
    )
