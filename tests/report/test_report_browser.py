"""End to end: the report opens in headless Chromium with no network, no console message and
every plot rendered.

Chromium is Debian's ``chromium`` (``.ci/run`` installs it when missing). The page's own script
writes the number of plots (PNG images that decoded, SVGs with drawn content) and of script
errors into ``#report-status``; ``--dump-dom`` returns the DOM after the scripts ran, and
``--enable-logging=stderr`` prints every console message as a ``CONSOLE`` line. The page logs
nothing itself, so any such line is a failure.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ahd.report import collect_run, write_report

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
]
CONSOLE = re.compile(r":CONSOLE[:(]")
STATUS = re.compile(r'<p id="report-status"([^>]*)>([^<]*)</p>')


def _chromium() -> str:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        pytest.skip("chromium not found (.ci/run installs Debian's chromium: "
                    "apt-get install -y chromium)")
    return path


def open_in_chromium(page: Path, profile: Path) -> tuple[dict[str, str], str, list[str]]:
    """Load ``page``; return the status element's attributes, its text, and console lines."""
    proc = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
         page.resolve().as_uri()],
        capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    match = STATUS.search(proc.stdout)
    assert match, f"no #report-status in the DOM:\n{proc.stdout[:2000]}"
    attrs = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', match.group(1)))
    console = [line for line in proc.stderr.splitlines() if CONSOLE.search(line)]
    return attrs, match.group(2), console


def _check(page: Path, profile: Path, min_plots: int) -> None:
    attrs, text, console = open_in_chromium(page, profile)
    assert console == [], console
    assert attrs.get("data-errors") == "0", text
    plots = int(attrs.get("data-plots", "0"))
    assert plots >= min_plots, text
    assert attrs.get("data-rendered") == str(plots), text


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_real_run_report_renders_in_chromium(real_run, report_app, page_text, tmp_path):
    run_dir, _ = real_run
    out = tmp_path / "report.html"
    result = CliRunner().invoke(report_app, ["report", str(run_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    # convergence, usage, membership (images); lineage and routes (SVG)
    _check(out, tmp_path / "profile", min_plots=5)
    assert "routes" in page_text(out.read_text())


def test_llm_run_report_renders_in_chromium(synthetic_run, tmp_path):
    run_dir = synthetic_run(tmp_path / "run")
    page = write_report(collect_run(run_dir, routes=False), tmp_path / "report.html")
    # both convergences, usage, membership, LLM usage, failures (images); lineage (SVG)
    _check(page, tmp_path / "profile", min_plots=7)


def test_a_broken_plot_is_caught(synthetic_run, tmp_path):
    """The check itself: a plot that does not decode and a script error are reported."""
    run_dir = synthetic_run(tmp_path / "run", llm=False)
    page = write_report(collect_run(run_dir, routes=False), tmp_path / "report.html")
    text = page.read_text()
    text = text.replace('src="data:image/png;base64,', 'src="data:image/png;base64,AAAA', 1)
    text = text.replace("</main>", "<script>undefinedFunction();</script></main>")
    page.write_text(text)
    attrs, status, console = open_in_chromium(page, tmp_path / "profile")
    assert int(attrs["data-rendered"]) == int(attrs["data-plots"]) - 1, status
    assert attrs["data-errors"] == "1" and "undefinedFunction" in status
    assert any("undefinedFunction" in line for line in console)
