"""The routing instance model shared by CVRP, TSP and OVRP.

One dataclass holds what every variant needs; the variant only changes how costs close a
route (``open_routes``) and whether capacity binds. Node 0 is always the depot (for TSP: the
first city), so customer ids are ``1..n`` everywhere, in files, solutions and numba arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PROBLEM_KINDS = ("cvrp", "tsp", "ovrp")


@dataclass(eq=False)
class RoutingInstance:
    """A routing instance with depot at node 0.

    Parameters
    ----------
    name
        Instance name (file stem or generator tag).
    kind
        One of ``"cvrp"``, ``"tsp"``, ``"ovrp"``.
    dist
        ``(n+1, n+1)`` float64 distance matrix. Integer-valued when the source rounds
        (CVRPLIB X, TSPLIB); costs then stay exact in float64.
    demand
        ``(n+1,)`` float64 demands, ``demand[0] == 0``. All zero for TSP.
    capacity
        Vehicle capacity; ``inf`` for TSP.
    coords
        ``(n+1, 2)`` coordinates, or ``None`` for EXPLICIT matrices.
    edge_weight_type
        How ``dist`` was made (``EUC_2D``, ``FLOAT_2D``, ``EXPLICIT``, ...); kept so writers
        can round-trip a file.
    max_routes
        Fleet limit. ``1`` for TSP, ``n`` (unbounded in practice) otherwise.
    """

    name: str
    kind: str
    dist: np.ndarray
    demand: np.ndarray
    capacity: float
    coords: np.ndarray | None = None
    edge_weight_type: str = "EXPLICIT"
    max_routes: int = 0
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in PROBLEM_KINDS:
            raise ValueError(f"unknown problem kind {self.kind!r}; expected one of {PROBLEM_KINDS}")
        self.dist = np.ascontiguousarray(self.dist, dtype=np.float64)
        self.demand = np.ascontiguousarray(self.demand, dtype=np.float64)
        m = self.dist.shape[0]
        if self.dist.shape != (m, m) or m < 2:
            raise ValueError(f"{self.name}: distance matrix must be square with >= 2 nodes")
        if self.demand.shape != (m,):
            raise ValueError(f"{self.name}: demand has {self.demand.shape} entries, need {m}")
        if self.demand[0] != 0:
            raise ValueError(f"{self.name}: depot demand must be 0")
        if np.any(self.demand < 0):
            raise ValueError(f"{self.name}: negative demand")
        if self.kind == "tsp":
            self.capacity = float("inf")
            self.max_routes = 1
        else:
            if not self.capacity > 0:
                raise ValueError(f"{self.name}: capacity must be positive")
            if np.any(self.demand > self.capacity):
                bad = int(np.argmax(self.demand > self.capacity))
                raise ValueError(f"{self.name}: customer {bad} demands more than the capacity")
            if self.max_routes <= 0:
                self.max_routes = m - 1
        if self.coords is not None:
            self.coords = np.asarray(self.coords, dtype=np.float64)

    @property
    def n(self) -> int:
        """Number of customers (nodes other than the depot)."""
        return self.dist.shape[0] - 1

    @property
    def open_routes(self) -> bool:
        """True when vehicles do not return to the depot (OVRP)."""
        return self.kind == "ovrp"
