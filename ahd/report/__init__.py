"""Reports of ``ahd evolve`` runs: one self-contained HTML page and PNG plots.

- :func:`collect_run`: read a run directory (finished, running or killed) into a
  :class:`RunReport`, read-only;
- :func:`render_html` / :func:`write_report`: the page (inline CSS, JS, SVG and images);
- :func:`write_pngs`: the same plots as PNG files (matplotlib, Agg).
"""

from .data import collect_run
from .html import render_html, write_report
from .model import ReportError, RunReport
from .plots import write_pngs

__all__ = ["ReportError", "RunReport", "collect_run", "render_html", "write_pngs",
           "write_report"]
