"""Write far past the end of an array in compiled code."""

import numba
import numpy as np


@numba.njit
def _poke(a):
    a[10**9] = 1.0
    return a[0]


def run():
    return _poke(np.zeros(4))
