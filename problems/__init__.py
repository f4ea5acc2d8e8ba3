"""Combinatorial problems and the Numba LNS engine they share."""

from pathlib import Path

from ahd.numba_cache import clear_stale_caches

#: The packages whose compiled code calls into each other (cleared together when one changes).
COMPILED_PACKAGES = ("engine", "operators")

clear_stale_caches(Path(__file__).resolve().parent, COMPILED_PACKAGES)
