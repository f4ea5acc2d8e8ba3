"""Reading VRPLIB/TSPLIB instance files into :class:`RoutingInstance` objects.

``vrplib`` parses the specification lines and the coordinate, demand and depot sections, but
it returns unrounded Euclidean floats and knows only two explicit matrix layouts. So distances
are always recomputed here from ``EDGE_WEIGHT_TYPE`` (:mod:`.distances`), and the
``EDGE_WEIGHT_SECTION`` is cut out of the text before ``vrplib`` sees it and decoded here in
every TSPLIB95 layout. Whatever goes wrong while reading becomes one
:class:`InstanceFormatError` line that names the file, so a command line can print it as is.

Conventions
-----------
* Node 0 is the depot. A file whose ``DEPOT_SECTION`` names another node is reordered (depot
  first, the rest in file order) and ``meta["original_ids"]`` maps our ids back to the file's.
* The instance name is the file stem, not ``NAME``: TSPLIB's ``NAME`` fields disagree with the
  names reference tables use (``pa561.tsp`` says ``pa561.tsp``, ``linhp318.tsp`` says
  ``lin318``). ``NAME`` and ``COMMENT`` are kept in ``meta``.
* ``TYPE`` picks the variant: the one whose
  :attr:`~ahd.problems.problem.RoutingProblem.vrplib_types` starts with it. ``kind=`` may ask
  for any variant that lists the file's ``TYPE`` (an OVRP reads a CVRP file's data, and the
  reverse); the variant also says whether capacity and demand sections are read. Open VRP
  files say ``TYPE : OVRP``, as LKH-3 spells it, and are otherwise CVRP files (``vrplib``
  ignores ``TYPE``).
* ``FLOAT_2D`` (unrounded Euclidean) is our extension too, for the unit-square generators.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from vrplib.parse import parse_vrplib

from .distances import GEO_PI, GEO_RRR, SUPPORTED_EDGE_WEIGHT_TYPES, distance_matrix
from .format_error import InstanceFormatError, PathLike, read_text
from .instance import RoutingInstance, keep_matrix
from .instance_limits import (
    coordinate_memory_problem,
    distance_bound_problem,
    distance_problem,
    file_size_problem,
    matrix_memory_problem,
)
from .node_ids import id_order, section_ids
from .problem import get_problem, problem_of_vrplib_type

__all__ = ["read_instance"]

#: Sections that carry nothing a routing instance needs; skipped.
_IGNORED_SECTIONS = {"display_data", "tour"}
#: Explicit layouts: TSPLIB name -> (triangle, diagonal offset). Column-wise layouts of a
#: symmetric matrix list the same numbers as the transposed row-wise layout.
_LAYOUTS = {
    "UPPER_ROW": ("upper", 1),
    "LOWER_COL": ("upper", 1),
    "LOWER_ROW": ("lower", -1),
    "UPPER_COL": ("lower", -1),
    "UPPER_DIAG_ROW": ("upper", 0),
    "LOWER_DIAG_COL": ("upper", 0),
    "LOWER_DIAG_ROW": ("lower", 0),
    "UPPER_DIAG_COL": ("lower", 0),
}


def read_instance(path: PathLike, kind: str | None = None,
                  distances: str = "auto") -> RoutingInstance:
    """Read a VRPLIB (``.vrp``) or TSPLIB (``.tsp``) file.

    Parameters
    ----------
    path
        The instance file.
    kind
        A variant name; by default the variant of the file's ``TYPE``. A variant reads only
        the ``TYPE`` values it lists (``vrplib_types``): a CVRP file can be read as OVRP (same
        data, open routes) and vice versa, but not as TSP, whose demands would silently vanish.

    Returns
    -------
    RoutingInstance
        Depot at node 0, distances computed with the file's ``EDGE_WEIGHT_TYPE`` (rounded as
        the published costs assume) or taken from its explicit matrix.

    Raises
    ------
    InstanceFormatError
        For anything that cannot be read or is not supported (one line naming the file).
    ValueError
        For an unknown ``kind`` argument (a caller error, not a file error).
    """
    if kind is not None:
        get_problem(kind, "problem kind")  # a caller error, before the file is read
    keep_matrix(2, "EXPLICIT", distances)  # refuses an unknown mode before the file is read
    path = Path(path)
    _check_size(path)
    text = read_text(path)
    if "\x00" in text:
        raise InstanceFormatError(path, "not a text file (it contains NUL bytes)")
    rest, weights = _cut_edge_weight_section(text, path)
    try:
        raw = parse_vrplib(rest, compute_edge_weights=False)
        ids = section_ids(rest)
    except Exception as exc:  # vrplib raises bare ValueError/RuntimeError/TypeError
        raise InstanceFormatError(path, f"not a readable VRPLIB/TSPLIB file ({exc})") from exc
    return _build(raw, weights, path, kind, ids, distances)


def _check_size(path: Path) -> None:
    """Refuse a file larger than the free memory before reading it (it would swap, then die)."""
    try:
        size = path.stat().st_size
    except OSError:
        return  # read_text names the error
    problem = file_size_problem(size)
    if problem is not None:
        raise InstanceFormatError(path, problem)


def _cut_edge_weight_section(text: str, path: Path) -> tuple[str, list[str] | None]:
    """Split off ``EDGE_WEIGHT_SECTION`` (its tokens) from the rest of the text.

    The section is a flat stream of numbers whose line breaks mean nothing (TSPLIB95), which
    ``vrplib``'s row-based section parser cannot handle for most layouts.
    """
    lines = text.splitlines()
    starts = [
        i for i, line in enumerate(lines)
        if line.strip().rstrip(":").strip().upper() == "EDGE_WEIGHT_SECTION"
    ]
    if not starts:
        return text, None
    if len(starts) > 1:
        raise InstanceFormatError(path, "EDGE_WEIGHT_SECTION appears more than once")
    start = starts[0]
    end = start + 1
    while end < len(lines):
        line = lines[end].strip()
        if "_SECTION" in line.upper() or line.upper().startswith("EOF") or ":" in line:
            break
        end += 1
    tokens = " ".join(lines[start + 1:end]).split()
    return "\n".join(lines[:start] + lines[end:]), tokens


def _build(raw: dict, weights: list[str] | None, path: Path, kind: str | None,
           ids: dict[str, list[str]], distances: str) -> RoutingInstance:
    def fail(problem: str) -> InstanceFormatError:
        return InstanceFormatError(path, problem)

    _check_sections(raw, fail)
    dim = raw.get("dimension")
    if dim is None:
        raise fail("missing DIMENSION")
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 2:
        raise fail(f"DIMENSION must be an integer >= 2, got {dim!r}")
    kind = _resolve_kind(raw, kind, fail)

    ewt = raw.get("edge_weight_type")
    if ewt is None:
        raise fail("missing EDGE_WEIGHT_TYPE")
    ewt = str(ewt).strip().upper()
    dense = keep_matrix(dim, ewt, distances)
    too_big = matrix_memory_problem(dim) if dense else coordinate_memory_problem(dim)
    if too_big is not None:
        raise fail(f"DIMENSION {dim} is too large for this machine: {too_big}")
    coord_type = str(raw.get("node_coord_type", "TWOD_COORDS")).strip().upper()
    if coord_type not in ("TWOD_COORDS", "NO_COORDS"):
        raise fail(f"unsupported NODE_COORD_TYPE {coord_type!r} (only 2-D coordinates)")
    coords = None
    if "node_coord" in raw:
        coords = _numeric(raw["node_coord"], "NODE_COORD_SECTION", (dim, 2), fail,
                          ids.get("node_coord"))

    meta: dict = {"source": str(path)}
    if "name" in raw:
        meta["file_name"] = str(raw["name"])
    if "comment" in raw:
        meta["comment"] = str(raw["comment"])
    if ewt == "EXPLICIT":
        if weights is None:
            raise fail("EDGE_WEIGHT_TYPE EXPLICIT but no EDGE_WEIGHT_SECTION")
        fmt = str(raw.get("edge_weight_format", "")).strip().upper()
        if not fmt:
            raise fail("EDGE_WEIGHT_TYPE EXPLICIT needs an EDGE_WEIGHT_FORMAT")
        dist = _explicit_matrix(weights, fmt, dim, fail)
        meta["edge_weight_format"] = fmt
    else:
        if ewt not in SUPPORTED_EDGE_WEIGHT_TYPES:
            raise fail(f"unsupported EDGE_WEIGHT_TYPE {ewt!r}")
        if weights is not None:
            raise fail(f"EDGE_WEIGHT_SECTION given but EDGE_WEIGHT_TYPE is {ewt}, not EXPLICIT")
        if coords is None:
            raise fail(f"EDGE_WEIGHT_TYPE {ewt} needs a NODE_COORD_SECTION")
        if not np.all(np.isfinite(coords)):
            raise fail("coordinates must be finite numbers")
        dist = None
        if dense:
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is refused below
                dist = distance_matrix(coords, ewt)
    overflow = distance_problem(dist) if dist is not None else _bounding_box_problem(coords, ewt)
    if overflow is not None:
        raise fail(overflow)

    demand = np.zeros(dim)
    capacity = math.inf
    max_routes = 0
    if get_problem(kind).capacitated:
        demand, capacity, max_routes = _vrp_data(raw, dim, fail, ids.get("demand"))
        depot = _depot(raw, dim, fail)
        if demand[depot] != 0:
            raise fail(f"depot (node {depot + 1}) has demand {demand[depot]:g}; expected 0")
        if depot != 0:
            order = np.array([depot] + [i for i in range(dim) if i != depot])
            dist = None if dist is None else dist[np.ix_(order, order)]
            demand = demand[order]
            coords = None if coords is None else coords[order]
            meta["original_ids"] = (order + 1).tolist()
    if dist is not None:
        dist.flags.writeable = False  # ours alone: the instance takes it over, no copy
    try:
        return RoutingInstance(
            name=path.stem, kind=kind, dist=dist, demand=demand, capacity=capacity,
            coords=coords, edge_weight_type=ewt, max_routes=max_routes, meta=meta,
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc


def _bounding_box_problem(coords: np.ndarray, ewt: str) -> str | None:
    """:func:`distance_problem` without the matrix: from the distance across the bounding
    box, which no two nodes exceed (great-circle distances are at most half the equator)."""
    if ewt == "GEO":
        largest = GEO_RRR * GEO_PI + 1.0
    else:
        corners = np.array([coords.min(axis=0), coords.max(axis=0)])
        with np.errstate(over="ignore", invalid="ignore"):
            largest = float(distance_matrix(corners, ewt)[0, 1])
    return distance_bound_problem(largest, coords.shape[0])


def _check_sections(raw: dict, fail) -> None:
    """Refuse data we would otherwise silently drop, changing the problem being solved."""
    if "fixed_edges" in raw:
        raise fail("unsupported FIXED_EDGES_SECTION (fixed edges cannot be enforced)")
    if "distance" in raw:
        raise fail("unsupported DISTANCE (route-length limits are not modelled)")
    known = {"node_coord", "demand", "depot"} | _IGNORED_SECTIONS
    for key, value in raw.items():
        if key not in known and not isinstance(value, int | float | str):
            raise fail(f"unsupported section {key.upper()}_SECTION")


def _resolve_kind(raw: dict, kind: str | None, fail) -> str:
    file_type = str(raw.get("type", "")).strip()
    if not file_type:
        if kind is None:
            raise fail("missing TYPE (pass kind= to say what the file holds)")
        return kind
    word = file_type.split()[0].upper()
    if word == "ATSP":
        raise fail("asymmetric TYPE 'ATSP' is not supported")
    owner = problem_of_vrplib_type(word)
    if kind is None:
        if owner is None:
            raise fail(f"unsupported TYPE {file_type!r}")
        return owner.name
    if word not in get_problem(kind).vrplib_types:
        if owner is None:
            raise fail(f"unsupported TYPE {file_type!r}")
        raise fail(f"TYPE {word} cannot be read as kind {kind!r}")
    return kind


def _vrp_data(raw: dict, dim: int, fail, ids: list[str] | None
              ) -> tuple[np.ndarray, float, int]:
    if "capacity" not in raw:
        raise fail("missing CAPACITY")
    capacity = raw["capacity"]
    if not isinstance(capacity, int | float) or not capacity > 0 or not math.isfinite(capacity):
        raise fail(f"CAPACITY must be a positive number, got {capacity!r}")
    if "demand" not in raw:
        raise fail("missing DEMAND_SECTION")
    demand = _numeric(raw["demand"], "DEMAND_SECTION", (dim,), fail, ids)
    if np.any(demand < 0):
        raise fail(f"node {int(np.argmax(demand < 0)) + 1} has a negative demand")
    if np.any(demand > capacity):
        i = int(np.argmax(demand > capacity))
        raise fail(f"node {i + 1} demand {demand[i]:g} exceeds CAPACITY {capacity:g}")
    vehicles = raw.get("vehicles", 0)
    if not isinstance(vehicles, int) or isinstance(vehicles, bool) or vehicles < 0:
        raise fail(f"VEHICLES must be a positive integer, got {vehicles!r}")
    total = float(demand.sum())
    if vehicles and total > vehicles * capacity:
        raise fail(f"infeasible: total demand {total:g} exceeds VEHICLES x CAPACITY = "
                   f"{vehicles} x {capacity:g} = {vehicles * capacity:g}")
    big = int(np.count_nonzero(demand > capacity / 2))  # no two of them share a vehicle
    if vehicles and big > vehicles:
        raise fail(f"infeasible: {big} customers each demand more than half the CAPACITY "
                   f"{capacity:g}, so they need {big} vehicles, but VEHICLES is {vehicles}")
    return demand, float(capacity), vehicles


def _depot(raw: dict, dim: int, fail) -> int:
    if "depot" not in raw:
        raise fail("missing DEPOT_SECTION")
    depots = np.atleast_1d(np.asarray(raw["depot"]))
    if depots.size == 0:
        raise fail("DEPOT_SECTION lists no depot")
    if depots.size > 1:
        raise fail(f"DEPOT_SECTION lists {depots.size} depots; only one is supported")
    if depots.dtype.kind not in "iu":
        raise fail(f"DEPOT_SECTION must list a node id, got {depots[0]!r}")
    d = int(depots[0])
    if not 0 <= d < dim:
        raise fail(f"DEPOT_SECTION names node {d + 1}, not a node in 1..{dim}")
    return d


def _numeric(data, section: str, shape: tuple[int, ...], fail,
             ids: list[str] | None = None) -> np.ndarray:
    """Check a parsed section (``vrplib`` drops the node-id column) and make it float64,
    its rows in node-id order (``ids``: the dropped column, see :func:`.section_ids`)."""
    width = shape[1] if len(shape) > 1 else 1
    if isinstance(data, list):  # vrplib keeps ragged sections as lists of rows
        for i, row in enumerate(data, 1):
            if len(row) != width:
                raise fail(f"{section} row {i} has {len(row)} values after the node id, "
                           f"expected {width}")
        data = np.array(data, dtype=object)
    arr = np.asarray(data)
    if arr.dtype.kind not in "iuf":
        for value in arr.ravel():
            try:
                float(value)
            except (TypeError, ValueError):
                raise fail(f"non-numeric value {str(value)!r} in {section}") from None
    arr = arr.astype(np.float64)
    rows = arr.shape[0] if arr.ndim else 0
    if rows != shape[0]:
        raise fail(f"{section} has {rows} rows, but DIMENSION is {shape[0]}")
    if arr.shape != shape:
        cols = arr.shape[1] if arr.ndim > 1 else 1
        raise fail(f"{section} rows have {cols} values after the node id, expected {width}")
    if not np.all(np.isfinite(arr)):
        raise fail(f"non-finite value in {section}")
    if ids is not None:
        try:
            order = id_order(ids, section, shape[0])
        except ValueError as exc:
            raise fail(str(exc)) from None
        if order is not None:
            arr = arr[order]
    return arr


def _explicit_matrix(tokens: list[str], fmt: str, m: int, fail) -> np.ndarray:
    """Decode an ``EDGE_WEIGHT_SECTION`` in any symmetric TSPLIB95 layout.

    The diagonal is set to 0: TSPLIB leaves ``d(i, i)`` undefined and some files store a
    large sentinel there, which would leak into neighbour lists.
    """
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError:
        bad = next(t for t in tokens if not _is_number(t))
        raise fail(f"non-numeric value {bad!r} in EDGE_WEIGHT_SECTION") from None
    if fmt == "FULL_MATRIX":
        need = m * m
    elif fmt in _LAYOUTS:
        need = m * (m - 1) // 2 + (m if _LAYOUTS[fmt][1] == 0 else 0)
    else:
        raise fail(f"unsupported EDGE_WEIGHT_FORMAT {fmt!r}")
    if values.size != need:
        raise fail(f"EDGE_WEIGHT_SECTION has {values.size} values; {fmt} with DIMENSION {m} "
                   f"needs {need}")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise fail("EDGE_WEIGHT_SECTION has negative or non-finite values")
    if fmt == "FULL_MATRIX":
        dist = values.reshape(m, m).copy()
        np.fill_diagonal(dist, 0.0)
        if not np.array_equal(dist, dist.T):
            raise fail("FULL_MATRIX is asymmetric (ATSP is not supported)")
        return dist
    triangle, k = _LAYOUTS[fmt]
    rows, cols = np.triu_indices(m, k) if triangle == "upper" else np.tril_indices(m, k)
    dist = np.zeros((m, m))
    dist[rows, cols] = values
    dist[cols, rows] = values
    np.fill_diagonal(dist, 0.0)
    return dist


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True

