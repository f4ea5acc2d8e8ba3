"""Integer data of the OR-Tools routing model: arc costs, loads and fleet size.

OR-Tools needs integer arc costs, demands and capacities, and a fixed fleet, while our
instances may hold float distances (unit-square instances), fractional demands and no fleet
limit. This module decides how an instance becomes integers so that a route plan means the
same thing in the model and in our verifier:

* Arc costs. An integer-valued matrix (CVRPLIB X, TSPLIB) is used exactly as it is
  (``scale == 1``), so the model's objective *is* the verified cost. A float matrix is
  multiplied by ``scale = 10**k`` and rounded, with ``k`` chosen from the instance so that its
  longest arc keeps :data:`COST_DIGITS` significant digits
  (``k = COST_DIGITS - ceil(log10(max arc))``, clipped to ``0..MAX_SCALE_EXP``; a unit-square
  instance gets ``10**5``). OR-Tools then optimises the rounded objective: two plans whose
  float costs differ by less than about ``n / scale`` may be ranked the other way round, which
  is why every caller compares verified float costs, never model objectives.
* Open routes (the variant's ``open_routes``, OVRP): arcs into the depot cost 0 (a free
  return), the same encoding the engine uses (``state.make_inst``), so closed OR-Tools routes
  optimise the open-route objective.
* Fleet: a single-route variant (TSP) has one vehicle; the others get :func:`fleet_size`
  vehicles (a bin-packing lower bound plus slack).
"""

from __future__ import annotations

import math

import numpy as np

from .instance import RoutingInstance

__all__ = [
    "COST_DIGITS", "MAX_ARC", "MAX_LOAD_EXP", "MAX_SCALE_EXP", "cost_scale", "fleet_size",
    "integer_costs", "integer_loads",
]

#: Significant digits the longest arc keeps when a float matrix is scaled to integers.
COST_DIGITS = 6
#: Largest power of ten a float matrix is scaled by (tiny distances would otherwise overflow).
MAX_SCALE_EXP = 12
#: Arc costs above this cannot be summed over a route plan safely in int64 (OR-Tools adds
#: guided-local-search penalties on top of the objective), so larger matrices are refused.
MAX_ARC = 2**40
#: Demands/capacity that are not integers are scaled by at most 10**this to become integers.
MAX_LOAD_EXP = 6


def cost_scale(instance: RoutingInstance) -> float:
    """The factor arc costs are multiplied by before rounding; 1 for integer matrices.

    Choosing the power of ten from the longest arc keeps the relative precision the same for
    unit-square and kilometre-scale float instances (see the module docstring).
    """
    d = instance.matrix()
    if np.array_equal(d, np.round(d)):
        return 1.0
    top = float(np.max(np.abs(d)))
    exp = COST_DIGITS - math.ceil(math.log10(top)) if top > 0 else COST_DIGITS
    return float(10 ** min(max(exp, 0), MAX_SCALE_EXP))


def integer_costs(instance: RoutingInstance) -> tuple[np.ndarray, float]:
    """The integer arc-cost matrix of the model and its :func:`cost_scale`.

    With open routes the arcs into the depot cost 0. Raises ``ValueError`` for costs OR-Tools cannot
    represent (negative, not finite, or too large to sum safely).
    """
    d = instance.matrix()
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError(f"{instance.name}: OR-Tools needs finite non-negative distances")
    scale = cost_scale(instance)
    mat = np.rint(d * scale)
    if mat.max() > MAX_ARC:
        raise ValueError(f"{instance.name}: arc costs up to {mat.max():g} are too large")
    mat = mat.astype(np.int64)
    if instance.open_routes:
        mat[:, 0] = 0
    return mat, scale


def integer_loads(instance: RoutingInstance) -> tuple[list[int], int]:
    """Integer demands and capacity (scaled by the smallest power of ten that makes them so).

    Scaling both by the same factor leaves every capacity constraint unchanged. Raises
    ``ValueError`` when no factor up to ``10**MAX_LOAD_EXP`` makes them integral.
    """
    values = np.append(instance.demand, instance.capacity)
    for exp in range(MAX_LOAD_EXP + 1):
        scaled = values * 10**exp
        if np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-9 * 10**exp):
            ints = [int(round(x)) for x in scaled]
            return ints[:-1], ints[-1]
    raise ValueError(f"{instance.name}: demands/capacity have more than {MAX_LOAD_EXP} decimals")


def _first_fit_decreasing(instance: RoutingInstance) -> int:
    """Bins first-fit decreasing packs the customers' demands into (a feasible packing)."""
    free = np.empty(0)
    for d in np.sort(instance.demand[1:])[::-1]:
        fits = np.flatnonzero(free >= d - 1e-9)
        if fits.size:
            free[fits[0]] -= d
        else:
            free = np.append(free, instance.capacity - d)
    return int(free.size)


def fleet_size(instance: RoutingInstance, minimum: int = 0) -> int:
    """Vehicles offered to a fixed-fleet solver.

    The bin-packing bound ``lb = ceil(sum(demand) / capacity)`` plus ``max(6, ceil(0.1 lb))``
    slack vehicles, and at least 10% more than first-fit decreasing packs the demands into
    (large demands make ``lb`` weak: X-n524-k153 has ``lb`` 137 and a best-known solution of
    155 routes), at least ``minimum`` (the route count of a warm start), capped by
    ``instance.max_routes`` and ``n``. Unused vehicles cost nothing, and too tight a fleet
    makes OR-Tools' first-solution heuristic fail on instances whose demand nearly fills the
    fleet (X-n1001: 98.6%). A single-route variant (TSP): one vehicle.
    """
    if instance.single_route:
        return 1
    lb = math.ceil(float(instance.demand.sum()) / instance.capacity - 1e-9)
    ffd = _first_fit_decreasing(instance)
    k = max(lb + max(6, math.ceil(0.1 * lb)), ffd + math.ceil(0.1 * ffd), minimum)
    return max(1, min(k, instance.max_routes, instance.n))
