"""Writing a :class:`RoutingInstance` as a VRPLIB/TSPLIB file that reads back exactly.

Instances made by the generators (float coordinates, unit-square ``FLOAT_2D`` distances)
have to survive a trip through a file bit for bit, or a benchmark written today would score
differently tomorrow: numbers are written as the shortest text that parses back to the same
float (:func:`format_number`), and the file is refused when it could not reproduce the
instance's distance matrix. The same number format serves the solution writer.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .distances import distance_matrix
from .format_error import PathLike
from .instance import RoutingInstance

__all__ = ["format_number", "format_numbers", "write_instance"]


def write_instance(instance: RoutingInstance, path: PathLike) -> None:
    """Write ``instance`` as a VRPLIB/TSPLIB file that :func:`.read_instance` reads back exactly.

    Numbers are written as integers when integral and as ``repr`` otherwise, so float
    coordinates survive bit for bit and the reader recomputes identical distances. Explicit
    matrices are written as ``FULL_MATRIX``. ``TYPE`` is the variant's own
    (:attr:`~ahd.problems.problem.RoutingProblem.vrplib_type`: ``OVRP`` for open routes);
    capacity, fleet, demands and depot are written for capacitated variants.

    Raises
    ------
    ValueError
        When the file could not reproduce ``instance.dist``: a coordinate-based
        ``edge_weight_type`` whose formula does not give ``dist`` (say so with
        ``edge_weight_type="EXPLICIT"``), or an asymmetric explicit matrix.
    """
    m = instance.n + 1
    variant = instance.variant
    ewt = instance.edge_weight_type.strip().upper()
    coords = instance.coords
    where = f"cannot write {instance.name!r}"
    if ewt == "EXPLICIT":
        if not np.array_equal(instance.dist, instance.dist.T) or np.any(np.diag(instance.dist)):
            raise ValueError(f"{where}: explicit matrices must be symmetric with a zero diagonal")
    else:
        if coords is None:
            raise ValueError(f"{where}: EDGE_WEIGHT_TYPE {ewt} needs coordinates")
        if instance.dense and not np.array_equal(distance_matrix(coords, ewt), instance.dist):
            raise ValueError(f"{where}: dist is not the {ewt} matrix of its coordinates; "
                             "set edge_weight_type='EXPLICIT' to write the matrix itself")
    lines = [
        f"NAME : {instance.name}",
        f"TYPE : {variant.vrplib_type}",
        f"DIMENSION : {m}",
        f"EDGE_WEIGHT_TYPE : {ewt}",
    ]
    if ewt == "EXPLICIT":
        lines.append("EDGE_WEIGHT_FORMAT : FULL_MATRIX")
    if variant.capacitated:
        lines.append(f"CAPACITY : {format_number(instance.capacity)}")
        if 0 < instance.max_routes < instance.n:
            lines.append(f"VEHICLES : {int(instance.max_routes)}")
    if coords is not None:
        lines.append("NODE_COORD_SECTION")
        lines += [f"{i} {format_number(x)} {format_number(y)}"
                  for i, (x, y) in enumerate(coords.tolist(), 1)]
    if ewt == "EXPLICIT":
        lines.append("EDGE_WEIGHT_SECTION")
        lines += [" ".join(format_numbers(row)) for row in instance.dist]
    if variant.capacitated:
        lines.append("DEMAND_SECTION")
        lines += [f"{i} {q}" for i, q in enumerate(format_numbers(instance.demand), 1)]
        lines += ["DEPOT_SECTION", "1", "-1"]
    lines.append("EOF")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def format_number(value: float) -> str:
    """Shortest text that parses back to exactly ``value`` (integers without ``.0``)."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot write non-finite number {value!r}")
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def format_numbers(values: np.ndarray) -> list[str]:
    """:func:`format_number` of each value (all integers when all are integral)."""
    values = np.asarray(values, dtype=np.float64)
    if np.all(np.isfinite(values)) and np.all(values == np.round(values)) and (
        values.size == 0 or np.abs(values).max() < 2**53
    ):
        return [str(v) for v in values.astype(np.int64).tolist()]
    return [format_number(v) for v in values.tolist()]

