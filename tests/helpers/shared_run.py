"""One short real offline ``ahd evolve --problem cvrp`` run, made once per test session.

Several test files need a real run: the offline-run test (export, resume), the report tests
and the cluster test (its local reference). Each used to make its own, about a minute each on
two cores. :func:`shared_cvrp_run` makes it once for the whole session, across pytest-xdist
workers: the first worker to ask builds it under a file lock in the session's common temporary
directory, and the others wait and read what it wrote.

The run stops by its budget after round 1 (``round1``, left untouched), then a copy of it is
resumed to round 2 (``resumed``): both the budget stop and the resume are real.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from ahd.store.connection import connect_read_only

#: The run's settings, without ``--rounds`` and ``--jobs`` (the cluster test reuses them).
ARGS = [
    "evolve", "--problem", "cvrp", "--size", "15", "--train", "2", "--validation", "2",
    "--iterations", "80", "--offspring", "2", "--time", "10m", "--overlap",
]


@dataclass(frozen=True)
class SharedRun:
    """The run after round 1 and its resumed copy, with each command's output."""

    round1: Path
    round1_output: str
    resumed: Path
    resume_output: str


def _build(root: Path) -> SharedRun:
    from typer.testing import CliRunner

    from ahd.cli import app

    round1, resumed = root / "round1", root / "resumed"
    first = CliRunner().invoke(app, [*ARGS, "--rounds", "1", "--jobs", "2", "--out",
                                     str(round1)])
    assert first.exit_code == 0, first.output
    shutil.copytree(round1, resumed, symlinks=True)
    second = CliRunner().invoke(app, [*ARGS, "--rounds", "2", "--jobs", "2", "--resume",
                                      str(resumed)])
    assert second.exit_code == 0, second.output
    return SharedRun(round1, first.output, resumed, second.output)


def shared_cvrp_run(root: Path) -> SharedRun:
    """The session's run, built in ``root`` by whichever process asks first.

    ``root`` must be common to the session's processes and new for each session (pytest's
    base temporary directory, or its parent under xdist), so a stale run is never reused.
    """
    root.mkdir(parents=True, exist_ok=True)
    record = root / "cvrp-run.json"
    with open(root / "cvrp-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if record.exists():
            data = json.loads(record.read_text())
            return SharedRun(Path(data["round1"]), data["round1_output"],
                             Path(data["resumed"]), data["resume_output"])
        run = _build(root / "cvrp-run")
        record.write_text(json.dumps({k: str(v) for k, v in asdict(run).items()}))
        return run


def fingerprint(run_dir: Path) -> dict:
    """What two runs of the same settings must share however they ran (resumed or not, on a
    cluster or locally): candidates by id, and every evaluation with its objective."""
    conn = connect_read_only(run_dir / "ahd.sqlite")
    try:
        return {
            "candidates": conn.execute("SELECT id, code_hash, roles, parents, generation FROM "
                                       "candidates ORDER BY id").fetchall(),
            "evaluations": conn.execute(
                "SELECT candidate_id, instance, split, context, status, objective FROM "
                "evaluations ORDER BY candidate_id, instance, split, context").fetchall(),
            "rows": conn.execute("SELECT count(*) FROM evaluations").fetchone()[0],
        }
    finally:
        conn.close()
