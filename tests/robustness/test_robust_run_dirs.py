"""Damaged run directories: ``ahd leaderboard``, ``show``, ``export`` and ``report`` refuse
each with exit status 2, one ``error:`` line naming the directory or its store and no
traceback, never repair or rewrite the store, and write no export or report."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from robust_cli import Unchanged, assert_refused, invoke


def _truncate(fraction: float):
    def damage(run_dir: Path) -> None:
        db = run_dir / "ahd.sqlite"
        data = db.read_bytes()
        db.write_bytes(data[:int(len(data) * fraction)])
    return damage


def _replace_store(content: bytes):
    def damage(run_dir: Path) -> None:
        (run_dir / "ahd.sqlite").write_bytes(content)
    return damage


def _store_is_a_folder(run_dir: Path) -> None:
    (run_dir / "ahd.sqlite").unlink()
    (run_dir / "ahd.sqlite").mkdir()


def _foreign_sqlite(run_dir: Path) -> None:
    (run_dir / "ahd.sqlite").unlink()
    with sqlite3.connect(run_dir / "ahd.sqlite") as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()


def _future_schema(run_dir: Path) -> None:
    with sqlite3.connect(run_dir / "ahd.sqlite") as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()


def _not_a_folder(run_dir: Path) -> None:
    shutil.rmtree(run_dir)
    run_dir.write_text("a file where the run directory should be\n")


#: id -> (damage, fragment of the error line)
DAMAGES = {
    "missing_directory": (shutil.rmtree, "no such run directory"),
    "run_dir_is_a_file": (_not_a_folder, "run"),
    "no_store": (lambda d: (d / "ahd.sqlite").unlink(), "ahd.sqlite"),
    "store_is_a_folder": (_store_is_a_folder, "ahd.sqlite"),
    "empty_store": (_replace_store(b""), "an empty database, not an ahd store"),
    "store_is_text": (_replace_store(b"hello\n" * 200), "not a usable ahd store"),
    "store_cut_in_half": (_truncate(0.5), "not a usable ahd store"),
    "store_cut_after_header": (_truncate(0.01), "not a usable ahd store"),
    "foreign_sqlite_file": (_foreign_sqlite, "without an ahd schema version"),
    "newer_schema": (_future_schema, "999"),
}
COMMANDS = {
    "leaderboard": lambda run_dir, out: ["leaderboard", run_dir],
    "show": lambda run_dir, out: ["show", run_dir, "1"],
    "export": lambda run_dir, out: ["export", run_dir, "1", "--out-dir", out],
    "report": lambda run_dir, out: ["report", run_dir, "--no-routes", "--out", out / "r.html"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_viewers_refuse_a_damaged_run_directory(scored_run_dir, command, damage):
    hurt, fragment = DAMAGES[damage]
    hurt(scored_run_dir)
    root = scored_run_dir.parent
    out = root / "exports"
    untouched = Unchanged(root)
    outcome = invoke(COMMANDS[command](scored_run_dir, out))
    line = assert_refused(outcome, 2, fragment)
    assert str(scored_run_dir) in line
    untouched.check()  # store not repaired or rewritten, no export, no report
