"""Belgium-like CVRP instances for tests of large-instance code: random integer coordinates,
demands 1-3 and a small capacity, so routes are many and short, as in the XXL set."""

from __future__ import annotations

import numpy as np

from ahd.problems.generators import make_instance


def belgium_like(n: int, seed: int, capacity: float = 20.0, side: int = 1000,
                 distances: str = "auto"):
    """``n`` customers on a ``side`` x ``side`` grid (EUC_2D), demands 1-3."""
    rng = np.random.default_rng(seed)
    coords = rng.integers(0, side, (n + 1, 2)).astype(float)
    demand = np.r_[0.0, rng.integers(1, 4, n)].astype(float)
    return make_instance("big", "cvrp", coords, demand, capacity, "EUC_2D", distances=distances)
