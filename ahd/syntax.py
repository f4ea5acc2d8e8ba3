"""Parsing Python source from several threads at once, in bounded memory.

The loop asks for, checks and mutates candidates in proposal threads while another thread
scores a team. Two things follow.

- CPython 3.11 and earlier (gh-106905) keep the AST converter's recursion depth in
  interpreter-wide state: two threads in ``ast.parse`` at the same moment can fail with
  ``SystemError: AST constructor recursion depth mismatch``. Every parse of candidate code
  goes through :func:`parse`, which takes one lock. Third-party code parses outside that
  lock (3.11's ``traceback`` parses source lines to place its carets, and libraries log
  tracebacks from their own threads), so :func:`parse` also retries that one error: it
  says nothing about the source.
- A syntax tree takes about 150 times the memory of its source (8.6 MiB for a 59 KB
  operator), in small objects. Python returns such memory to the system only when whole
  arenas empty, so several trees alive at once in different threads raise the parent's
  resident size to their sum and keep it there: an hour-long soak saw the parent grow in
  steps of 15-30 MiB when the proposal threads happened to hold large trees together. Work
  that keeps a tree alive beyond one parse (checking, normalising, mutating a source) runs
  under :func:`exclusive`, so at most one tree is alive at a time, and :func:`parse` refuses
  sources over :data:`MAX_SOURCE_CHARS`, so no single tree is large.
"""

from __future__ import annotations

import ast
import threading
import time

#: Longest source :func:`parse` accepts: 64 KiB, about 16,000 tokens of model output and eight
#: times the largest seed operator pair; its tree takes about 10 MiB.
MAX_SOURCE_CHARS = 65_536

_LOCK = threading.RLock()
#: Attempts at a parse that another thread's unlocked parse disturbed (see the module note).
_RETRIES = 5


class SourceTooLarge(ValueError):
    """A source over :data:`MAX_SOURCE_CHARS`; refused before it is parsed."""


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse(source, filename)``, one thread at a time.

    Raises
    ------
    SourceTooLarge
        When ``source`` is longer than :data:`MAX_SOURCE_CHARS`.
    """
    if len(source) > MAX_SOURCE_CHARS:
        raise SourceTooLarge(
            f"the source is {len(source):,} characters, over the limit of "
            f"{MAX_SOURCE_CHARS:,} for one candidate; shorten it")
    with _LOCK:
        for attempt in range(1, _RETRIES):
            try:
                return ast.parse(source, filename)
            except SystemError as exc:
                if "recursion depth mismatch" not in str(exc):
                    raise
                time.sleep(0.01 * attempt)
        return ast.parse(source, filename)


def exclusive() -> threading.RLock:
    """The parse lock, for ``with``: hold it while a tree lives beyond one :func:`parse`.

    Reentrant, so the work inside may call :func:`parse` and other holders freely.
    """
    return _LOCK
