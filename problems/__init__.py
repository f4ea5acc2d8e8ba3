"""Combinatorial problems and the Numba LNS engine they share."""

from ._numba_cache import clear_stale_caches

clear_stale_caches()
