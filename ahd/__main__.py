"""``ahd`` and ``python -m ahd``: the command line, with Ctrl-C or SIGTERM ending it in one line.

The console script points here rather than at :mod:`ahd.cli`: importing the CLI loads numpy,
numba and every registered plugin (about a second), and a Ctrl-C in that second would otherwise
print a traceback from whatever module was being imported.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Import and run the CLI; exit 130 with one line on Ctrl-C at any point (143 on SIGTERM,
    which :mod:`ahd.interrupts` turns into the same exception)."""
    try:
        from ahd.interrupts import install

        install()
        from ahd.cli import app

        app()
    except SystemExit as exc:
        # typer turns an interrupt outside a command's body (while it parses the options or
        # loads the plugins they name) into a silent exit 130; say it, with SIGTERM's status.
        interrupt = getattr(exc.__context__, "__cause__", None)
        if not isinstance(interrupt, KeyboardInterrupt):
            raise
        _interrupted(interrupt)
    except KeyboardInterrupt as exc:  # nothing imported here: it may be mid-import
        _interrupted(exc)


def _interrupted(exc: KeyboardInterrupt) -> None:
    """One line and the shell's status for an interrupt (130, or 143 for SIGTERM)."""
    sigterm = type(exc).__name__ == "Terminated"
    print(f"error: interrupted ({'SIGTERM' if sigterm else 'Ctrl-C'})", file=sys.stderr)
    # An interrupted import can leave half-built objects (llvmlite's, for one) whose
    # finalisers fail at exit; their "Exception ignored" tracebacks are not the user's.
    sys.unraisablehook = lambda unraisable: None
    sys.exit(143 if sigterm else 130)


if __name__ == "__main__":
    main()
