"""What the read-only viewers (``ahd leaderboard``, ``show``, ``export``, ``report``) share.

The viewers open a run's store read-only (see :func:`ahd.store.read_only_uri`) and write
nothing but the output the user asked for. Two things follow for their command lines:

- the output path is checked before the work, so an export into a read-only run directory, or
  a report that would take a minute to build, fails at once with one line instead of after
  the work (or with a traceback from deep inside it);
- a store that opens but cannot be read (a damaged page, a file cut short) is one line too:
  SQLite only finds such damage when a query reaches it, long after the store was opened.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def output_problem(path: Path, directory: bool) -> str | None:
    """Why ``path`` cannot be written, or ``None`` when it can (as far as can be told now).

    Parameters
    ----------
    path
        Where the viewer will write.
    directory
        ``True`` when ``path`` is a directory to write files into (``export --out-dir``,
        ``report --png``), created with its parents when missing. ``False`` when it is a file,
        written atomically through a temporary file beside it (:func:`ahd.files.write_atomic`):
        then its directory must be writable, not the file itself.

    Returns
    -------
    str or None
        A reason that completes ``cannot write PATH: ...``, or ``None``.
    """
    if directory and path.exists() and not path.is_dir():
        return "it is not a directory"
    if not directory and path.is_dir():
        return "it is a directory"
    existing = path if directory else path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent  # the directory the missing ones will be created in
    if not existing.is_dir():
        return f"{existing} is not a directory"
    # os.access sees read-only mounts (EROFS) too, and the effective user's permissions.
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"the directory {existing} is not writable"
    return None


def unreadable_store(store_file: Path, exc: sqlite3.DatabaseError) -> str:
    """The one-line message for a store that opened but failed while being read."""
    return f"{store_file}: cannot read the store ({exc}); is the file damaged?"
