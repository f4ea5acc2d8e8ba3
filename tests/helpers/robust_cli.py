"""Running ``ahd`` on bad input and checking that it failed the way a user should see it.

Every refusal must be: the expected exit status, no traceback, exactly one ``error:`` line on
standard error (naming the file or option and the problem), and nothing changed on disk that
the command was not asked to change. :func:`invoke` runs the real command line in this process
(typer's ``CliRunner`` on ``ahd.cli.app``: the same code path as the console script, at a
fraction of the start-up cost); :func:`outcome_of` takes a subprocess's result for the cases
that need a process of their own (a read-only mount namespace, signals).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path

from readonly_dir import snapshot


@dataclass
class Outcome:
    """How one command ended."""

    code: int
    stdout: str
    stderr: str
    #: An exception the command let escape (``None`` for a clean exit, whatever its status).
    escaped: BaseException | None = None

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]


def invoke(args: list[str]) -> Outcome:
    """``ahd ARGS`` in this process (use absolute paths: the working folder is the test's)."""
    from typer.testing import CliRunner

    from ahd.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    escaped = result.exception
    if isinstance(escaped, SystemExit):
        escaped = None
    return Outcome(result.exit_code, result.stdout, result.stderr, escaped)


def outcome_of(returncode: int, stdout: str, stderr: str) -> Outcome:
    """An :class:`Outcome` from a subprocess's exit status and output."""
    return Outcome(returncode, stdout, stderr)


def _where(outcome: Outcome) -> str:
    return (f"exit {outcome.code}\nstdout: {outcome.stdout[-2000:]}\n"
            f"stderr: {outcome.stderr[-2000:]}")


def assert_refused(outcome: Outcome, code: int, *fragments: str) -> str:
    """The command failed with ``code``, no traceback and one ``error:`` line holding every
    fragment; returns that line."""
    where = _where(outcome)
    if outcome.escaped is not None:
        trace = "".join(traceback.format_exception(outcome.escaped))
        raise AssertionError(f"the command raised instead of refusing:\n{trace}\n{where}")
    assert "Traceback" not in outcome.stdout + outcome.stderr, where
    assert outcome.code == code, where
    lines = outcome.error_lines
    assert len(lines) == 1, where
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def assert_clean_success(outcome: Outcome) -> None:
    """The command ended with status 0, no traceback and no ``error:`` line."""
    where = _where(outcome)
    assert outcome.escaped is None, where
    assert outcome.code == 0 and not outcome.error_lines, where
    assert "Traceback" not in outcome.stdout + outcome.stderr, where


class Unchanged:
    """Snapshot of a folder, to check afterwards that a refused command left it as it was
    (inputs byte for byte, and no new file, not even a partial output)."""

    def __init__(self, folder: Path, ignore: tuple[str, ...] = ()) -> None:
        self.folder = folder
        #: Top-level names a command may add (``__pycache__``: Python's and numba's caches
        #: beside an imported file, by design).
        self.ignore = ignore
        self.before = self._snapshot()

    def _snapshot(self) -> dict[str, str]:
        return {k: v for k, v in snapshot(self.folder).items()
                if Path(k).parts[0] not in self.ignore}

    def check(self) -> None:
        after = self._snapshot()
        added = sorted(set(after) - set(self.before))
        removed = sorted(set(self.before) - set(after))
        changed = sorted(k for k in set(after) & set(self.before) if after[k] != self.before[k])
        assert not (added or removed or changed), (
            f"{self.folder} changed: added {added}, removed {removed}, changed {changed}")
