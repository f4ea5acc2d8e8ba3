"""Reference solvers for the routing benchmarks: OR-Tools, PyVRP and LKH (through elkai).

Every solver takes a :class:`~ahd.problems.instance.RoutingInstance` and a wall-time limit in
seconds and returns ``(routes, cost)``: ``routes`` lists customer ids ``1..n`` (the depot, node 0,
is implicit at both ends; for TSP node 0 is the first city and the single route holds the other
cities in tour order), and ``cost`` is recomputed here from ``instance.dist`` (the trusted
verifier recomputes it again in ``routing_quality.py``).

Integer costs. All three solvers work on integer arc costs. CVRPLIB X and TSPLIB matrices are
integer-valued already and are passed unchanged. Any other (float) matrix is multiplied by a
power of ten and rounded: for PyVRP and LKH by ``FLOAT_SCALE`` (1e4, about four significant
digits per unit-square arc), for OR-Tools by ``ahd.problems.ortools_model.cost_scale`` (six
significant digits on the longest arc, the same model the OR-Tools pipelines use). The search
then optimises the rounded objective, and the cost reported is the exact float cost of the
routes it found.

Time limits. ``time_limit`` is the wall budget of the whole call: the time spent building the
model is subtracted before the solver's own limit is set (at least ``MIN_SEARCH_S``).
``pyvrp`` and ``elkai`` are optional (``pip install -e .[bench]``) and imported lazily.

Run ``python benchmarks/baselines.py [DATA_DIR]`` for a smoke check on X-n101-k25 and eil51.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from ahd.problems.instance import RoutingInstance
from ahd.problems.ortools_model import fleet_size

FLOAT_SCALE = 1e4
MIN_SEARCH_S = 0.5


# --------------------------------------------------------------------------- helpers


def int_matrix(instance: RoutingInstance) -> tuple[np.ndarray, float]:
    """Integer arc costs for the solvers and the factor they were scaled by.

    Integer-valued matrices (CVRPLIB X, TSPLIB) come back unchanged with scale 1; float matrices
    are multiplied by ``FLOAT_SCALE`` and rounded. For OVRP the arcs into the depot cost 0, which
    makes a closed-route solver optimise the open-route objective exactly.
    """
    d = instance.matrix()
    scale = 1.0 if np.array_equal(d, np.round(d)) else FLOAT_SCALE
    m = np.rint(d * scale).astype(np.int64)
    if instance.open_routes:
        m[:, 0] = 0
    return m, scale


def routes_cost(instance: RoutingInstance, routes: list[list[int]]) -> float:
    """Exact float cost of ``routes`` (closing at the depot unless routes are open)."""
    total = 0.0
    for r in routes:
        if not r:
            continue
        nodes = np.array([0, *r] if instance.open_routes else [0, *r, 0])
        total += float(instance.arc_costs(nodes[:-1], nodes[1:]).sum())
    return total


def _int_demands(instance: RoutingInstance) -> tuple[list[int], int]:
    dem = instance.demand
    if not np.array_equal(dem, np.round(dem)) or not float(instance.capacity).is_integer():
        raise NotImplementedError(f"{instance.name}: fractional demands or capacity")
    return [int(x) for x in dem], int(instance.capacity)


# --------------------------------------------------------------------------- OR-Tools


def solve_ortools(
    instance: RoutingInstance, time_limit: float, seed: int = 0
) -> tuple[list[list[int]], float]:
    """OR-Tools RoutingModel: PATH_CHEAPEST_ARC first solution, then guided local search.

    The model comes from :func:`ahd.problems.ortools_model.build_model` (a registered transit
    matrix, so no Python callback in the search loop; CVRP and OVRP get a capacity dimension
    and :func:`fleet_size` vehicles, TSP one vehicle; float matrices scaled by
    ``ortools_model.cost_scale``). OR-Tools' search is deterministic, so ``seed`` is accepted
    for a uniform interface and ignored. Raises ``RuntimeError`` when no solution is found
    within the limit.
    """
    from ahd.problems.ortools_model import solve_instance

    del seed
    result = solve_instance(instance, time_limit)
    return result.routes, routes_cost(instance, result.routes)


# --------------------------------------------------------------------------- PyVRP


def solve_pyvrp(
    instance: RoutingInstance, time_limit: float, seed: int = 0
) -> tuple[list[list[int]], float]:
    """PyVRP 0.14 iterated local search with its default parameters, ``MaxRuntime`` stop.

    The problem is built as ``ProblemData`` with the explicit integer matrix, one depot,
    :func:`fleet_size` vehicles of the instance capacity. TSP is a one-vehicle problem
    without a load dimension; OVRP uses free arcs into the depot (see :func:`int_matrix`).
    Raises ``RuntimeError`` when the best solution found is infeasible.
    """
    import pyvrp
    from pyvrp.stop import MaxRuntime

    t0 = time.perf_counter()
    mat, _ = int_matrix(instance)
    xy = instance.coords if instance.coords is not None else np.zeros((instance.n + 1, 2))
    locations = [pyvrp.Location(float(x), float(y)) for x, y in xy]
    if not instance.capacitated:
        clients = [pyvrp.Client(i) for i in range(1, instance.n + 1)]
        vehicles = [pyvrp.VehicleType(1)]
    else:
        dem, cap = _int_demands(instance)
        clients = [pyvrp.Client(i, delivery=[dem[i]]) for i in range(1, instance.n + 1)]
        vehicles = [pyvrp.VehicleType(fleet_size(instance), capacity=[cap])]
    data = pyvrp.ProblemData(
        locations, clients, [pyvrp.Depot(0)], vehicles, [mat], [np.zeros_like(mat)]
    )
    remaining = max(MIN_SEARCH_S, time_limit - (time.perf_counter() - t0))
    res = pyvrp.solve(data, MaxRuntime(remaining), seed=seed, display=False)
    if not res.best.is_feasible():
        raise RuntimeError(f"PyVRP found no feasible solution for {instance.name}")
    # client index k in ProblemData is node k + 1 (clients were added in node order)
    routes = [[a.idx + 1 for a in r if a.is_client()] for r in res.best.routes()]
    routes = [r for r in routes if r]
    return routes, routes_cost(instance, routes)


# --------------------------------------------------------------------------- LKH (elkai)


def solve_elkai(
    instance: RoutingInstance,
    time_limit: float | None = None,
    runs: int | None = None,
    seed: int = 0,
) -> tuple[list[list[int]], float]:
    """LKH (the version bundled with elkai 2.0) on the full integer matrix; TSP only.

    With a ``time_limit``, LKH gets ``TOTAL_TIME_LIMIT`` (it covers the candidate-set ascent too)
    and, unless ``runs`` is given, as many runs as fit. LKH measures that limit in CPU time
    (``getrusage``), so on a shared machine the call takes longer than ``time_limit`` wall
    seconds; LKH also stops early when a tour meets its lower bound. Without a limit it does
    ``runs`` (default 10, elkai's default) runs. The tour is rotated to start at node 0.
    """
    if not instance.single_route:
        raise NotImplementedError("elkai/LKH is used for TSP only")
    from elkai import _elkai

    t0 = time.perf_counter()
    mat, _ = int_matrix(instance)
    m = instance.n + 1
    if m < 3:
        return [list(range(1, m))], routes_cost(instance, [list(range(1, m))])
    body = "\n".join(" ".join(map(str, row)) for row in mat.tolist())
    problem = (
        f"TYPE : TSP\nDIMENSION : {m}\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
        f"EDGE_WEIGHT_FORMAT : FULL_MATRIX\nEDGE_WEIGHT_SECTION\n{body}\nEOF\n"
    )
    params = f"PROBLEM_FILE = :stdin:\nSEED = {seed + 1}\n"
    if time_limit is not None:
        remaining = max(MIN_SEARCH_S, time_limit - (time.perf_counter() - t0))
        params += f"RUNS = {runs or 1_000_000}\nTOTAL_TIME_LIMIT = {remaining:.3f}\n"
    else:
        params += f"RUNS = {runs or 10}\n"
    tour = [i - 1 for i in _elkai.solve_problem(params, problem)]
    k = tour.index(0)
    route = tour[k + 1 :] + tour[:k]
    return [route], routes_cost(instance, [route])


SOLVERS = {"ortools": solve_ortools, "pyvrp": solve_pyvrp, "elkai": solve_elkai}
SUPPORTED_KINDS = {
    "ortools": ("cvrp", "tsp", "ovrp"),
    "pyvrp": ("cvrp", "tsp", "ovrp"),
    "elkai": ("tsp",),
}


# --------------------------------------------------------------------------- loading


def load_instance(path: str | os.PathLike) -> RoutingInstance:
    """Read a CVRPLIB/TSPLIB file with ``ahd.problems.io`` when available.

    The fallback (used only while ``io`` is missing) understands coordinate files with
    ``EUC_2D`` (``floor(d + 0.5)``) and ``CEIL_2D`` distances, which covers CVRPLIB X.
    """
    try:
        from ahd.problems.io import read_instance
    except ImportError:
        return _load_fallback(Path(path))
    return read_instance(path)


def _load_fallback(path: Path) -> RoutingInstance:
    import vrplib

    raw = vrplib.read_instance(str(path), compute_edge_weights=False)
    ewt = str(raw.get("edge_weight_type", "")).upper()
    if ewt not in ("EUC_2D", "CEIL_2D") or "node_coord" not in raw:
        raise NotImplementedError(f"{path.name}: {ewt} needs ahd.problems.io")
    xy = np.asarray(raw["node_coord"], dtype=np.float64)
    e = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    dist = np.floor(e + 0.5) if ewt == "EUC_2D" else np.ceil(e)
    kind = "tsp" if str(raw.get("type", "")).upper() == "TSP" else "cvrp"
    if kind == "cvrp":
        depot = int(np.asarray(raw.get("depot", [0])).ravel()[0])
        if depot != 0:
            raise NotImplementedError(f"{path.name}: depot is not the first node")
        demand, cap = np.asarray(raw["demand"], dtype=np.float64), float(raw["capacity"])
    else:
        demand, cap = np.zeros(len(xy)), float("inf")
    return RoutingInstance(
        name=path.stem,
        kind=kind,
        dist=dist,
        demand=demand,
        capacity=cap,
        coords=xy,
        edge_weight_type=ewt,
    )


# --------------------------------------------------------------------------- smoke check


def _smoke(data_dir: Path, time_limit: float = 5.0) -> int:
    from common import machine_line

    from ahd.problems.verify import verify

    cases = [
        (data_dir / "cvrplib-x" / "X-n101-k25.vrp", 27591, ("ortools", "pyvrp")),
        (data_dir / "tsplib" / "eil51.tsp", 426, ("ortools", "pyvrp", "elkai")),
    ]
    failed = 0
    print(machine_line())
    for path, ref, solvers in cases:
        inst = load_instance(path)
        for name in solvers:
            t = time.perf_counter()
            routes, cost = SOLVERS[name](inst, time_limit)
            wall = time.perf_counter() - t
            checked = verify(inst, routes)
            ok = abs(checked - cost) < 1e-6 and checked >= ref - 1e-6
            failed += not ok
            gap = 100 * (checked - ref) / ref
            print(
                f"{inst.name:12s} {name:8s} cost {checked:10.0f}  ref {ref:7d}  gap {gap:6.2f}%"
                f"  {len(routes):3d} routes  {wall:5.1f}s  {'ok' if ok else 'MISMATCH'}"
            )
    return failed


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    sys.exit(_smoke(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
