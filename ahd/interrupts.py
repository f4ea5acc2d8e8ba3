"""SIGTERM ends a command the way Ctrl-C does: state saved, one line, a conventional status.

``kill PID``, a batch system's time limit (Slurm sends SIGTERM before SIGKILL) and ``docker
stop`` all send SIGTERM, which Python's default turns into an immediate exit: a run would stay
marked ``running`` and lose the round in flight. :func:`install` makes SIGTERM raise
:class:`Terminated`, a :class:`KeyboardInterrupt`, so every ``except KeyboardInterrupt`` path
(record why the run stopped, stop the sandboxes, print one line) handles it too.

An interrupt can also arrive while Python runs code that C called back (numba's compiler
reports each compiled object to llvmlite through a ctypes callback): Python cannot raise out
of a callback, prints the interrupt as an "Exception ignored" traceback and carries on, so
the user's Ctrl-C would be lost and the run would go to the end. :func:`install` turns such a
swallowed interrupt into the same signal again, delivered once the callback has returned.
"""

from __future__ import annotations

import functools
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM."""


#: The interrupts the handlers below raised in this process: ``[count, last was SIGTERM]``.
_raised: list = [0, False]


def _raise(signum: int, frame: Any) -> None:
    _raised[0] += 1
    _raised[1] = signum == signal.SIGTERM
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def install() -> None:
    """Let SIGTERM raise :class:`Terminated` in the main thread (and Ctrl-C its usual
    KeyboardInterrupt, counted: see :func:`raise_if_lost`), and re-deliver an interrupt that a
    C callback swallowed (a no-op in another thread, where Python cannot set handlers: the CLI
    run from a library's worker thread)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise)
        signal.signal(signal.SIGINT, _raise)
        sys.unraisablehook = functools.partial(_redeliver, sys.unraisablehook)


def raise_if_lost() -> None:
    """Raise the interrupt again if one was raised before and something swallowed it.

    Called as a command starts: an interrupt raised during start-up ends the process before
    that, unless code it passed through caught it and carried on (a library's ``except:``
    around an import, say), which once let a Ctrl-C 0.3 s into ``ahd evolve`` run the whole
    evolution and exit 0.
    """
    if _raised[0]:
        raise Terminated() if _raised[1] else KeyboardInterrupt()


#: Seconds before a swallowed interrupt is sent again: long enough for the C code that made
#: the callback to return to Python, short enough that the user sees no delay.
REDELIVER_AFTER = 0.05


def _redeliver(fallback: Callable[[Any], None], unraisable: Any) -> None:
    """Send a swallowed Ctrl-C or SIGTERM again from a helper thread (so that it reaches the
    main thread outside this hook, which cannot raise either); pass anything else on."""
    exc_type = unraisable.exc_type
    if not (isinstance(exc_type, type) and issubclass(exc_type, KeyboardInterrupt)):
        fallback(unraisable)
        return
    signum = signal.SIGTERM if issubclass(exc_type, Terminated) else signal.SIGINT
    # A real signal to the main thread, not _thread.interrupt_main(), which only sets a
    # flag: a main thread blocked in a system call (a sleep, a wait) would not see it.
    main = threading.main_thread().ident
    timer = threading.Timer(REDELIVER_AFTER, signal.pthread_kill, args=(main, signum))
    timer.daemon = True
    timer.start()


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
            raise_if_lost()
            return command(*args, **kwargs)
        except KeyboardInterrupt as exc:
            typer.echo(f"error: interrupted ({what(exc)})", err=True)
            raise typer.Exit(exit_status(exc)) from None

    return run
