"""The two textbook rules as candidate sources: the seeds every evolved priority must beat.

Both are written the way a proposer should write a candidate (plain numpy, compiled by numba
in the sandbox) and behave identically with and without the new-bin entry of ``bins``: the
new bin is the last entry and has the largest remaining capacity, so it is chosen only when
no open bin fits.
"""

from __future__ import annotations

FIRST_FIT_SOURCE = '''\
import numpy as np


def priority(item, bins):
    """First fit: the earliest-opened bin that fits (bins are listed in opening order)."""
    return -np.arange(bins.shape[0]).astype(np.float64)
'''

BEST_FIT_SOURCE = '''\
import numpy as np


def priority(item, bins):
    """Best fit: the bin the item fills most tightly (least room left after placing it)."""
    return -(bins - item)
'''

#: Seed name -> source, in the order the task offers them.
SEEDS = {"first_fit": FIRST_FIT_SOURCE, "best_fit": BEST_FIT_SOURCE}

__all__ = ["BEST_FIT_SOURCE", "FIRST_FIT_SOURCE", "SEEDS"]
