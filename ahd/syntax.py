"""Parsing Python source from several threads at once.

The loop asks for, checks and mutates candidates in proposal threads while another thread
scores a team, and CPython 3.11 and earlier (gh-106905) keep the AST converter's recursion
depth in interpreter-wide state: two threads in ``ast.parse`` at the same moment can fail with
``SystemError: AST constructor recursion depth mismatch``. Every parse of candidate code goes
through :func:`parse`, which takes one lock; a parse takes milliseconds, so nothing
waits long.
"""

from __future__ import annotations

import ast
import threading

_LOCK = threading.Lock()


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse(source, filename)``, one thread at a time."""
    with _LOCK:
        return ast.parse(source, filename)
