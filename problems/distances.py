"""Distance matrices from coordinates, following the TSPLIB95 distance functions.

Published optima and best-known costs (TSPLIB, CVRPLIB X) are only comparable when distances
are rounded exactly as their authors rounded them, so every type here reproduces the
TSPLIB95 specification (Reinelt 1995, section 2) bit for bit, vectorised over all pairs.
``FLOAT_2D`` is our own convention for the synthetic unit-square sets (G-LNS/ReEvo), whose
costs are unrounded Euclidean lengths; rounding those would make every distance 0 or 1.

The diagonal is always 0, even for ``GEO`` whose formula would give 1 there: TSPLIB only
defines ``d(i, j)`` for ``i != j``, and a zero diagonal keeps "stay put" moves free.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: TSPLIB95's approximation of pi for GEO; using ``np.pi`` changes some published optima.
GEO_PI = 3.141592
#: Earth radius (km) of the TSPLIB95 GEO formula.
GEO_RRR = 6378.388


def _nint(x: np.ndarray) -> np.ndarray:
    """TSPLIB's ``nint``: ``(int)(x + 0.5)``, i.e. ``floor(x + 0.5)`` for ``x >= 0``.

    Not ``np.round``: that rounds halves to even, so a distance of exactly 2.5 would become 2
    instead of the 3 every published CVRPLIB/TSPLIB cost assumes.
    """
    x = x + 0.5
    return np.floor(x, out=x)


# Every type below maps coordinates ``p`` and ``q`` (broadcastable ``(..., 2)`` arrays) to
# elementwise distances. The matrix (``p = coords[:, None]``, ``q = coords[None]``) and single
# arcs (``p = coords[a]``, ``q = coords[b]``) then run the same floating-point operations on
# each pair, so a route costed arc by arc equals the matrix's sum bit for bit.


def _deltas(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate differences; ``dx(i, j) == -dx(j, i)`` exactly, so results built from
    ``dx**2`` or ``|dx|`` are exactly symmetric (no outer-product shortcut, which loses
    precision and symmetry)."""
    return p[..., 0] - q[..., 0], p[..., 1] - q[..., 1]


def _euclid(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    dx, dy = _deltas(p, q)
    # In place: an (m, m) temporary is 72 MB at m = 3000.
    dx *= dx
    dy *= dy
    dx += dy
    return np.sqrt(dx, out=dx)


def float_2d(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Unrounded Euclidean distances (our ``FLOAT_2D``/``EXACT`` convention)."""
    return _euclid(p, q)


def euc_2d(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """TSPLIB ``EUC_2D``: Euclidean length rounded with ``nint`` (as CVRPLIB X does)."""
    return _nint(_euclid(p, q))


def ceil_2d(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """TSPLIB ``CEIL_2D``: Euclidean length rounded up."""
    return np.ceil(_euclid(p, q))


def man_2d(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """TSPLIB ``MAN_2D``: Manhattan length rounded with ``nint``."""
    dx, dy = _deltas(p, q)
    return _nint(np.abs(dx) + np.abs(dy))


def max_2d(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """TSPLIB ``MAX_2D``: ``max(nint(|dx|), nint(|dy|))``."""
    dx, dy = _deltas(p, q)
    return np.maximum(_nint(np.abs(dx)), _nint(np.abs(dy)))


def att(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """TSPLIB ``ATT`` pseudo-Euclidean distance (att48, att532).

    ``r = sqrt((dx^2 + dy^2) / 10)``, ``t = nint(r)``, and the distance is ``t + 1`` when
    ``t < r``, else ``t``: a ceiling that the spec writes this way, kept literally so that
    floating-point edge cases match the reference implementation.
    """
    dx, dy = _deltas(p, q)
    r = np.sqrt((dx * dx + dy * dy) / 10.0)
    t = _nint(r)
    return np.where(t < r, t + 1.0, t)


def geo_radians(v: np.ndarray) -> np.ndarray:
    """``DDD.MM`` (degrees, then minutes as the fraction) to radians, as TSPLIB95 does.

    The degrees are the integer part truncated toward zero (the C ``(int)`` cast of the
    reference code); the spec's text says ``nint`` but the published GEO optima (burma14,
    gr96, gr666, ...) are only reproduced with truncation.
    """
    deg = np.trunc(v)
    minutes = v - deg
    return GEO_PI * (deg + 5.0 * minutes / 3.0) / 180.0


def geo(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """TSPLIB ``GEO``: great-circle distance in km on the idealised sphere, truncated.

    Coordinates are ``(latitude, longitude)`` in ``DDD.MM`` form;
    ``d = (int)(RRR * acos(0.5 * ((1 + q1) q2 - (1 - q1) q3)) + 1)`` with ``q1`` the cosine of
    the longitude difference, ``q2``/``q3`` of the latitude difference/sum.
    """
    lat_p, lon_p = geo_radians(p[..., 0]), geo_radians(p[..., 1])
    lat_q, lon_q = geo_radians(q[..., 0]), geo_radians(q[..., 1])
    # abs() keeps the matrix exactly symmetric whatever cos() does with the sign.
    q1 = np.cos(np.abs(lon_p - lon_q))
    q2 = np.cos(np.abs(lat_p - lat_q))
    q3 = np.cos(lat_p + lat_q)
    arg = np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0)
    return np.trunc(GEO_RRR * np.arccos(arg) + 1.0)


_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "EUC_2D": euc_2d,
    "CEIL_2D": ceil_2d,
    "MAN_2D": man_2d,
    "MAX_2D": max_2d,
    "ATT": att,
    "GEO": geo,
    "FLOAT_2D": float_2d,
    "EXACT": float_2d,
}

#: Edge weight types that :func:`distance_matrix` computes from coordinates.
SUPPORTED_EDGE_WEIGHT_TYPES: tuple[str, ...] = tuple(_FUNCTIONS)


def _function(edge_weight_type: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    key = str(edge_weight_type).strip().upper()
    if key not in _FUNCTIONS:
        raise ValueError(
            f"unsupported EDGE_WEIGHT_TYPE {edge_weight_type!r}; "
            f"supported: {', '.join(SUPPORTED_EDGE_WEIGHT_TYPES)}"
        )
    return _FUNCTIONS[key]


def distance_matrix(coords: np.ndarray, edge_weight_type: str) -> np.ndarray:
    """The ``(m, m)`` float64 distance matrix of ``coords`` under a TSPLIB edge weight type.

    Parameters
    ----------
    coords
        ``(m, 2)`` coordinates (for ``GEO``: latitude, longitude in ``DDD.MM``).
    edge_weight_type
        One of :data:`SUPPORTED_EDGE_WEIGHT_TYPES` (case-insensitive). Rounded types return
        integer-valued floats so that route costs stay exact in float64.

    Raises
    ------
    ValueError
        For an unsupported type (naming it) or malformed coordinates.
    """
    f = _function(edge_weight_type)
    coords = _check(coords)
    d = f(coords[:, None, :], coords[None, :, :])
    np.fill_diagonal(d, 0.0)
    return d


def arc_distances(coords: np.ndarray, edge_weight_type: str, a: np.ndarray,
                  b: np.ndarray) -> np.ndarray:
    """Distances of the arcs ``a[i] -> b[i]``: the matrix's entries without the matrix.

    Equal bit for bit to ``distance_matrix(coords, edge_weight_type)[a, b]`` (same operations
    per pair), in memory that grows with the number of arcs, which is what lets instances of
    tens of thousands of nodes be verified.
    """
    f = _function(edge_weight_type)
    coords = _check(coords)
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    d = np.asarray(f(coords[a], coords[b]), dtype=np.float64)
    return np.where(a == b, 0.0, d)


def _check(coords: np.ndarray) -> np.ndarray:
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(f"coordinates must have shape (m, 2), got {coords.shape}")
    if not np.all(np.isfinite(coords)):
        raise ValueError("coordinates must be finite")
    return coords
