"""Reading and writing VRPLIB solution (``.sol``) files: routes and their cost.

CVRPLIB publishes its best-known solutions in this format, and ``ahd solve`` writes its own
in it, so solutions can be compared and verified with the same tools either way. Customer ids
are the file's (1..n, depot implicit), which match our node ids when the depot is node 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .format_error import InstanceFormatError, PathLike, read_text
from .instance_writer import format_number

__all__ = ["format_solution", "read_solution", "write_solution"]

_ROUTE_RE = re.compile(r"^route\s*#?\s*\d*\s*:(.*)$", re.IGNORECASE)


def read_solution(path: PathLike) -> tuple[list[list[int]], float | None]:
    """Read a VRPLIB ``.sol`` file: ``Route #k: ...`` lines and an optional ``Cost`` line.

    Customer ids are kept as written (1..n, the depot implicit), matching our node ids for
    files whose depot is node 1. Empty routes are dropped; other lines are ignored.

    Returns
    -------
    routes, cost
        ``cost`` is ``None`` when the file has no ``Cost`` line.
    """
    path = Path(path)
    routes: list[list[int]] = []
    cost: float | None = None
    for lineno, line in enumerate(read_text(path).splitlines(), 1):
        text = line.strip()
        match = _ROUTE_RE.match(text)
        if match:
            tokens = match.group(1).split()
            if not all(t.isdigit() and int(t) > 0 for t in tokens):
                raise InstanceFormatError(
                    path, f"line {lineno}: route must list positive customer ids, got {text!r}"
                )
            if tokens:
                routes.append([int(t) for t in tokens])
        elif text.lower().startswith("cost"):
            value = text[4:].strip(" :\t")
            if cost is not None:
                raise InstanceFormatError(path, f"line {lineno}: second Cost line")
            try:
                cost = float(value)
            except ValueError:
                raise InstanceFormatError(
                    path, f"line {lineno}: Cost {value!r} is not a number"
                ) from None
    if not routes:
        raise InstanceFormatError(path, "no 'Route #k:' lines")
    return routes, cost


def format_solution(routes: Iterable[Sequence[int]], cost: float | None) -> str:
    """The text of a VRPLIB ``.sol`` file: routes (customer ids 1..n, depot implicit), cost.

    Empty routes are skipped and the rest numbered from 1, as CVRPLIB files are. The cost is
    written as an integer when integral (``Cost 27591``), else with full precision.
    """
    lines = []
    for route in routes:
        ids = []
        for c in route:
            if isinstance(c, bool) or not isinstance(c, int | np.integer) or c < 1:
                raise ValueError(f"route customer ids must be integers >= 1, got {c!r}")
            ids.append(str(int(c)))
        if ids:
            lines.append(f"Route #{len(lines) + 1}: " + " ".join(ids))
    if cost is not None:
        lines.append(f"Cost {format_number(cost)}")
    return "\n".join(lines) + "\n"


def write_solution(routes: Iterable[Sequence[int]], cost: float | None, path: PathLike) -> None:
    """Write :func:`format_solution` of ``routes`` and ``cost`` to ``path``."""
    Path(path).write_text(format_solution(routes, cost), encoding="utf-8")
