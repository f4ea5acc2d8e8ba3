"""Seeded instance generators for training and sanity runs.

Evolved operators must be tuned on instances the project draws itself, never on the benchmark
test sets, so each benchmark family has a generator that follows its published convention:

* :func:`uniform_tsp`, :func:`uniform_cvrp`: the G-LNS/ReEvo unit-square sets (float costs).
* :func:`kool_cvrp`: Kool et al. (2019), random depot and size-dependent capacity.
* :func:`x_cvrp`: Uchoa et al. (2017), the recipe behind CVRPLIB's X set (rounded costs).
* :func:`ovrp_from`: any CVRP instance with open routes.

Every generator takes ``rng`` (a ``numpy.random.Generator`` or an integer seed) and draws
nothing from global state, so an instance is a pure function of its arguments. An integer
seed also appears in the instance name (``-s<seed>``); with a Generator pass ``name=``
if names must be unique.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from .distances import distance_matrix
from .instance import RoutingInstance, keep_matrix
from .problem import problems

RngLike = np.random.Generator | int


def _rng(rng: RngLike) -> tuple[np.random.Generator, str]:
    """The generator to draw from, and the name suffix that records an integer seed."""
    if isinstance(rng, np.random.Generator):
        return rng, ""
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng)), f"-s{int(rng)}"
    raise TypeError(f"rng must be a numpy Generator or an integer seed, got {rng!r}")


def make_instance(
    name: str,
    kind: str,
    coords: np.ndarray,
    demand: np.ndarray | None = None,
    capacity: float = math.inf,
    edge_weight_type: str = "FLOAT_2D",
    meta: dict | None = None,
    distances: str = "auto",
) -> RoutingInstance:
    """A :class:`RoutingInstance` from coordinates (row 0 the depot), distances computed.

    Also the way to load array data sets such as ``cvrp100_test.npy`` (rows
    ``[demand, x, y]``): ``make_instance(name, "cvrp", a[:, 1:], a[:, 0], 50.0)``.
    ``distances`` says whether the instance holds a matrix (see
    :func:`~ahd.problems.instance.keep_matrix`).
    """
    coords = np.asarray(coords, dtype=np.float64)
    demand = np.zeros(len(coords)) if demand is None else np.asarray(demand, dtype=np.float64)
    dist = None
    if keep_matrix(len(coords), edge_weight_type, distances):
        dist = distance_matrix(coords, edge_weight_type)
        dist.flags.writeable = False  # ours alone: the instance takes it over, no copy
    return RoutingInstance(
        name=name, kind=kind, dist=dist, demand=demand,
        capacity=capacity, coords=coords, edge_weight_type=edge_weight_type, meta=meta or {},
    )


def _check_n(n: int, minimum: int, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {n!r}")


# --------------------------------------------------------------------------- unit square


def uniform_tsp(n: int, rng: RngLike, name: str | None = None) -> RoutingInstance:
    """``n`` cities uniform in the unit square, unrounded Euclidean costs.

    ``n`` counts all cities (city 0 plays the depot), as in "TSP100" and the
    ``tsp{50,100,200}_test.npy`` sets, so ``instance.n == n - 1``.
    """
    _check_n(n, 2, "number of cities n")
    gen, tag = _rng(rng)
    coords = gen.random((n, 2))
    return make_instance(name or f"tsp-uniform-n{n}{tag}", "tsp", coords)


def uniform_cvrp(
    n: int, rng: RngLike, capacity: float = 50.0, name: str | None = None
) -> RoutingInstance:
    """``n`` customers uniform in the unit square, depot at (0.5, 0.5) (G-LNS/ReEvo).

    Demands are integers 1..9 and the capacity 50 for every ``n``, matching the
    ``cvrp{50,100,200}_test.npy`` sets; costs are unrounded Euclidean lengths.
    """
    _check_n(n, 1, "number of customers n")
    gen, tag = _rng(rng)
    coords = np.vstack([[0.5, 0.5], gen.random((n, 2))])
    demand = np.concatenate([[0.0], gen.integers(1, 10, size=n)])
    return make_instance(name or f"cvrp-uniform-n{n}{tag}", "cvrp", coords, demand, capacity)


#: Kool et al. (2019) capacities by number of customers.
KOOL_CAPACITY = {10: 20.0, 20: 30.0, 50: 40.0, 100: 50.0}


def kool_capacity(n: int) -> float:
    """Kool et al.'s capacity for ``n`` customers, linearly interpolated between their sizes.

    They only define 10, 20, 50 and 100 customers; sizes in between get the interpolated
    capacity rounded to an integer, so the expected number of routes changes smoothly.
    Outside 10..100 there is no convention to follow (later papers disagree), so this raises
    and the caller must pass ``capacity`` explicitly.
    """
    sizes = sorted(KOOL_CAPACITY)
    if not sizes[0] <= n <= sizes[-1]:
        raise ValueError(
            f"Kool et al. define capacities for 10..100 customers only (got n={n}); "
            "pass capacity= explicitly"
        )
    return float(round(np.interp(n, sizes, [KOOL_CAPACITY[s] for s in sizes])))


def kool_cvrp(
    n: int, rng: RngLike, capacity: float | None = None, name: str | None = None
) -> RoutingInstance:
    """Kool et al. (2019) CVRP: depot and customers uniform in the unit square.

    Demands are integers 1..9; the capacity is :func:`kool_capacity` unless given. Kool et al.
    divide demands by the capacity; we keep integers, which is the same problem.
    """
    _check_n(n, 1, "number of customers n")
    cap = kool_capacity(n) if capacity is None else float(capacity)
    gen, tag = _rng(rng)
    coords = gen.random((n + 1, 2))
    demand = np.concatenate([[0.0], gen.integers(1, 10, size=n)])
    return make_instance(name or f"cvrp-kool-n{n}{tag}", "cvrp", coords, demand, cap)


# --------------------------------------------------------------------------- Uchoa et al. X

X_GRID = 1000
#: Distance (grid units) over which a seed's attraction falls by a factor e (Uchoa et al.).
X_DECAY = 40.0
X_DEPOTS = ("random", "central", "eccentric")
X_CUSTOMERS = ("random", "clustered", "random-clustered")
#: Uchoa et al.'s demand distributions and their uniform integer ranges.
X_DEMANDS = {
    "unitary": (1, 1),
    "small-large-var": (1, 10),
    "small-small-var": (5, 10),
    "large-large-var": (1, 100),
    "large-small-var": (50, 100),
    "quadrant": (1, 100),  # 1-50 or 51-100 by quadrant, see _x_demands
    "many-small-few-large": (1, 100),  # 1-10 for 70-95 % of customers, else 50-100
}
_CODES = {
    "random": "R", "central": "C", "eccentric": "E", "clustered": "C", "random-clustered": "RC",
    "unitary": "U", "small-large-var": "SL", "small-small-var": "SS", "large-large-var": "LL",
    "large-small-var": "LS", "quadrant": "Q", "many-small-few-large": "MS",
}


def x_cvrp(
    n: int,
    rng: RngLike,
    depot: str | None = "random",
    customers: str | None = "random-clustered",
    demand: str | None = "small-large-var",
    route_size: float | None = None,
    name: str | None = None,
) -> RoutingInstance:
    """A CVRP drawn as Uchoa et al. (2017) drew the X instances.

    Integer coordinates on the ``[0, 1000]^2`` grid, all distinct, ``EUC_2D`` costs.

    Parameters
    ----------
    n
        Number of customers (the X name ``X-n101`` counts the depot too: that is ``n=100``).
    rng
        Generator or integer seed.
    depot
        ``"random"`` (uniform on the grid), ``"central"`` (500, 500) or ``"eccentric"``
        (0, 0). ``None`` draws one uniformly, as the X set mixes them.
    customers
        ``"random"`` (uniform), ``"clustered"`` (3..8 seeds, the rest placed by exponential
        attraction to the seeds) or ``"random-clustered"`` (half each). ``None`` draws one.
    demand
        One of :data:`X_DEMANDS`; ``None`` draws one.
    route_size
        Target average number of customers per route ``r``; the capacity is
        ``Q = max(max demand, ceil(r * sum(demand) / n))``. ``None`` draws ``r`` from the
        triangular distribution T(3, 6, 25) of the paper.
    name
        Defaults to ``X-gen-n<n>-<depot><customers>-<demand>[-s<seed>]``.
    """
    _check_n(n, 1, "number of customers n")
    gen, tag = _rng(rng)
    depot = _pick(depot, X_DEPOTS, "depot", gen)
    customers = _pick(customers, X_CUSTOMERS, "customers", gen)
    demand = _pick(demand, tuple(X_DEMANDS), "demand", gen)
    if route_size is None:
        route_size = float(gen.triangular(3.0, 6.0, 25.0))
    elif not route_size > 0:
        raise ValueError(f"route_size must be positive, got {route_size!r}")

    depot_xy = {"central": (X_GRID // 2, X_GRID // 2), "eccentric": (0, 0)}.get(depot)
    if depot_xy is None:
        depot_xy = tuple(int(v) for v in gen.integers(0, X_GRID + 1, size=2))
    n_random = {"random": n, "clustered": 0, "random-clustered": n // 2}[customers]
    taken = np.zeros((X_GRID + 1, X_GRID + 1), dtype=bool)
    taken[depot_xy] = True
    points = _x_random_points(n_random, gen, taken)
    n_seeds = 0
    if n_random < n:
        n_seeds = min(int(gen.integers(3, 9)), n - n_random)
        seeds = _x_random_points(n_seeds, gen, taken)
        rest = _x_clustered_points(n - n_random - n_seeds, seeds, gen, taken)
        points = np.vstack([points, seeds, rest])
    # Shuffle so that customer ids carry no hint of how a customer was placed.
    points = gen.permutation(points)
    coords = np.vstack([depot_xy, points]).astype(np.float64)

    q = np.concatenate([[0.0], _x_demands(demand, coords[1:], route_size, gen)])
    capacity = float(max(q.max(), math.ceil(route_size * q.sum() / n)))
    label = f"{_CODES[depot]}-{_CODES[customers]}-{_CODES[demand]}"
    meta = {
        "generator": "x_cvrp", "depot": depot, "customers": customers, "demand": demand,
        "route_size": route_size, "n_seeds": n_seeds,
    }
    return make_instance(
        name or f"X-gen-n{n}-{label}{tag}", "cvrp", coords, q, capacity, "EUC_2D", meta
    )


def _pick(value: str | None, options: tuple[str, ...], what: str, gen) -> str:
    if value is None:
        return options[int(gen.integers(len(options)))]
    if value not in options:
        raise ValueError(f"unknown {what} {value!r}; expected one of {options} or None")
    return value


def _x_random_points(k: int, gen: np.random.Generator, taken: np.ndarray) -> np.ndarray:
    """``k`` distinct free grid points, uniform; marks them taken."""
    out = np.empty((0, 2), dtype=np.int64)
    while len(out) < k:
        cand = gen.integers(0, X_GRID + 1, size=(2 * (k - len(out)) + 8, 2))
        out = np.vstack([out, _claim(cand, taken, k - len(out))])
    return out


def _x_clustered_points(
    k: int, seeds: np.ndarray, gen: np.random.Generator, taken: np.ndarray
) -> np.ndarray:
    """``k`` distinct free points by Uchoa et al.'s accept-reject rule.

    A uniform grid point ``p`` is kept with probability ``sum_s exp(-d(p, s) / 40)``,
    normalised by the largest such sum over the seeds themselves, so points near a seed are
    almost always kept and the density decays exponentially away from the seeds.
    """
    def attraction(p: np.ndarray) -> np.ndarray:
        d = np.sqrt(((p[:, None, :] - seeds[None, :, :]) ** 2).sum(-1))
        return np.exp(-d / X_DECAY).sum(1)

    norm = attraction(seeds.astype(np.float64)).max()
    out = np.empty((0, 2), dtype=np.int64)
    while len(out) < k:
        cand = gen.integers(0, X_GRID + 1, size=(max(256, 8 * (k - len(out))), 2))
        keep = gen.random(len(cand)) <= attraction(cand.astype(np.float64)) / norm
        out = np.vstack([out, _claim(cand[keep], taken, k - len(out))])
    return out


def _claim(cand: np.ndarray, taken: np.ndarray, limit: int) -> np.ndarray:
    """The first ``limit`` candidates, in order, that are free and not repeated."""
    chosen = []
    for x, y in cand.tolist():
        if not taken[x, y]:
            taken[x, y] = True
            chosen.append((x, y))
            if len(chosen) == limit:
                break
    return np.array(chosen, dtype=np.int64).reshape(-1, 2)


def _x_demands(
    kind: str, xy: np.ndarray, route_size: float, gen: np.random.Generator
) -> np.ndarray:
    """Customer demands for one of Uchoa et al.'s distributions (integers, as floats)."""
    n = len(xy)
    if kind == "quadrant":
        # Even quadrants (bottom-left, top-right) get large demands, odd ones small.
        half = X_GRID / 2
        even = (xy[:, 0] < half) == (xy[:, 1] < half)
        return np.where(even, gen.integers(51, 101, size=n), gen.integers(1, 51, size=n)) * 1.0
    if kind == "many-small-few-large":
        n_small = int(round(gen.uniform(0.70, 0.95) * n))
        small = gen.integers(1, 11, size=n_small)
        large = gen.integers(50, 101, size=n - n_small)
        return gen.permutation(np.concatenate([small, large])) * 1.0
    lo, hi = X_DEMANDS[kind]
    return gen.integers(lo, hi + 1, size=n) * 1.0


# --------------------------------------------------------------------------- OVRP and registry


def ovrp_from(instance: RoutingInstance, name: str | None = None) -> RoutingInstance:
    """The same customers, demands and distances with open routes (kind ``ovrp``).

    A new instance sharing the (read-only) arrays; the CVRP instance is left unchanged. The name
    gets an ``-ovrp`` suffix.
    """
    if not instance.capacitated:
        raise ValueError(
            f"{instance.name}: a {instance.kind.upper()} instance has no capacity to make an "
            "OVRP of"
        )
    return replace(instance, name=name or f"{instance.name}-ovrp", kind="ovrp")


def uniform_ovrp(
    n: int, rng: RngLike, capacity: float = 50.0, name: str | None = None
) -> RoutingInstance:
    """:func:`uniform_cvrp` with open routes (the usual OVRP convention of neural solvers)."""
    inst = uniform_cvrp(n, rng, capacity)
    return ovrp_from(inst, name or inst.name.replace("cvrp-", "ovrp-", 1))


def generator_table() -> dict[str, Callable[..., RoutingInstance]]:
    """Generator by family; each is called as ``generate(n, rng, **options)``.

    Every variant's default generator under the variant's name, plus the other CVRP families.
    Built on demand because the variants import their generators from this module.
    """
    table = {problem.name: problem.generate for problem in problems()}
    table.update({"cvrp-kool": kool_cvrp, "cvrp-x": x_cvrp})
    return table


def __getattr__(name: str) -> Any:
    """``GENERATORS``: :func:`generator_table`, read lazily (see there)."""
    if name == "GENERATORS":
        return generator_table()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
