"""Output paths given on a command line: refused before the work, and never losing a result.

A command that searches for minutes and then cannot write its ``--out`` file (a directory of
that name, a path under a regular file, a read-only disk) has wasted the search and, if the
write raises, printed a traceback instead of the result. So commands check their output path
before they start (:func:`check_output_file`, :func:`check_output_dir`), by really creating a
file where the output will go: permission bits say nothing for root, while a read-only mount
or a full disk refuses root too. The final write (:func:`write_result`) is atomic, so a failed
write leaves no partial file; if it still fails, the result goes to standard output instead
and the caller says where it could not be written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .files import write_atomic

__all__ = ["OutputPathError", "check_output_dir", "check_output_file", "write_result"]


class OutputPathError(ValueError):
    """An output path that cannot be written; ``str(error)`` is one line naming it."""


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _first_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists (the current folder for a relative one)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _probe_writable(folder: Path, label: str) -> None:
    """Create and remove a file in ``folder``: the only test that holds for root as well."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".ahd-write-test.", dir=folder)
    except OSError as exc:
        raise OutputPathError(f"{label}: cannot write in {folder} ({_reason(exc)})") from None
    os.close(fd)
    os.unlink(tmp)


def _make_folder(folder: Path, label: str) -> None:
    """Create ``folder`` (and its parents), or say in one line why it cannot be."""
    if folder.is_dir():
        return
    blocker = _first_existing(folder)
    if blocker.exists() and not blocker.is_dir():
        raise OutputPathError(f"{label}: {blocker} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"{label}: cannot create folder {folder} ({_reason(exc)})"
                              ) from None


def check_output_file(path: Path, option: str = "--out") -> None:
    """Refuse, before any work, an output file path that could not be written.

    Creates the missing parent folders (as the final write would) and writes a probe file
    next to where the output goes.

    Raises
    ------
    OutputPathError
        ``"--out PATH: is a folder"``, ``"... is a file, not a folder"``, ``"cannot write in
        FOLDER (Read-only file system)"`` ...
    """
    path = Path(path)
    label = f"{option} {path}"
    if path.is_dir():
        raise OutputPathError(f"{label}: is a folder, not a file")
    parent = path.parent
    _make_folder(parent, label)
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(f"{label}: the file exists and is not writable")
    _probe_writable(parent, label)


def check_output_dir(path: Path, option: str = "--out") -> None:
    """Refuse, before any work, an output folder that could not be written (created if
    missing, as the command would)."""
    path = Path(path)
    label = f"{option} {path}"
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{label}: is a file, not a folder")
    _make_folder(path, label)
    _probe_writable(path, label)


def write_result(path: Path, text: str) -> str | None:
    """Write ``text`` to ``path`` atomically; on failure print it to standard output.

    Returns
    -------
    str or None
        ``None`` when written; else why not (one line), for the caller's ``error:`` line. The
        result then is on standard output, and no partial file is left at ``path``.
    """
    try:
        write_atomic(path, text, shared=True)
    except OSError as exc:
        print(text, end="" if text.endswith("\n") else "\n", flush=True)
        return (f"could not write {path} ({_reason(exc)}); the result is printed above "
                "instead")
    return None
