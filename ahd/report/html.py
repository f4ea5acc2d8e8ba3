"""The report as one self-contained HTML page: inline CSS, JavaScript, SVG and base64 PNG, no
network needed to view it.

The page's script does two things: it opens the code block a link points to, and once
everything has loaded it writes into ``#report-status`` how many plots rendered and which
script errors occurred, which the end-to-end browser test reads back.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from ahd.files import write_atomic

from .highlight import highlight_css, highlight_python
from .layout import ROLE_COLORS
from .model import Operator, RunReport
from .sections import (
    failures_section,
    llm_section,
    planning_section,
    rounds_table,
    routes_section,
    summary_section,
    table,
)
from .svg import lineage_svg

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       color: #222; background: #fafafa; }
header { background: #263238; color: #fff; padding: 14px 24px; }
header h1 { margin: 0; font-size: 20px; }
header .sub { color: #b0bec5; font-size: 13px; }
nav { padding: 6px 24px; background: #eceff1; font-size: 13px; position: sticky; top: 0; }
nav a { margin-right: 14px; color: #37474f; }
main { padding: 8px 24px 40px; max-width: 1200px; }
section { background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; margin: 16px 0;
          padding: 4px 18px 14px; }
h2 { font-size: 17px; border-bottom: 1px solid #eee; padding-bottom: 4px; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #e0e0e0; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.team td { background: #fff8e1; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
         font-weight: 600; color: #fff; }
.badge.finished { background: #2e7d32; } .badge.running { background: #1565c0; }
.badge.killed, .badge.failed { background: #c62828; }
.badge.interrupted, .badge.unknown { background: #ef6c00; }
.note { color: #555; font-style: italic; }
.notes li { color: #6d4c41; }
figure { margin: 10px 0; } figcaption { color: #555; font-size: 12px; }
img.plot { max-width: 100%; height: auto; border: 1px solid #eee; }
svg.plot { max-width: 100%; height: auto; background: #fff; }
svg text.axis { font-size: 11px; fill: #555; }
svg text.node { font-size: 10px; fill: #fff; pointer-events: none; }
details.code { margin: 6px 0; border: 1px solid #eee; border-radius: 4px; }
details.code > summary { cursor: pointer; padding: 3px 8px; background: #f7f7f7;
                         font-family: ui-monospace, monospace; font-size: 12px; }
details.code[open] > summary { border-bottom: 1px solid #eee; }
.hl pre { margin: 0; padding: 8px; overflow-x: auto; font-size: 12px; }
pre.error, pre.config { background: #f7f7f7; padding: 8px; overflow-x: auto; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 5px;
          margin-right: 4px; }
#report-status { color: #777; font-size: 12px; }
"""

SCRIPT = """
(function () {
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message || e)); });
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  window.addEventListener("load", function () {
    openTarget();
    var plots = document.querySelectorAll(".plot"), ok = 0, bad = [];
    Array.prototype.forEach.call(plots, function (p) {
      var fine;
      if (p.tagName.toLowerCase() === "img") {
        fine = p.complete && p.naturalWidth > 0;
      } else {
        var box = p.getBBox();
        fine = p.childElementCount > 0 && box.width > 0 && box.height > 0;
      }
      if (fine) { ok += 1; } else { bad.push(p.getAttribute("aria-label") || p.alt); }
    });
    var status = document.getElementById("report-status");
    status.setAttribute("data-plots", String(plots.length));
    status.setAttribute("data-rendered", String(ok));
    status.setAttribute("data-errors", String(errors.length));
    status.textContent = ok + " of " + plots.length + " plots rendered" +
      (bad.length ? "; not rendered: " + bad.join(", ") : "") +
      (errors.length ? "; script errors: " + errors.join(" | ") : "");
  });
})();
"""

SECTIONS = (
    ("summary", "Summary"), ("convergence", "Convergence"), ("leaderboard", "Leaderboard"),
    ("lineage", "Lineage"), ("usage", "Operator usage"), ("llm", "LLM calls"),
    ("failures", "Failures"), ("routes", "Routes"), ("planning", "Planning coverage"),
    ("config", "Configuration"),
)


def _figures(report: RunReport) -> dict[str, str]:
    """Each matplotlib plot as an ``<img>`` (base64 PNG) or a note saying why it is missing."""
    from . import plots

    out: dict[str, str] = {}
    for name, (title, build) in plots.PLOTS.items():
        if name in ("lineage", "routes"):
            continue  # drawn as interactive SVG in the page
        try:
            fig = build(report)
        except ImportError:
            out[name] = ('<p class="note">matplotlib is not installed, so this plot is left out '
                         "(pip install matplotlib)</p>")
            continue
        if isinstance(fig, str):
            out[name] = f'<p class="note" data-plot="{name}">{escape(title)}: {escape(fig)}</p>'
            continue
        data = base64.b64encode(plots.png_bytes(fig, dpi=110)).decode("ascii")
        doc = (build.__doc__ or "").strip().splitlines()[0]
        out[name] = (f'<figure id="plot-{name}"><img class="plot" alt="{escape(title)}" '
                     f'src="data:image/png;base64,{data}"><figcaption>{escape(title)}: '
                     f"{escape(doc)}</figcaption></figure>")
    return out


def _code_block(op: Operator) -> str:
    mean = "-" if op.mean_objective is None else f"{op.mean_objective:.6g}"
    what = op.strategy or op.proposer
    parents = f", parents {', '.join(map(str, op.parents))}" if op.parents else ""
    summary = (f"#{op.id} {','.join(op.roles)} - {what} ({op.proposer}, gen {op.generation}"
               f"{parents}) - train mean {mean}" + (" - in the team" if op.in_team else ""))
    return (f'<details class="code" id="code-{op.id}"><summary>{escape(summary)}</summary>'
            f"{highlight_python(op.source)}</details>")


def _id_link(cid: int, listed: set[int] | None = None) -> str:
    """A link to the candidate's code block (plain text when the page has none)."""
    if listed is not None and cid not in listed:
        return str(cid)
    return f'<a href="#code-{cid}">{cid}</a>'


def _leaderboard(report: RunReport) -> str:
    rows = []
    listed = {op.id for op in report.operators}
    for op in report.leaderboard:
        counts = " ".join(f"{s}:{n}" for s, n in sorted(op.status_counts.items()))
        parents = ", ".join(_id_link(p, listed) for p in op.parents) or "-"
        rows.append(([
            op.rank, _id_link(op.id), ",".join(op.roles), op.generation, op.proposer,
            op.strategy, parents, op.mean_objective,
            op.n_instances, op.n_evaluations, counts, op.credit, op.uses,
            "yes" if op.in_team else "", "yes" if op.in_population else "",
        ], "team" if op.in_team else ""))
    head = ["#", "id", "roles", "gen", "proposer", "strategy", "parents", "mean objective",
            "instances", "evaluations", "statuses", "credit", "uses", "in team",
            "in population"]
    board = table(head, rows, raw={1, 6}) if rows else '<p class="note">no evaluations yet</p>'
    ranked = report.leaderboard
    others = [op for op in report.operators if op.rank is None]
    parts = [
        "<p>Candidates ranked on the training instances, as <code>ahd leaderboard</code>: those "
        "whose every evaluation succeeded first, then by mean objective of the cooperative team "
        "runs they took part in. Credit and uses are from the last scored round. Rows of the "
        "reported team are highlighted; click an id for its code.</p>",
        board, "<h3>Code of the ranked operators</h3>", *map(_code_block, ranked),
    ]
    if others:
        parts += ["<h3>Other operators of the team and its lineage</h3>",
                  *map(_code_block, others)]
    return "".join(parts)


def _lineage(report: RunReport) -> str:
    if report.team is None:
        return '<p class="note">no team has been scored yet</p>'
    evolved = [op for op in report.operators if op.in_team and op.parents]
    seeds = sorted(cid for cid in report.team.ids if cid not in {n.id for n in report.lineage})
    legend = " ".join(f'<span class="swatch" style="background:{c}"></span>{r}'
                      for r, c in ROLE_COLORS.items())
    intro = (f"<p>Ancestry of the {escape(report.team.label)}'s evolved members (parents from "
             f"the store), generations left to right; team members have a black outline; "
             f"click a node for its code. {legend}</p>")
    if not report.lineage:
        return intro + '<p class="note">the team has no evolved members with ancestors</p>'
    operators = {op.id: op for op in report.operators}
    note = (f"<p>{len(evolved)} evolved member(s); other members without ancestors: "
            f"{', '.join(map(str, seeds)) or 'none'}.</p>")
    return intro + lineage_svg(report.lineage, operators, report.team.ids) + note


def _config(report: RunReport) -> str:
    text = json.dumps({"config": report.config, "versions": report.versions}, indent=2,
                      default=str)
    return f'<pre class="config">{escape(text)}</pre>'


def render_html(report: RunReport) -> str:
    """The whole page for ``report``."""
    figures = _figures(report)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body: dict[str, str] = {
        "summary": summary_section(report),
        "convergence": (figures["convergence_evaluations"] + figures["convergence_cost"]
                        + rounds_table(report)),
        "leaderboard": _leaderboard(report),
        "lineage": _lineage(report),
        "usage": ("<p>How often each operator of the current population was chosen by the "
                  "adaptive LNS in the last scored round, and its credit (improvement per use "
                  "relative to its pool). Below: in which rounds each operator was a member of "
                  "the scored team (from the cooperative evaluations).</p>"
                  + figures["operator_usage"] + figures["membership"]),
        "llm": llm_section(report, figures["llm_usage"]),
        "failures": failures_section(report, figures["failures"]),
        "routes": routes_section(report),
        "planning": planning_section(report),
        "config": _config(report),
    }
    nav = "".join(f'<a href="#{key}">{title}</a>' for key, title in SECTIONS)
    sections = "".join(f'<section id="{key}"><h2>{title}</h2>{body[key]}</section>'
                       for key, title in SECTIONS)
    title = f"ahd report: {report.run_dir.name or report.run_dir}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="data:,"><title>{escape(title)}</title>'
        f"<style>{CSS}{highlight_css()}</style><script>{SCRIPT}</script></head><body>"
        f"<header><h1>{escape(title)}</h1><div class=\"sub\">{escape(str(report.run_dir))} - "
        f"{escape(report.problem)} - generated {stamp}</div></header><nav>{nav}</nav>"
        f'<main>{sections}<p id="report-status">plots not checked yet</p></main></body></html>'
    )


def write_report(report: RunReport, path: str | Path) -> Path:
    """Render and write the page atomically (a reader never sees half a file)."""
    path = Path(path)
    text = render_html(report)
    return write_atomic(path, text, shared=True)  # a report is for sharing

