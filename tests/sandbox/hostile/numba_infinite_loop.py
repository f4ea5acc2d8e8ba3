"""A nopython loop that never ends: no signal handler or thread timeout can stop it."""

import numba


@numba.njit
def _spin(n):
    i = 0
    while i >= 0:
        i = (i + n) % 1_000_003
    return i


def run():
    return _spin(1)
