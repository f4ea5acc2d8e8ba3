"""The evaluation's report: markdown tables, CSV files and a cactus plot.

Written from the results store alone, so a report can be made for a finished, running or
interrupted evaluation. Files (in the evaluation folder):

- ``report.md``: coverage, IPC quality and agile scores per domain and split, outcome counts
  per planner, and the reasons of invalid plans and errors;
- ``runs.csv``: one row per run with its scores; ``summary.csv``: the sums per group;
- ``cactus.png``: tasks solved within a time, one line per planner.
"""

from __future__ import annotations

import csv
import math
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from .results import STATUSES, RunRecord
from .scores import GroupScore, TaskScore, best_known_costs, score_runs, summarize
from .suite import Task

__all__ = ["Report", "machine_line"]

#: Failures listed with their reasons in ``report.md`` (per planner).
MAX_LISTED = 8


def machine_line() -> str:
    """CPU, cores and the versions that decide planning results (a table header line)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    libs = []
    for pkg in ("ahd", "up-fast-downward", "pyperplan", "unified-planning"):
        try:
            libs.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            libs.append(f"{pkg} -")
    return f"{cpu}, {cores} cores; Python {platform.python_version()}, {', '.join(libs)}"


def _fmt(x: float) -> str:
    return f"{x:.2f}"


@dataclass
class Report:
    """Scores of an evaluation, ready to be written.

    Parameters
    ----------
    records : sequence of RunRecord
        The runs to report.
    planners : mapping of str to str
        ``label -> spec``, in column order.
    time_limit : float
        The evaluation's time limit (agile score, cactus axis).
    tasks : sequence of Task, optional
        The selected tasks: a planner that did not run on some (no heuristic file for the
        domain) shows ``solved/run``; default the tasks in ``records``.
    reference : mapping of str to float, optional
        Reference costs by task key.
    settings : mapping, optional
        Shown in the header (limits, jobs, suite).
    invalid_zeroes_domain : bool
        Apply the IPC rule for invalid plans (see :mod:`.scores`).
    notes : sequence of str
        Extra header lines (unavailable planners, ...).
    """

    records: Sequence[RunRecord]
    planners: Mapping[str, str]
    time_limit: float
    tasks: Sequence[Task] | None = None
    reference: Mapping[str, float] | None = None
    settings: Mapping[str, object] = field(default_factory=dict)
    invalid_zeroes_domain: bool = False
    notes: Sequence[str] = ()

    def __post_init__(self) -> None:
        self.scores: list[TaskScore] = score_runs(
            self.records, self.time_limit, self.reference, self.invalid_zeroes_domain)
        self.groups: dict[tuple[str, str, str], GroupScore] = {
            (g.planner, g.domain, g.split): g for g in summarize(self.scores)}
        if self.tasks is None:
            seen: dict[str, tuple[str, str]] = {}
            for r in self.records:
                seen.setdefault(r.task, (r.domain, r.split))
            self._task_groups = list(seen.values())
        else:
            self._task_groups = [(t.domain, t.split) for t in self.tasks]
        self.group_keys = list(dict.fromkeys(self._task_groups))
        self.best = best_known_costs(self.records, self.reference)

    # ----------------------------------------------------------------------- tables

    def _table(self, metric: str) -> list[list[str]]:
        labels = list(self.planners)
        rows = [["domain", "split", "tasks", *labels]]
        for domain, split in [*self.group_keys, ("total", "all")]:
            n = (len(self._task_groups) if domain == "total"
                 else self._task_groups.count((domain, split)))
            row = [f"**{domain}**" if domain == "total" else domain,
                   "" if domain == "total" else split, str(n)]
            for label in labels:
                g = self.groups.get((label, domain, split))
                if g is None:
                    row.append("–")
                elif metric == "coverage":
                    row.append(str(g.solved) if g.runs == n else f"{g.solved}/{g.runs}")
                else:
                    row.append(_fmt(getattr(g, metric)))
            rows.append(row)
        return rows

    def _outcomes(self) -> list[list[str]]:
        rows = [["planner", *STATUSES, "not run"]]
        n_tasks = len(self._task_groups)
        for label in self.planners:
            mine = [r for r in self.records if r.planner == label]
            counts = [sum(r.status == s for r in mine) for s in STATUSES]
            rows.append([label, *map(str, counts), str(max(0, n_tasks - len(mine)))])
        return rows

    def markdown(self) -> str:
        """The whole ``report.md`` text."""
        lines = ["# Planning evaluation", ""]
        if self.settings:
            lines.append("Settings: " + ", ".join(f"{k} {v}" for k, v in self.settings.items()))
            lines.append("")
        lines += [f"Machine: {machine_line()}", ""]
        lines.append("Planners: " + "; ".join(
            f"`{label}`" + ("" if spec == label else f" = `{spec}`")
            for label, spec in self.planners.items()))
        lines.append("")
        ref = self.reference or {}
        with_ref = sum(1 for t in {r.task for r in self.records} if t in ref)
        lines.append(
            f"Quality reference: {with_ref} of {len({r.task for r in self.records})} tasks "
            "have a reference cost (upper_bounds.json); the others use the best cost found in "
            "this evaluation. Agile: 1 − log T / log "
            f"{self.time_limit:g} (1 for T ≤ 1 s), T = wall-clock seconds of the run."
            + (" Invalid plans zero their planner's domain (IPC rule)."
               if self.invalid_zeroes_domain else " An invalid plan scores 0 on its task.")
        )
        lines += [f"Note: {n}" for n in self.notes]
        for title, metric in (("Coverage (tasks solved)", "coverage"),
                              ("IPC quality score (sum)", "quality"),
                              ("IPC agile score (sum)", "agile")):
            lines += ["", f"## {title}", "", *_markdown_table(self._table(metric))]
        lines += ["", "## Outcomes", "", *_markdown_table(self._outcomes())]
        failures = self._failures()
        if failures:
            lines += ["", "## Invalid plans and errors", "", *failures]
        return "\n".join(lines) + "\n"

    def _failures(self) -> list[str]:
        out = []
        for label in self.planners:
            bad = [r for r in self.records if r.planner == label
                   and r.status in ("invalid", "unvalidated", "error", "unavailable")]
            for r in bad[:MAX_LISTED]:
                out.append(f"- `{label}` {r.task}: {r.status}: {(r.error or '').strip()[:300]}")
            if len(bad) > MAX_LISTED:
                out.append(f"- `{label}`: {len(bad) - MAX_LISTED} more")
        return out

    # ------------------------------------------------------------------------ files

    def write_csv(self, out_dir: Path) -> tuple[Path, Path]:
        """``runs.csv`` and ``summary.csv``."""
        runs_path, summary_path = out_dir / "runs.csv", out_dir / "summary.csv"
        by_key = {(s.planner, s.task): s for s in self.scores}
        with open(runs_path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["planner", "task", "domain", "split", "status", "cost", "best_known",
                        "quality", "agile", "time", "cpu_time", "expanded", "peak_mb",
                        "returncode", "error"])
            for r in self.records:
                s = by_key[(r.planner, r.task)]
                w.writerow([r.planner, r.task, r.domain, r.split, r.status, _num(r.cost),
                            _num(self.best.get(r.task)), f"{s.quality:.4f}", f"{s.agile:.4f}",
                            f"{r.time:.3f}", _num(r.cpu_time), _num(r.expanded),
                            _num(r.peak_mb), _num(r.returncode), r.error or ""])
        with open(summary_path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["planner", "domain", "split", "tasks", "runs", "solved", "quality",
                        "agile"])
            for domain, split in [*self.group_keys, ("total", "all")]:
                n = (len(self._task_groups) if domain == "total"
                     else self._task_groups.count((domain, split)))
                for label in self.planners:
                    g = self.groups.get((label, domain, split))
                    if g is not None:
                        w.writerow([label, domain, split, n, g.runs, g.solved,
                                    f"{g.quality:.4f}", f"{g.agile:.4f}"])
        return runs_path, summary_path

    def write_cactus(self, path: Path) -> Path:
        """Tasks solved within a time (log scale), one step line per planner."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        fig = Figure(figsize=(7.0, 4.2), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        solved = [r.time for r in self.records if r.solved and r.time > 0]
        lo = 10.0 ** math.floor(math.log10(min([0.1, *solved])))
        for label in self.planners:
            times = sorted(max(lo, r.time) for r in self.records
                           if r.planner == label and r.solved)
            xs = [lo, *times, self.time_limit]
            ys = [0, *range(1, len(times) + 1), len(times)]
            ax.step(xs, ys, where="post", label=f"{label} ({len(times)})")
        ax.set_xscale("log")
        ax.set_xlim(lo, max(self.time_limit, lo * 10))
        ax.set_xlabel("time (s, wall clock)")
        ax.set_ylabel("tasks solved")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(f"Tasks solved within a time ({len(self._task_groups)} tasks, "
                     f"limit {self.time_limit:g} s)")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize="small")
        fig.savefig(path, dpi=120)
        return path

    def write(self, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
        """Write every report file into ``out_dir``; returns name -> path."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        md = out / "report.md"
        md.write_text(self.markdown())
        runs, summary = self.write_csv(out)
        return {"markdown": md, "runs": runs, "summary": summary,
                "cactus": self.write_cactus(out / "cactus.png")}


def _num(x: float | int | None) -> str:
    if x is None:
        return ""
    return str(x) if isinstance(x, int) else f"{x:.6g}"


def _markdown_table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(r: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"

    return [line(rows[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
            *(line(r) for r in rows[1:])]
