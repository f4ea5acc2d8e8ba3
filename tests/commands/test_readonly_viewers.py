"""The viewers (``ahd leaderboard``, ``show``, ``export``, ``report``) on run directories they
cannot write to, and on damaged stores.

A viewer must read a finished run from a read-only directory (no ``-wal``/``-shm`` can be
created there) and never change a store: every test compares the run directory's bytes and
listing before and after. The read-only runs go through a subprocess, so that the directory can
be made read-only even for root (see ``tests/helpers/readonly_dir.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from readonly_dir import read_only, read_only_command, snapshot, truly_read_only
from typer.testing import CliRunner

from ahd.candidate import Candidate
from ahd.cli import app
from ahd.store import STORE_FILENAME, Store

runner = CliRunner()

needs_read_only = pytest.mark.skipif(
    not truly_read_only(),
    reason="running as root without the right to make a mount namespace: the directory "
    "cannot be made read-only for the command",
)


@pytest.fixture
def finished_run(scored_run_dir: Path) -> Path:
    """``scored_run_dir`` (seed 1 and its LLM child 2, scored), marked finished and closed."""
    with Store.in_run_dir(scored_run_dir) as store:
        store.open_run()
        store.set_run_status("finished")
    # The last connection to close checkpoints and removes -wal and -shm: a finished run's
    # directory holds the store file alone.
    assert [p.name for p in scored_run_dir.iterdir()] == [STORE_FILENAME]
    return scored_run_dir


# Each viewer: its arguments (RUN and OUT replaced by the run and an output directory) and a
# line of its output that shows it read the store.
VIEWERS = {
    "leaderboard": (["leaderboard", "RUN"], "0.625"),
    "show": (["show", "RUN", "2"], "candidate 2: destroy, repair for cvrp"),
    "export": (["export", "RUN", "2", "--out-dir", "OUT"], "wrote "),
    "report": (["report", "RUN", "--no-routes", "--out", "OUT/report.html"], "wrote "),
}


def _args(args: list[str], run_dir: Path, out_dir: Path) -> list[str]:
    return [str(run_dir) if a == "RUN" else a.replace("OUT", str(out_dir)) for a in args]


@pytest.mark.parametrize("viewer", sorted(VIEWERS))
def test_viewer_reads_a_read_only_run_and_changes_nothing(finished_run, tmp_path, viewer):
    args, expected = VIEWERS[viewer]
    out_dir = tmp_path / "out"
    before = snapshot(finished_run)
    with read_only(finished_run):
        proc = read_only_command(finished_run, _args(args, finished_run, out_dir), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert expected in proc.stdout
    assert "Traceback" not in proc.stderr
    assert snapshot(finished_run) == before  # same bytes, no -wal/-shm left behind
    if viewer == "export":
        [module] = out_dir.glob("*.py")
        assert proc.stdout.strip() == f"wrote {module}"
        assert "# Problem: cvrp   Run: 1   Candidate: 2" in module.read_text()
    if viewer == "report":
        assert "finished" in proc.stderr  # the run's state, read from the store
        assert "<html" in (out_dir / "report.html").read_text()


@needs_read_only
@pytest.mark.parametrize(("args", "message"), [
    (["export", "RUN", "2", "--out-dir", "RUN/generated"],
     "error: cannot write to RUN/generated: the directory RUN is not writable"),
    (["report", "RUN", "--no-routes"],
     "error: cannot write RUN/report.html: the directory RUN is not writable; "
     "write the report elsewhere with --out FILE"),
    (["report", "RUN", "--no-routes", "--out", "OUT/r.html", "--png", "RUN/plots"],
     "error: cannot write the plots to RUN/plots: the directory RUN is not writable"),
])
def test_output_into_the_read_only_run_is_refused_before_the_work(
        finished_run, tmp_path, args, message):
    before = snapshot(finished_run)
    with read_only(finished_run):
        proc = read_only_command(finished_run, [a.replace("RUN", str(finished_run)).replace(
            "OUT", str(tmp_path)) for a in args], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == message.replace("RUN", str(finished_run))
    assert proc.stdout == ""
    assert not (tmp_path / "r.html").exists()  # refused before the report was built
    assert snapshot(finished_run) == before


def _killed_copy(run_dir: Path, dest: Path) -> Path:
    """A copy of ``run_dir`` taken while a writer has the store open, with a candidate that
    is only in the ``-wal`` file: what a run killed mid-way leaves behind."""
    with Store.in_run_dir(run_dir) as store:
        store.open_run()
        store.add_candidate(Candidate("def destroy(inst, sol, n, removed):\n    return 0\n",
                                      ("destroy",), "cvrp", generation=7))
        assert Path(f"{store.path}-wal").stat().st_size > 0
        shutil.copytree(run_dir, dest)
    return dest


@needs_read_only
def test_killed_run_is_read_from_its_wal_in_a_read_only_directory(finished_run, tmp_path):
    killed = _killed_copy(finished_run, tmp_path / "killed")
    before = snapshot(killed)
    with read_only(killed):
        proc = read_only_command(killed, ["show", str(killed), "3"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "candidate 3: destroy for cvrp (run 1, generation 7)" in proc.stdout
    assert snapshot(killed) == before


@needs_read_only
def test_wal_without_its_index_in_a_read_only_directory_is_a_one_line_error(
        finished_run, tmp_path):
    killed = _killed_copy(finished_run, tmp_path / "killed")
    Path(f"{killed / STORE_FILENAME}-shm").unlink()
    before = snapshot(killed)
    with read_only(killed):
        proc = read_only_command(killed, ["leaderboard", str(killed)], tmp_path)
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: {killed / STORE_FILENAME}: ahd.sqlite-wal holds data")
    assert "copy the run directory somewhere writable" in line
    assert snapshot(killed) == before


# ------------------------------------------------------------------------------ damaged stores


def _damage(store_file: Path, kind: str) -> None:
    data = store_file.read_bytes()
    if kind == "missing":
        store_file.unlink()
    elif kind == "not sqlite":
        store_file.write_text("this is not a database\n" * 200)
    elif kind == "truncated":
        store_file.write_bytes(data[: len(data) // 2])
    elif kind == "empty":
        store_file.write_bytes(b"")
    elif kind == "garbled":  # the candidates table's page overwritten: found only when read
        with Store(store_file, readonly=True) as store:
            root, = store.conn.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = 'candidates'").fetchone()
            page_size, = store.conn.execute("PRAGMA page_size").fetchone()
        start = (root - 1) * page_size
        store_file.write_bytes(data[:start] + b"\xff" * page_size + data[start + page_size:])
    else:
        raise ValueError(kind)


@pytest.mark.parametrize("kind", ["missing", "not sqlite", "truncated", "empty", "garbled"])
@pytest.mark.parametrize("viewer", sorted(VIEWERS))
def test_damaged_store_is_a_one_line_error(finished_run, tmp_path, kind, viewer):
    _damage(finished_run / STORE_FILENAME, kind)
    before = snapshot(finished_run)
    args, _ = VIEWERS[viewer]
    res = runner.invoke(app, _args(args, finished_run, tmp_path / "out"))
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit)  # not an exception escaping the command
    [line] = res.output.strip().splitlines()
    assert line.startswith("error: ") and "Traceback" not in line
    assert str(finished_run) in line
    assert snapshot(finished_run) == before
    assert not (tmp_path / "out").exists()
