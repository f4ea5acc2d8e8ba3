"""Hand-written inline SVG for the two drawings that gain from being interactive in the page:
the lineage graph (nodes link to their code, hover shows the strategy) and the routes."""

from __future__ import annotations

from html import escape

from ahd.store import LineageNode

from .layout import PALETTE, lineage_layout, role_color, route_paths
from .model import Operator, Routes

COL_W, ROW_H, RADIUS, PAD = 120, 44, 15, 40


def lineage_svg(nodes: list[LineageNode], operators: dict[int, Operator],
                team: set[int]) -> str:
    """The ancestry DAG of the team's evolved members; team members have a thick outline."""
    pos, columns, rows = lineage_layout(nodes)
    width, height = PAD * 2 + COL_W * max(columns - 1, 0), PAD * 2 + ROW_H * max(rows - 1, 0)

    def xy(cid: int) -> tuple[float, float]:
        col, row = pos[cid]
        return PAD + col * COL_W, PAD + row * ROW_H

    parts = [
        f'<svg class="plot lineage" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height + 10}" viewBox="0 -10 {width} {height + 10}" role="img" '
        f'aria-label="lineage of the team">',
        '<defs><marker id="lineage-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#888"/></marker></defs>',
    ]
    gens = sorted({n.generation for n in nodes})
    for i, g in enumerate(gens):
        parts.append(f'<text x="{PAD + i * COL_W}" y="4" class="axis" '
                     f'text-anchor="middle">gen {g}</text>')
    for node in nodes:
        x2, y2 = xy(node.id)
        for parent in node.parents:
            if parent not in pos:
                continue
            x1, y1 = xy(parent)
            dx, dy = x2 - x1, y2 - y1
            norm = max((dx * dx + dy * dy) ** 0.5, 1e-9)
            sx, sy = RADIUS * dx / norm, RADIUS * dy / norm
            parts.append(f'<line x1="{x1 + sx:.1f}" y1="{y1 + sy:.1f}" x2="{x2 - sx:.1f}" '
                         f'y2="{y2 - sy:.1f}" stroke="#888" marker-end="url(#lineage-arrow)"/>')
    for node in nodes:
        x, y = xy(node.id)
        op = operators.get(node.id)
        strategy = op.strategy if op else ""
        tip = (f"#{node.id} {','.join(node.roles)} gen {node.generation} {node.proposer}"
               + (f" {strategy}" if strategy else "")
               + (f" parents {','.join(map(str, node.parents))}" if node.parents else ""))
        stroke = ' stroke="#000" stroke-width="3"' if node.id in team else ' stroke="#fff"'
        parts.append(
            f'<a href="#code-{node.id}"><title>{escape(tip)}</title>'
            f'<circle cx="{x}" cy="{y}" r="{RADIUS}" fill="{role_color(node.roles)}"{stroke}/>'
            f'<text x="{x}" y="{y + 4}" text-anchor="middle" class="node">{node.id}</text></a>'
        )
    parts.append("</svg>")
    return "".join(parts)


def routes_svg(routes: Routes, size: int = 560) -> str:
    """The routes over the instance's coordinates; the depot is a black square."""
    xs = [c[0] for c in routes.coords]
    ys = [c[1] for c in routes.coords]
    x0, y0 = min(xs), min(ys)
    span = max(max(xs) - x0, max(ys) - y0, 1e-12)
    pad = 16

    def pt(node: int) -> tuple[float, float]:
        x, y = routes.coords[node]
        return (pad + (x - x0) / span * (size - 2 * pad),
                size - pad - (y - y0) / span * (size - 2 * pad))

    parts = [f'<svg class="plot routes" xmlns="http://www.w3.org/2000/svg" width="{size}" '
             f'height="{size}" viewBox="0 0 {size} {size}" role="img" '
             f'aria-label="routes on {escape(routes.instance)}">',
             f'<rect width="{size}" height="{size}" fill="#fff" stroke="#ddd"/>']
    paths = route_paths(routes.open_routes, [r for r in routes.routes if r])
    for i, (route, path) in enumerate(zip([r for r in routes.routes if r], paths, strict=True)):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in map(pt, path))
        color = PALETTE[i % len(PALETTE)]
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" '
                     f'stroke-width="2"><title>route {i + 1}: {len(route)} customers'
                     '</title></polyline>')
    for node in range(1, len(routes.coords)):
        x, y = pt(node)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#333">'
                     f'<title>customer {node}</title></circle>')
    x, y = pt(0)
    parts.append(f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="#000">'
                 '<title>depot</title></rect></svg>')
    return "".join(parts)
