"""HTML of the report's tabular sections: summary, rounds, LLM calls, failures, routes and
planning coverage. Numbers are formatted here once, so every table shows them alike."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from html import escape
from typing import Any

from .model import RunReport
from .svg import routes_svg

#: What each of the loop's failure counters (``state.json`` ``failures``) means.
FAILURE_KINDS = {
    "proposer": "the proposer returned no code",
    "static": "the static check rejected the code",
    "duplicate": "the code was already in the population or a scored team",
    "smoke": "the smoke run (alone with seed partners, small instance) failed",
    "team": "the team run failed with the newcomers and was rescored without them",
}


def fmt(value: Any) -> str:
    """One number or text as a table shows it: 6 significant digits, ``-`` for nothing."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.6g}"
    return str(value)


def table(head: Sequence[str], rows: Sequence[tuple[Sequence[Any], str]],
          raw: set[int] = frozenset()) -> str:
    """An HTML table; ``rows`` are ``(cells, css class)``; columns in ``raw`` are HTML."""
    out = ['<div class="table-wrap"><table>']
    if any(head):
        out += ["<thead><tr>", *(f"<th>{escape(h)}</th>" for h in head), "</tr></thead>"]
    out.append("<tbody>")
    for cells, css in rows:
        out.append(f'<tr class="{css}">' if css else "<tr>")
        for i, cell in enumerate(cells):
            number = isinstance(cell, (int, float)) and not isinstance(cell, bool)
            text = str(cell) if i in raw else escape(fmt(cell))
            out.append(f'<td class="num">{text}</td>' if number else f"<td>{text}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _pairs(items: Sequence[tuple[str, Any]]) -> str:
    return table(["", ""], [([k, v], "") for k, v in items])


def summary_section(report: RunReport) -> str:
    """Status, settings, spent budget and the seed team against the reported team."""
    task = dict(report.config.get("task") or {})
    spent = report.spent
    status = report.status
    llm = report.llm_totals
    tokens = llm.get("prompt_tokens", 0) + llm.get("completion_tokens", 0)
    items: list[tuple[str, Any]] = [
        ("run directory", str(report.run_dir)), ("problem", report.problem),
        ("started", report.created), ("model", report.config.get("model") or "offline GP"),
        ("instances", f"size {task.get('size', '-')}, {task.get('n_train', '-')} training, "
                      f"{task.get('n_validation', '-')} validation, seed {task.get('seed', '-')}"
                      + (f", files from {task['instances_dir']}"
                         if task.get("instances_dir") else "")),
        ("LNS iterations per run", task.get("iterations")),
        ("rounds done", report.round), ("stopped because", report.stop or "-"),
        ("evaluations (LNS runs)", spent.get("evaluations")),
        ("wall time (s)", spent.get("seconds")),
        ("LLM calls / tokens / cost (USD)",
         f"{llm.get('calls', 0)} / {tokens} / {llm.get('cost', 0.0):.4f}"),
        ("seed team (training / validation)",
         f"{fmt(report.seed_train)} / {fmt(report.seed_validation)}"),
    ]
    team = report.team
    if team is not None:
        gain = ""
        if report.validation_gain is not None and team.label == "winner":
            pct, se = report.validation_gain
            gain = (f" ({pct:+.2f}% ± {se:.2f}% standard error vs the seed team, instance by "
                    "instance on validation)")
        elif team.validation is not None and report.seed_validation:
            pct = 100.0 * (report.seed_validation - team.validation) / report.seed_validation
            gain = f" ({pct:+.2f}% vs the seed team on validation)"
        items.append((f"{team.label}, round {team.round} (training / validation)",
                      f"{fmt(team.train)} / {fmt(team.validation)}{gain}"))
        members = "; ".join(f"{role}: {', '.join(map(str, ids))}"
                            for role, ids in team.members.items())
        items.append(("team members", members))
        if team.exported:
            items.append(("exported module", team.exported))
    badge = f'<span class="badge {escape(status.state)}">{escape(status.state)}</span>'
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    return (f"<p>{badge} {escape(status.detail)}</p>{_pairs(items)}"
            + (f'<ul class="notes">{notes}</ul>' if notes else ""))


def rounds_table(report: RunReport) -> str:
    """One row per scored team: effort spent so far and its fitness."""
    if not report.rounds:
        return '<p class="note">no team has been scored yet</p>'
    team_round = report.team.round if report.team else None
    rows = [([p.round, p.evaluations, p.calls, p.tokens, round(p.cost, 6), p.fitness, p.best,
              p.validation, sum(len(ids) for ids in p.members.values())],
             "team" if p.round == team_round else "") for p in report.rounds]
    head = ["round", "evaluations", "LLM calls", "tokens", "cost (USD)", "team objective",
            "best so far", "validation", "members"]
    return (f"<p>Team fitness per round (from {escape(report.rounds_source)}); evaluations, "
            "calls, tokens and cost are cumulative up to the round's scoring.</p>"
            + table(head, rows))


def llm_section(report: RunReport, figure: str) -> str:
    """Totals from the store, a breakdown by model, and the calls over time."""
    if not report.llm_calls:
        return ('<p class="note">offline run: no LLM calls were made (the offline GP proposer '
                "needs none), so there are no calls, tokens or cost to show.</p>"
                if not report.config.get("model") else
                '<p class="note">no LLM calls recorded yet.</p>')
    totals = report.llm_totals
    by_model: dict[str, list[Any]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0.0, []])
    for c in report.llm_calls:
        row = by_model[c.model]
        row[0] += 1
        row[1] += c.cached
        row[2] += c.status != "ok"
        row[3] += c.prompt_tokens
        row[4] += c.completion_tokens
        row[5] += c.cost
        if c.latency is not None and not c.cached:
            row[6].append(c.latency)
    rows = [([model, *r[:5], round(r[5], 6),
              sum(r[6]) / len(r[6]) if r[6] else None], "") for model, r in by_model.items()]
    rows.append((["all (store totals)", totals["calls"], totals["cached"], "",
                  totals["prompt_tokens"], totals["completion_tokens"],
                  round(totals["cost"], 6), None], "team"))
    head = ["model", "calls", "cached", "failed", "prompt tokens", "completion tokens",
            "cost (USD)", "mean latency (s)"]
    return table(head, rows) + figure


def failures_section(report: RunReport, figure: str) -> str:
    """The loop's counters, the stored runs by stage and status, and recent error messages."""
    f = report.failures
    parts = []
    if f.kinds:
        parts.append(table(["kind", "count", "meaning"],
                           [([k, n, FAILURE_KINDS.get(k, "")], "")
                            for k, n in sorted(f.kinds.items())]))
    else:
        parts.append('<p class="note">no failed proposals counted by the loop</p>')
    stages = sorted(f.statuses)
    statuses = sorted({s for by in f.statuses.values() for s in by})
    if stages:
        parts.append("<p>Runs recorded in the store, by stage and status. A team run counts "
                     "once; successful smoke runs are not stored; validation counts instances, "
                     "since the store keeps one validation record per operator and instance.</p>")
        parts.append(table(["stage", *statuses],
                           [([st, *[f.statuses[st].get(s, 0) for s in statuses]], "")
                            for st in stages]))
    parts.append(figure)
    for ex in f.examples:
        parts.append(f'<details class="code"><summary>{escape(ex.stage)} {escape(ex.status)} '
                     f"of candidate {ex.candidate_id}: "
                     f"{escape(ex.error.strip().splitlines()[0][:160])}</summary>"
                     f'<pre class="error">{escape(ex.error)}</pre></details>')
    return "".join(parts)


def routes_section(report: RunReport) -> str:
    """The team's routes on the first validation instance, or why they are not drawn."""
    r = report.routes
    if r is None:
        if not report.draws_solutions:
            return '<p class="note">this problem draws no solutions</p>'
        if report.team is None:
            return '<p class="note">no team has been scored yet</p>'
        return '<p class="note">routes not computed (ahd report --no-routes)</p>'
    if not r.routes:
        return (f'<p class="note">routes of the {escape(r.team)} on {escape(r.instance)} could '
                f"not be computed: {escape(r.error or 'unknown reason')}</p>")
    check = ""
    if r.stored is not None and r.cost is not None:
        same = math.isclose(r.cost, r.stored, rel_tol=1e-9, abs_tol=1e-9)
        check = (f"; stored validation record {fmt(r.stored)} "
                 + ("(reproduced)" if same else "(differs: the run was not reproduced)"))
    return (f"<p>The {escape(r.team)} re-run in the sandbox with the run's LNS settings on the "
            f"first validation instance <b>{escape(r.instance)}</b>: cost "
            f"<b>{fmt(r.cost)}</b>, {len([x for x in r.routes if x])} routes{check}.</p>"
            + routes_svg(r))


def planning_section(report: RunReport) -> str:
    """Coverage per task for planning runs; routing runs have none."""
    if report.coverage is None:
        return ('<p class="note">not a planning run: coverage per task is shown for planning '
                "runs.</p>")
    if not report.coverage:
        return '<p class="note">no planning evaluations recorded yet.</p>'
    rows = [([c.split, c.instance, c.solved, c.total,
              f"{100.0 * c.solved / c.total:.0f}%" if c.total else "-"], "")
            for c in report.coverage]
    return table(["split", "task", "solved", "evaluations", "coverage"], rows)
