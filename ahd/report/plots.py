"""The report's plots as matplotlib figures (Agg canvas, no pyplot state): embedded in the HTML
page as PNG and written as PNG files for papers by ``ahd report --png DIR``.

Each plot is a builder ``report -> Figure | str``; a string is the reason the plot is left out
(an offline run has no LLM cost, a run without failures has nothing to count), so the page and
the command can say so instead of drawing an empty frame.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .layout import PALETTE, ROLE_COLORS, lineage_layout, role_color, route_paths
from .model import RunReport

Figure = Any  # matplotlib.figure.Figure, imported lazily: ``import ahd.report`` stays cheap


def _figure(width: float = 7.0, height: float = 3.6) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _convergence(report: RunReport, x: list[float], xlabel: str) -> Figure:
    fig = _figure()
    ax = fig.add_subplot()
    fit = [p.fitness for p in report.rounds]
    ax.plot(x, fit, "o-", color=PALETTE[0], label="team (whole population) on training")
    ax.step(x, [p.best for p in report.rounds], where="post", color=PALETTE[5],
            label="best so far on training")
    if report.seed_train is not None:
        ax.axhline(report.seed_train, ls="--", color="#888", label="seed team, training")
    val = [(xi, p.validation) for xi, p in zip(x, report.rounds, strict=True)
           if p.validation is not None and p.validation != float("inf")]
    if val:
        ax.plot(*zip(*val, strict=True), "D", color=PALETTE[2], ls="none",
                label="validation (other instances)")
    if report.seed_validation is not None:
        ax.axhline(report.seed_validation, ls=":", color=PALETTE[2],
                   label="seed team, validation")
    if report.team is not None and report.team.label == "winner":
        win = [(xi, p.validation) for xi, p in zip(x, report.rounds, strict=True)
               if p.round == report.team.round and p.validation is not None]
        if win:
            ax.plot(*win[0], "*", ms=16, color=PALETTE[1], ls="none", label="winner")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mean objective (lower is better)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def convergence_evaluations(report: RunReport) -> Figure | str:
    """Team and best fitness against the LNS runs spent (team runs and smoke runs)."""
    if not report.rounds:
        return "no team has been scored yet"
    x = [p.evaluations for p in report.rounds]
    return _convergence(report, x, "evaluations (LNS runs: team runs + smoke runs)")


def convergence_cost(report: RunReport) -> Figure | str:
    """The same against LLM spending: dollars, or tokens for a free (local) model."""
    if not report.rounds:
        return "no team has been scored yet"
    if not report.llm_calls:
        return "offline run: no LLM calls, so no cost axis"
    if any(p.cost > 0 for p in report.rounds):
        return _convergence(report, [p.cost for p in report.rounds], "LLM cost (USD)")
    return _convergence(report, [p.tokens for p in report.rounds],
                        "LLM tokens (the model reported no cost)")


def llm_usage(report: RunReport) -> Figure | str:
    """Cumulative calls, tokens and cost over the run's wall time."""
    calls = report.llm_calls
    if not calls:
        return "offline run: no LLM calls were made"
    fig = _figure(7.0, 5.4)
    axes = fig.subplots(3, 1, sharex=True)
    t = [c.seconds / 60.0 for c in calls]
    n, cached, errors, prompt, completion, cost = 0, 0, 0, 0, 0, 0.0
    series: dict[str, list[float]] = {k: [] for k in ("n", "cached", "errors", "p", "c", "cost")}
    for c in calls:
        n, cached = n + 1, cached + c.cached
        errors += c.status != "ok"
        prompt, completion, cost = prompt + c.prompt_tokens, completion + c.completion_tokens, \
            cost + c.cost
        for key, value in (("n", n), ("cached", cached), ("errors", errors), ("p", prompt),
                           ("c", completion), ("cost", cost)):
            series[key].append(value)
    axes[0].step(t, series["n"], where="post", color=PALETTE[0], label="calls")
    axes[0].step(t, series["cached"], where="post", color=PALETTE[2], label="from cache")
    axes[0].step(t, series["errors"], where="post", color=PALETTE[5], label="failed")
    axes[1].step(t, series["p"], where="post", color=PALETTE[0], label="prompt tokens")
    axes[1].step(t, series["c"], where="post", color=PALETTE[1], label="completion tokens")
    axes[2].step(t, series["cost"], where="post", color=PALETTE[3], label="cost (USD)")
    for ax in axes:
        ax.legend(fontsize=7, loc="upper left")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("calls")
    axes[1].set_ylabel("tokens")
    axes[2].set_ylabel("USD")
    axes[2].set_xlabel("minutes since the run started")
    return fig


def operator_usage(report: RunReport) -> Figure | str:
    """How often each credited operator was chosen in the last scored round, and its credit."""
    ops = [op for op in report.operators if op.uses is not None
           and (op.in_population or op.in_team)]
    if not ops:
        return "no usage recorded (no state.json yet)"
    ops.sort(key=lambda op: (op.roles, op.id))
    fig = _figure(7.0, 1.2 + 0.22 * len(ops))
    left, right = fig.subplots(1, 2, sharey=True)
    labels = [f"#{op.id} {','.join(op.roles)}" for op in ops]
    colors = [role_color(op.roles) for op in ops]
    y = list(range(len(ops)))
    left.barh(y, [op.uses or 0 for op in ops], color=colors)
    right.barh(y, [op.credit or 0 for op in ops], color=colors)
    right.axvline(1.0, color="#888", ls="--", lw=1)
    left.set_yticks(y, labels, fontsize=7)
    left.invert_yaxis()
    left.set_xlabel("uses (times chosen, last scored round)")
    right.set_xlabel("credit (1 = pool average)")
    for ax in (left, right):
        ax.grid(alpha=0.3, axis="x")
    return fig


def membership(report: RunReport) -> Figure | str:
    """Which operator was in the scored team in which round (from the team evaluations)."""
    if not report.membership:
        return "no team evaluations yet"
    rows = sorted({(m.role, m.candidate_id) for m in report.membership})
    rounds = sorted({r for m in report.membership for r in m.rounds})
    index = {key: i for i, key in enumerate(rows)}
    col = {r: j for j, r in enumerate(rounds)}
    fig = _figure(7.0, 1.2 + 0.2 * len(rows))
    ax = fig.add_subplot()
    for m in report.membership:
        color = ROLE_COLORS.get(m.role, "#666")
        for r in m.rounds:
            ax.add_patch(_rect(col[r], index[(m.role, m.candidate_id)], color))
    ax.set_xlim(-0.5, len(rounds) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)), [f"#{cid} {role}" for role, cid in rows], fontsize=7)
    step = max(1, len(rounds) // 20)
    ax.set_xticks(range(0, len(rounds), step), [str(r) for r in rounds[::step]])
    ax.set_xlabel("round")
    return fig


def _rect(x: int, y: int, color: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.45, y - 0.4), 0.9, 0.8, color=color)


def failures(report: RunReport) -> Figure | str:
    """Failed proposals by kind and failed runs by stage and status."""
    f = report.failures
    bars = [(f"{kind}", n) for kind, n in sorted(f.kinds.items())]
    bars += [(f"{stage}: {status}", n) for stage, by in sorted(f.statuses.items())
             for status, n in sorted(by.items()) if status != "ok"]
    if not bars or not any(n for _, n in bars):
        return "no failures recorded"
    fig = _figure(7.0, 1.0 + 0.3 * len(bars))
    ax = fig.add_subplot()
    ax.barh(range(len(bars)), [n for _, n in bars],
            color=[PALETTE[0] if i < len(f.kinds) else PALETTE[5] for i in range(len(bars))])
    ax.set_yticks(range(len(bars)), [b for b, _ in bars], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("count (blue: loop counters by kind; red: stored runs by stage and status)")
    ax.grid(alpha=0.3, axis="x")
    return fig


def lineage(report: RunReport) -> Figure | str:
    """The team's ancestry: generations left to right, team members outlined."""
    nodes = report.lineage
    if not nodes:
        return "the team has no evolved members with ancestors"
    pos, columns, rows = lineage_layout(nodes)
    fig = _figure(max(4.0, 1.4 * columns), max(2.5, 0.45 * rows + 1))
    ax = fig.add_subplot()
    team = report.team.ids if report.team else set()
    for node in nodes:
        for parent in node.parents:
            if parent in pos:
                (x1, y1), (x2, y2) = pos[parent], pos[node.id]
                ax.annotate("", (x2, y2), (x1, y1), arrowprops={
                    "arrowstyle": "->", "color": "#888", "shrinkA": 11, "shrinkB": 11})
    for node in nodes:
        x, y = pos[node.id]
        ax.scatter([x], [y], s=420, color=role_color(node.roles), zorder=3,
                   edgecolors="black" if node.id in team else "white",
                   linewidths=2.5 if node.id in team else 1)
        ax.text(x, y, str(node.id), ha="center", va="center", fontsize=8, color="white",
                zorder=4)
    gens = sorted({n.generation for n in nodes})
    ax.set_xticks(range(columns), [f"gen {g}" for g in gens])
    ax.set_yticks([])
    ax.set_xlim(-0.6, columns - 0.4)
    ax.set_ylim(rows - 0.4, -0.6)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    return fig


def routes(report: RunReport) -> Figure | str:
    """The team's routes on the first validation instance."""
    r = report.routes
    if r is None:
        return "no routes (not a routing run, no team yet, or --no-routes)"
    if not r.routes:
        return f"no routes: {r.error}"
    fig = _figure(5.5, 5.5)
    ax = fig.add_subplot()
    for i, path in enumerate(route_paths(r.open_routes, r.routes)):
        ax.plot([r.coords[n][0] for n in path], [r.coords[n][1] for n in path], "-",
                color=PALETTE[i % len(PALETTE)], lw=1.5)
    ax.scatter([c[0] for c in r.coords[1:]], [c[1] for c in r.coords[1:]], s=10, color="#333",
               zorder=3)
    ax.scatter([r.coords[0][0]], [r.coords[0][1]], marker="s", s=60, color="black", zorder=4)
    ax.set_aspect("equal")
    ax.set_title(f"{r.instance}: cost {r.cost:.6g}, {len(r.routes)} routes", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


#: name -> (title, builder), in page order.
PLOTS: dict[str, tuple[str, Callable[[RunReport], Figure | str]]] = {
    "convergence_evaluations": ("Convergence against evaluations", convergence_evaluations),
    "convergence_cost": ("Convergence against LLM cost", convergence_cost),
    "operator_usage": ("Operator usage and credit", operator_usage),
    "membership": ("Team membership per round", membership),
    "llm_usage": ("LLM calls, tokens and cost over time", llm_usage),
    "failures": ("Failures by kind", failures),
    "lineage": ("Lineage of the team", lineage),
    "routes": ("Routes of the team on a validation instance", routes),
}


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def write_pngs(report: RunReport, out_dir: str | Path, dpi: int = 200
               ) -> tuple[list[Path], dict[str, str]]:
    """Write every plot that has data as ``DIR/NAME.png``; return the files and, per plot left
    out, the reason."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written, skipped = [], {}
    for name, (_, build) in PLOTS.items():
        fig = build(report)
        if isinstance(fig, str):
            skipped[name] = fig
            continue
        path = out / f"{name}.png"
        path.write_bytes(png_bytes(fig, dpi))
        written.append(path)
    return written, skipped
