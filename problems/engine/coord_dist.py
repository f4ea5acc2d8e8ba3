"""Distances computed from coordinates inside compiled code, for instances too large for a matrix.

A dense float64 matrix costs ``8 m^2`` bytes: 7.2 GB at 30,000 customers. For coordinate
instances the engine can instead carry the coordinates and compute each distance when asked,
in memory that grows with ``m``. :class:`CoordDist` is that record. It takes the matrix's place
as ``inst.dist`` and supports the same reads, so the engine, the seed operators and evolved
operators compile against it unchanged:

* ``dist[a, b]``: one distance, with the instance's exact TSPLIB rounding;
* ``dist[a]``: the row of ``a`` as a new array (O(m) time and memory per call: fine in an
  operator's set-up, slow in an inner loop);
* ``dist.shape`` and ``dist.max()``.

Every type is the same sequence of floating-point operations as
:mod:`ahd.problems.distances` performs per pair (``GEO`` uses the C library's cosine where
numpy has its own, so it is checked against the matrix by the tests rather than by
construction), which is what makes a search with either representation take the same path.
"""

from __future__ import annotations

import math
import operator
from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.extending import overload, overload_attribute, overload_method

from ..distances import GEO_RRR, geo_radians

__all__ = ["CODES", "CoordDist", "arc", "make_coord_dist", "neighbours_and_top"]

class CoordDist(namedtuple("CoordDist", "x y code open_depot m top")):
    """Coordinates standing in for a distance matrix (compiled code indexes it like one).

    ``x``, ``y`` coordinates (``GEO``: latitude and longitude in radians); ``code`` the
    distance type; ``open_depot`` 1 when arcs into the depot cost nothing (open routes); ``m``
    nodes; ``top`` the largest distance (what ``dist.max()`` returns).
    """

    __slots__ = ()

    def max(self) -> float:
        """The largest distance, as ``matrix.max()`` gives it."""
        return float(self.top)

    @property
    def shape(self) -> tuple[int, int]:
        """``(m, m)``, the matrix's shape."""
        return int(self.m), int(self.m)


EUC_2D, CEIL_2D, FLOAT_2D, MAN_2D, MAX_2D, ATT, GEO = range(7)
#: Edge weight types computed on demand, and their codes.
CODES = {"EUC_2D": EUC_2D, "CEIL_2D": CEIL_2D, "FLOAT_2D": FLOAT_2D, "EXACT": FLOAT_2D,
         "MAN_2D": MAN_2D, "MAX_2D": MAX_2D, "ATT": ATT, "GEO": GEO}


@njit(cache=True, inline="always")
def arc(x, y, code, a, b):
    """Distance from node ``a`` to node ``b`` (0 when they are the same node).

    Inlined into every caller: a real call would pass both coordinate arrays and update
    their reference counts on every distance read, which made the search ten times slower
    than with a matrix.
    """
    if a == b:
        return 0.0
    if code == GEO:
        q1 = math.cos(abs(y[a] - y[b]))
        q2 = math.cos(abs(x[a] - x[b]))
        q3 = math.cos(x[a] + x[b])
        g = 0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3)
        g = min(max(g, -1.0), 1.0)
        return float(math.floor(GEO_RRR * math.acos(g) + 1.0))
    dx = x[a] - x[b]
    dy = y[a] - y[b]
    if code == MAN_2D:
        return float(math.floor(abs(dx) + abs(dy) + 0.5))
    if code == MAX_2D:
        return float(max(math.floor(abs(dx) + 0.5), math.floor(abs(dy) + 0.5)))
    s = dx * dx + dy * dy
    if code == ATT:
        r = math.sqrt(s / 10.0)
        t = float(math.floor(r + 0.5))
        return t + 1.0 if t < r else t
    r = math.sqrt(s)
    if code == EUC_2D:
        return float(math.floor(r + 0.5))
    if code == CEIL_2D:
        return float(math.ceil(r))
    return r


def _is_coord_dist(d) -> bool:
    return isinstance(d, types.BaseNamedTuple) and d.instance_class is CoordDist


@overload(operator.getitem)
def _getitem(d, idx):
    if not _is_coord_dist(d):
        return None
    if isinstance(idx, types.BaseTuple) and len(idx) == 2 and all(
            isinstance(t, types.Integer) for t in idx):
        def pair(d, idx):
            a, b = idx
            if d.open_depot != 0 and b == 0 and a != 0:
                return 0.0
            return arc(d.x, d.y, d.code, a, b)
        return pair
    if isinstance(idx, types.Integer):
        def row(d, idx):
            out = np.empty(d.m)
            for b in range(d.m):
                if d.open_depot != 0 and b == 0 and idx != 0:
                    out[b] = 0.0
                else:
                    out[b] = arc(d.x, d.y, d.code, idx, b)
            return out
        return row
    return None


@overload_attribute(types.NamedTuple, "shape")
def _shape(d):
    if _is_coord_dist(d):
        return lambda d: (d.m, d.m)
    return None


@overload_method(types.NamedTuple, "max")
def _max(d):
    if _is_coord_dist(d):
        return lambda d: d.top
    return None


@njit(cache=True)
def _offer(nd, ni, cnt, row, d, j):
    """Keep ``(d, j)`` among the ``k`` smallest pairs of ``row``, sorted by distance then id
    (the order a stable argsort of the matrix row gives)."""
    k = nd.shape[1]
    c = cnt[row]
    if c == k and (d > nd[row, k - 1] or (d == nd[row, k - 1] and j > ni[row, k - 1])):
        return
    p = c if c < k else k - 1
    while p > 0 and (nd[row, p - 1] > d or (nd[row, p - 1] == d and ni[row, p - 1] > j)):
        nd[row, p] = nd[row, p - 1]
        ni[row, p] = ni[row, p - 1]
        p -= 1
    nd[row, p] = d
    ni[row, p] = j
    if c < k:
        cnt[row] = c + 1


@njit(cache=True)
def neighbours_and_top(x, y, code, k):
    """Each node's ``k`` nearest customers (never itself, never the depot) and the largest
    distance, in one pass over the ``m (m - 1) / 2`` pairs: O(m^2) time, O(m k) memory."""
    m = x.shape[0]
    nd = np.full((m, k), np.inf)
    ni = np.zeros((m, k), dtype=np.int64)
    cnt = np.zeros(m, dtype=np.int64)
    top = 0.0
    finite = True
    for a in range(m):
        for b in range(a + 1, m):
            d = arc(x, y, code, a, b)
            if not math.isfinite(d):
                finite = False
            elif d > top:
                top = d
            # The cheap rejection first (most pairs): a full list whose last entry is nearer.
            if cnt[a] < k or d <= nd[a, k - 1]:
                _offer(nd, ni, cnt, a, d, b)
            if a > 0 and (cnt[b] < k or d <= nd[b, k - 1]):
                _offer(nd, ni, cnt, b, d, a)
    return ni, top, finite


def make_coord_dist(coords: np.ndarray, edge_weight_type: str, open_routes: bool,
                    top: float = 0.0) -> CoordDist:
    """The record for ``coords`` (``(m, 2)``, read-only is fine: it is never written); ``top``
    is filled in once :func:`neighbours_and_top` has measured it."""
    code = CODES[edge_weight_type.strip().upper()]
    c = np.ascontiguousarray(coords, dtype=np.float64)
    if code == GEO:
        c = np.stack([geo_radians(c[:, 0]), geo_radians(c[:, 1])], axis=1)
    x = np.ascontiguousarray(c[:, 0])
    y = np.ascontiguousarray(c[:, 1])
    return CoordDist(x, y, np.int64(code), np.int64(1 if open_routes else 0),
                     np.int64(c.shape[0]), float(top))

