"""Geometry shared by the HTML (SVG) and PNG (matplotlib) drawings: colours, lineage layout
and route polylines, so both outputs show the same picture."""

from __future__ import annotations

from collections.abc import Sequence

from ahd.store import LineageNode

ROLE_COLORS = {"destroy": "#d95f02", "repair": "#1b9e77", "improve": "#e7298a",
               "joint": "#7570b3"}
#: Colour-blind-friendly cycle (Okabe-Ito) for routes and series.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
           "#000000")


def role_color(roles: Sequence[str]) -> str:
    """One colour per role; candidates filling several roles (joint proposals) share one."""
    if len(roles) > 1:
        return ROLE_COLORS["joint"]
    return ROLE_COLORS.get(roles[0], "#666666") if roles else "#666666"


def lineage_layout(nodes: Sequence[LineageNode]) -> tuple[dict[int, tuple[int, int]], int, int]:
    """Grid positions ``id -> (column, row)``: one column per generation, oldest on the left.

    Within a column nodes are ordered by the mean row of their parents (barycentre), which
    keeps crossing edges few without a graph library. Returns the positions and the numbers
    of columns and rows.
    """
    generations = sorted({n.generation for n in nodes})
    column = {g: i for i, g in enumerate(generations)}
    pos: dict[int, tuple[int, int]] = {}
    rows = 0
    for g in generations:
        members = [n for n in nodes if n.generation == g]

        def key(node: LineageNode) -> tuple[float, int]:
            placed = [pos[p][1] for p in node.parents if p in pos]
            return (sum(placed) / len(placed) if placed else -1.0, node.id)

        for row, node in enumerate(sorted(members, key=key)):
            pos[node.id] = (column[g], row)
        rows = max(rows, len(members))
    return pos, len(generations), rows


def route_paths(open_routes: bool, routes: Sequence[Sequence[int]]) -> list[list[int]]:
    """Node sequences to draw: from the depot (node 0) through each route and back, except
    for open routes (OVRP), which end at their last customer."""
    closing = [] if open_routes else [0]
    return [[0, *route, *closing] for route in routes if route]
