"""Ask for 8 GB at once."""

import numpy as np


def run():
    return np.ones(8 * 10**9, dtype=np.uint8).sum()
