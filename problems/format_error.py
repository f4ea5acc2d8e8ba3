"""The error every benchmark-file reader raises, and reading a file's text into it.

Instance, solution and reference-table files come from users and downloads, so whatever is
wrong with one must reach the command line as one line naming the file, never a traceback:
:class:`InstanceFormatError` is that line, and :func:`read_text` turns the operating system's
and the decoder's errors into it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["InstanceFormatError", "PathLike", "read_text"]

PathLike = str | os.PathLike


class InstanceFormatError(ValueError):
    """A benchmark file (instance, solution or reference table) that cannot be used.

    ``str(error)`` is a single line ``"<file>: <problem>"``, ready to show a user.
    """

    def __init__(self, path: PathLike, problem: str) -> None:
        self.path = str(path)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.path}: {self.problem}")


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``; :class:`InstanceFormatError` when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InstanceFormatError(path, "not a text file (invalid UTF-8)") from exc
    except OSError as exc:
        raise InstanceFormatError(path, f"cannot read file ({exc.strerror or exc})") from exc
