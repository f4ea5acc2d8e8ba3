"""SIGTERM ends a command the way Ctrl-C does: state saved, one line, a conventional status.

``kill PID``, a batch system's time limit (Slurm sends SIGTERM before SIGKILL) and ``docker
stop`` all send SIGTERM, which Python's default turns into an immediate exit: a run would stay
marked ``running`` and lose the round in flight. :func:`install` makes SIGTERM raise
:class:`Terminated`, a :class:`KeyboardInterrupt`, so every ``except KeyboardInterrupt`` path
(record why the run stopped, stop the sandboxes, print one line) handles it too.
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable
from typing import Any


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM."""


def _raise(signum: int, frame: Any) -> None:
    raise Terminated()


def install() -> None:
    """Let SIGTERM raise :class:`Terminated` in the main thread (a no-op in another thread,
    where Python cannot set handlers: the CLI run from a library's worker thread)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise)


def what(exc: BaseException) -> str:
    """``"SIGTERM"`` or ``"Ctrl-C"``: what stopped the command, for its message."""
    return "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C"


def exit_status(exc: BaseException) -> int:
    """The shell's convention: 128 + the signal's number (143 for SIGTERM, 130 for Ctrl-C)."""
    return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)


def interruptible(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` ending in one ``error: interrupted (...)`` line and 130 (or 143) when Ctrl-C
    or SIGTERM reaches it: typer would otherwise turn the interrupt into a silent exit 130,
    and a SIGTERM into the wrong status. A command that handles the interrupt itself (to
    save a run, say) keeps its own message."""
    import typer

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt as exc:
            typer.echo(f"error: interrupted ({what(exc)})", err=True)
            raise typer.Exit(exit_status(exc)) from None

    return run
