"""The node-id column of VRPLIB/TSPLIB data sections, which ``vrplib`` drops.

Every row of ``NODE_COORD_SECTION`` and ``DEMAND_SECTION`` starts with its node's id. ``vrplib``
returns the rows without that column, in file order, so a file with a repeated, missing or
shuffled id would silently give one node another's coordinates or demand. The instance reader
reads the column here and either puts the rows in id order or refuses the file.
"""

from __future__ import annotations

import numpy as np
from vrplib.parse.parse_utils import text2lines
from vrplib.parse.parse_vrplib import group_specifications_and_sections

__all__ = ["id_order", "section_ids"]


def section_ids(text: str) -> dict[str, list[str]]:
    """The first token of each row of every data section, by ``vrplib``'s section name.

    The rows are grouped exactly as ``vrplib`` groups them (with its own helpers), so ids and
    the values it parsed stay aligned. Raises what ``vrplib`` raises for text it cannot group.
    """
    _, sections = group_specifications_and_sections(text2lines(text))
    out = {}
    for section in sections:
        name = section[0].strip(" :").removesuffix("_SECTION").lower()
        out[name] = [row.split()[0] for row in section[1:] if row.split()]
    return out


def id_order(ids: list[str], section: str, dim: int) -> np.ndarray | None:
    """Row order that lists nodes ``1..dim`` in turn; ``None`` when the rows already do.

    TSPLIB keys each row by its node id. Every published file lists them in order, but a file
    that does not is read by id rather than by position.

    Raises
    ------
    ValueError
        One line naming the section, row and id, for a repeated, out-of-range or non-integer
        id, or a row count other than ``dim``.
    """
    if len(ids) != dim:
        raise ValueError(f"{section} has {len(ids)} rows, but DIMENSION is {dim}")
    nodes = np.empty(dim, dtype=np.int64)
    seen: dict[int, int] = {}
    for row, token in enumerate(ids, 1):
        try:
            node = int(token)
        except ValueError:
            raise ValueError(f"{section} row {row}: node id {token!r} is not an integer"
                             ) from None
        if not 1 <= node <= dim:
            raise ValueError(f"{section} row {row}: node id {node} is not in 1..{dim}")
        if node in seen:
            raise ValueError(f"{section} lists node {node} twice (rows {seen[node]} and {row})")
        seen[node] = row
        nodes[row - 1] = node
    if np.all(nodes[:-1] < nodes[1:]):
        return None
    return np.argsort(nodes)
