"""Combinatorial problems and the Numba LNS engine they share."""
