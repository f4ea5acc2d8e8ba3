"""``ahd`` and ``python -m ahd``: the command line, with Ctrl-C ending it in one line.

The console script points here rather than at :mod:`ahd.cli`: importing the CLI loads numpy,
numba and every registered plugin (about a second), and a Ctrl-C in that second would otherwise
print a traceback from whatever module was being imported.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Import and run the CLI; exit 130 with one line on Ctrl-C at any point."""
    try:
        from ahd.cli import app

        app()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
