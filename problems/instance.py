"""The routing instance model shared by every variant.

One immutable record holds what every variant needs; its variant (``kind``, a
:class:`~ahd.problems.problem.RoutingProblem`) says how costs close a route (``open_routes``),
whether capacity binds (``capacitated``) and whether the fleet is one vehicle
(``single_route``). Node 0 is always the depot (for TSP: the first city), so customer ids are
``1..n`` everywhere, in files, solutions and numba arrays.

Instances are frozen, with read-only arrays: one instance is shared by the engine, the verifier,
OR-Tools and the sandbox request, and a scorer must be sure nobody changed it in between.
Derive a changed instance with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .distances import SUPPORTED_EDGE_WEIGHT_TYPES, arc_distances, distance_matrix
from .instance_limits import matrix_memory_problem
from .problem import RoutingProblem, get_problem

#: Coordinate types the engine can compute on demand (every type :mod:`.distances` knows).
ON_DEMAND_TYPES = SUPPORTED_EDGE_WEIGHT_TYPES
#: Nodes up to which a coordinate instance keeps its dense matrix by default. Reading the
#: matrix is faster than computing a distance (about 1.7x the LNS iterations on Leuven1 and
#: Antwerp1, 3,000 and 6,000 customers), but the matrix and the engine's set-up around it (a
#: copy, the sorted neighbour rows) hold about four ``m x m`` arrays: 0.5 GB at 4,000 nodes,
#: 1.2 GB at 6,000, growing as m^2.
DENSE_MAX_NODES = 4000
#: ``distances=`` choices of :func:`keep_matrix`.
DISTANCE_MODES = ("auto", "matrix", "coords")


def keep_matrix(m: int, edge_weight_type: str, mode: str = "auto") -> bool:
    """Whether an ``m``-node instance with coordinates should hold a dense matrix.

    ``mode`` ``"matrix"`` always does, ``"coords"`` never does when the type can be computed
    on demand, ``"auto"`` does up to :data:`DENSE_MAX_NODES`.
    """
    if mode not in DISTANCE_MODES:
        raise ValueError(f"distances must be one of {', '.join(DISTANCE_MODES)}, got {mode!r}")
    if str(edge_weight_type).upper() not in ON_DEMAND_TYPES or mode == "matrix":
        return True
    return mode == "auto" and m <= DENSE_MAX_NODES


def frozen_array(values: Any) -> np.ndarray:
    """``values`` as a read-only C-contiguous float64 array nobody else can write to.

    An array that is already read-only all the way down (an instance's own array, passed on by
    :func:`dataclasses.replace`) is shared; anything else is copied, so the caller's array
    stays writable and later writes to it do not reach the instance.
    """
    arr = np.asarray(values, dtype=np.float64)
    if not arr.flags.c_contiguous or _writable_somewhere(arr):
        arr = np.array(arr, dtype=np.float64, order="C")
    arr.flags.writeable = False
    return arr


def _writable_somewhere(arr: np.ndarray) -> bool:
    """Whether ``arr`` or an array it is a view of can still be written."""
    base: Any = arr
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            return True
        base = base.base
    return False


@dataclass(frozen=True, eq=False)
class RoutingInstance:
    """A routing instance with depot at node 0 (immutable; arrays are read-only).

    Parameters
    ----------
    name
        Instance name (file stem or generator tag).
    kind
        A registered variant name (:func:`~ahd.problems.problem.problem_names`).
    dist
        ``(n+1, n+1)`` float64 distance matrix. Integer-valued when the source rounds
        (CVRPLIB X, TSPLIB); costs then stay exact in float64. ``None`` for a coordinate
        instance held without its matrix (see :data:`DENSE_MAX_NODES`): distances are then
        computed from ``coords`` and ``edge_weight_type`` wherever they are needed, with the
        same values; :meth:`matrix` builds the matrix on request.
    demand
        ``(n+1,)`` float64 demands, ``demand[0] == 0``. All zero when not capacitated.
    capacity
        Vehicle capacity; set to ``inf`` when the variant is not capacitated.
    coords
        ``(n+1, 2)`` coordinates, or ``None`` for EXPLICIT matrices.
    edge_weight_type
        How ``dist`` was made (``EUC_2D``, ``FLOAT_2D``, ``EXPLICIT``, ...); kept so writers
        can round-trip a file.
    max_routes
        Fleet limit. ``1`` for a single-route variant, ``n`` (unbounded in practice) when not
        given (``0``).
    meta
        Informative extras (source file, generator settings); copied, never read by a solver.
    """

    name: str
    kind: str
    dist: np.ndarray | None
    demand: np.ndarray
    capacity: float
    coords: np.ndarray | None = None
    edge_weight_type: str = "EXPLICIT"
    max_routes: int = 0
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        variant = get_problem(self.kind, "problem kind")
        demand = frozen_array(self.demand)
        if self.dist is None:
            dist = None
            m = demand.shape[0] if demand.ndim == 1 else 0
            if self.coords is None or str(self.edge_weight_type).upper() not in ON_DEMAND_TYPES:
                raise ValueError(f"{self.name}: without a distance matrix, coordinates and an "
                                 f"edge weight type of {', '.join(ON_DEMAND_TYPES)} are needed")
            if np.shape(self.coords) != (m, 2) or m < 2:
                raise ValueError(f"{self.name}: coordinates must have shape ({m}, 2), one row "
                                 "per node, and there must be >= 2 nodes")
        else:
            dist = frozen_array(self.dist)
            m = dist.shape[0] if dist.ndim == 2 else 0
            if dist.shape != (m, m) or m < 2:
                raise ValueError(f"{self.name}: distance matrix must be square with >= 2 nodes")
        if demand.shape != (m,):
            raise ValueError(f"{self.name}: demand has {demand.shape} entries, need {m}")
        if demand[0] != 0:
            raise ValueError(f"{self.name}: depot demand must be 0")
        if np.any(demand < 0):
            raise ValueError(f"{self.name}: negative demand")
        capacity = self.capacity
        if not variant.capacitated:
            capacity = math.inf
        else:
            if not capacity > 0:
                raise ValueError(f"{self.name}: capacity must be positive")
            if np.any(demand > capacity):
                bad = int(np.argmax(demand > capacity))
                raise ValueError(f"{self.name}: customer {bad} demands more than the capacity")
        max_routes = self.max_routes
        if variant.single_route:
            max_routes = 1
        elif max_routes <= 0:
            max_routes = m - 1
        elif variant.capacitated and float(demand.sum()) > max_routes * capacity:
            # A fixed fleet that cannot carry the demand: no search could find a solution.
            raise ValueError(f"{self.name}: total demand {float(demand.sum()):g} exceeds "
                             f"{max_routes} vehicles x capacity {capacity:g}")
        coords = None if self.coords is None else frozen_array(self.coords)
        for name, value in (("dist", dist), ("demand", demand), ("capacity", capacity),
                            ("max_routes", max_routes), ("coords", coords),
                            ("meta", dict(self.meta))):
            object.__setattr__(self, name, value)

    def __setstate__(self, state: dict) -> None:
        """Unpickled arrays are fresh and writable: make them read-only again."""
        for value in state.values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        self.__dict__.update(state)

    @property
    def n(self) -> int:
        """Number of customers (nodes other than the depot)."""
        return self.demand.shape[0] - 1

    @property
    def dense(self) -> bool:
        """True when the instance holds its distance matrix."""
        return self.dist is not None

    def matrix(self) -> np.ndarray:
        """The distance matrix: the instance's own, or built from coordinates (read-only).

        Raises
        ------
        ValueError
            When the matrix would not fit in the memory available (one line).
        """
        if self.dist is not None:
            return self.dist
        problem = matrix_memory_problem(self.n + 1)
        if problem:
            raise ValueError(f"{self.name}: {problem}")
        d = distance_matrix(self.coords, self.edge_weight_type)
        d.flags.writeable = False
        return d

    def arc_costs(self, a: Any, b: Any) -> np.ndarray:
        """Distances of the arcs ``a[i] -> b[i]`` as the matrix holds them (no return-arc
        discount for open routes: callers decide which arcs they count)."""
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        if self.dist is not None:
            return self.dist[a, b]
        return arc_distances(self.coords, self.edge_weight_type, a, b)

    @property
    def variant(self) -> RoutingProblem:
        """The registered variant this instance belongs to."""
        return get_problem(self.kind)

    @property
    def open_routes(self) -> bool:
        """True when vehicles do not return to the depot (the return arc costs nothing)."""
        return self.variant.open_routes

    @property
    def capacitated(self) -> bool:
        """True when route loads are bounded by ``capacity``."""
        return self.variant.capacitated

    @property
    def single_route(self) -> bool:
        """True when the solution is one route (the fleet is one vehicle)."""
        return self.variant.single_route


def with_distances(instance: RoutingInstance, mode: str = "auto") -> RoutingInstance:
    """``instance`` holding a matrix or not, as :func:`keep_matrix` decides for ``mode``.

    The distances are the same either way; only where they live changes. An EXPLICIT
    instance always keeps its matrix.
    """
    if instance.coords is None:
        keep_matrix(2, "EXPLICIT", mode)  # still refuse an unknown mode
        return instance
    keep = keep_matrix(instance.n + 1, instance.edge_weight_type, mode)
    if keep == instance.dense:
        return instance
    return replace(instance, dist=instance.matrix() if keep else None)
