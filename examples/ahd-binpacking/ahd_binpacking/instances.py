"""Bin packing instances: an immutable record and the generators of the standard benchmarks.

Every generated instance comes from ``numpy.random.default_rng(seed)`` with a seed stated
here, so a set is the same on every machine and numpy version that keeps ``Generator``'s
stream (numpy promises that for ``default_rng``'s PCG64).

Weibull (FunSearch, ReEvo, EoH, LLM4AD)
    Item sizes ``round(45 * W)`` with ``W ~ Weibull(shape 3)``, clipped to ``[1, 100]``,
    capacity 100 (mean item about 40, so a bin holds 2-3 items).
    :func:`weibull_5k` is the **test set**: 5 instances of 5,000 items, seeds
    :data:`WEIBULL_5K_SEEDS`. It is never used for training or selection.
    Training and validation sets (:func:`training_set`) use seeds from
    :data:`TRAIN_SEED_BASE` and :data:`VALIDATION_SEED_BASE` on, a million away from
    every test seed.

OR-Library uniform (Falkenauer's binpack1-4)
    Items uniform integers in ``[20, 100]``, capacity 150, 120/250/500/1000 items
    (:data:`ORLIB_SIZES`); instance ``k`` of size ``n`` uses seed
    ``ORLIB_SEED_BASE + 1000 * n + k``. These are *regenerated* sets of the same kind, not
    the published files; read those with :func:`ahd_binpacking.orlib.read_orlib`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

WEIBULL_SHAPE = 3.0
WEIBULL_SCALE = 45.0
WEIBULL_CAPACITY = 100.0
#: Seeds of the five Weibull 5k test instances (``weibull_5k_1`` ... ``weibull_5k_5``).
WEIBULL_5K_SEEDS = (5001, 5002, 5003, 5004, 5005)
#: Training instance ``i`` of set ``s`` uses seed ``TRAIN_SEED_BASE + 10_000 * s + i``.
TRAIN_SEED_BASE = 1_000_000
#: Validation instance ``i`` of set ``s`` uses seed ``VALIDATION_SEED_BASE + 10_000 * s + i``.
VALIDATION_SEED_BASE = 2_000_000
#: Instance ``k`` of the OR-Library-style uniform set of size ``n``: ``+ 1000 * n + k``.
ORLIB_SEED_BASE = 3_000_000
ORLIB_CAPACITY = 150.0
ORLIB_ITEM_RANGE = (20, 100)
ORLIB_SIZES = (120, 250, 500, 1000)
#: Seed of the small instance candidates are smoke-tested on.
SMOKE_SEED = 999
#: Most instances one set may hold (keeps the seed ranges of sets apart).
MAX_SET_SIZE = 10_000
#: Relative tolerance of capacity checks (items given as decimals, e.g. 49.7, sum inexactly).
CAPACITY_RTOL = 1e-9


def lower_bound(total: float, capacity: float) -> int:
    """The L1 bound ``ceil(total / capacity)``: no packing uses fewer bins.

    The tolerance keeps a sum like ``100.00000000000001`` of decimal sizes from counting as
    two bins' worth.
    """
    return max(1, math.ceil(total / capacity - CAPACITY_RTOL * max(1.0, total / capacity)))


@dataclass(frozen=True, eq=False)
class Instance:
    """One bin packing instance; immutable (``items`` is a read-only float64 copy).

    Parameters
    ----------
    name : str
        Identifier (one line, no whitespace), used as the instance name in the store.
    capacity : float
        Bin capacity, positive and finite.
    items : array_like
        Item sizes in arrival order, each in ``(0, capacity]``.
    best_known : int or None
        Best known number of bins, if the source states one (OR-Library files do).
    """

    name: str
    capacity: float
    items: np.ndarray
    best_known: int | None = None
    total: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or any(c.isspace() for c in self.name):
            raise ValueError(f"name must be a non-empty word without spaces, got {self.name!r}")
        capacity = float(self.capacity)
        if not (math.isfinite(capacity) and capacity > 0):
            raise ValueError(f"{self.name}: capacity must be positive and finite, got {capacity}")
        items = np.array(self.items, dtype=np.float64).reshape(-1)
        if items.size == 0:
            raise ValueError(f"{self.name}: an instance needs at least one item")
        if not np.all(np.isfinite(items)) or np.any(items <= 0):
            raise ValueError(f"{self.name}: item sizes must be positive and finite")
        if np.any(items > capacity * (1 + CAPACITY_RTOL)):
            big = float(items.max())
            raise ValueError(f"{self.name}: item of size {big:g} exceeds the capacity "
                             f"{capacity:g}")
        items.flags.writeable = False
        object.__setattr__(self, "capacity", capacity)
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "total", float(items.sum()))
        if self.best_known is not None:
            best = int(self.best_known)
            if best < self.lower_bound:
                raise ValueError(f"{self.name}: best_known {best} is below the lower bound "
                                 f"{self.lower_bound}")
            object.__setattr__(self, "best_known", best)

    @property
    def n_items(self) -> int:
        return int(self.items.shape[0])

    @property
    def lower_bound(self) -> int:
        """L1 = ``ceil(sum(items) / capacity)``, the reference of the excess score."""
        return lower_bound(self.total, self.capacity)


def weibull_items(n_items: int, seed: int) -> np.ndarray:
    """``n_items`` Weibull sizes (see the module docstring) from ``default_rng(seed)``."""
    if n_items < 1:
        raise ValueError(f"n_items must be at least 1, got {n_items}")
    rng = np.random.default_rng(seed)
    sizes = np.round(rng.weibull(WEIBULL_SHAPE, n_items) * WEIBULL_SCALE)
    return np.clip(sizes, 1.0, WEIBULL_CAPACITY)


def weibull_instance(n_items: int, seed: int, name: str | None = None) -> Instance:
    """One Weibull instance of capacity 100."""
    return Instance(name or f"weibull{n_items}_s{seed}", WEIBULL_CAPACITY,
                    weibull_items(n_items, seed))


def weibull_5k() -> list[Instance]:
    """The test set: 5 x 5,000 Weibull items, seeds :data:`WEIBULL_5K_SEEDS`."""
    return [weibull_instance(5000, s, f"weibull_5k_{k}")
            for k, s in enumerate(WEIBULL_5K_SEEDS, 1)]


def _set_seeds(base: int, count: int, set_seed: int) -> list[int]:
    if not 0 <= count <= MAX_SET_SIZE:
        raise ValueError(f"count must be between 0 and {MAX_SET_SIZE}, got {count}")
    if not 0 <= set_seed < 100:
        raise ValueError(f"seed must be between 0 and 99, got {set_seed}")
    return [base + 10_000 * set_seed + i for i in range(count)]


def training_set(split: str, count: int, n_items: int, seed: int = 0) -> list[Instance]:
    """Weibull instances of ``split`` (``"train"`` or ``"validation"``) of set ``seed``.

    Instance ``i`` is named ``train_s{seed}_{i}`` (or ``validation_...``) and drawn with seed
    ``TRAIN_SEED_BASE + 10_000 * seed + i`` (``VALIDATION_SEED_BASE`` for validation), so
    the two splits and the test set never share a seed.
    """
    bases = {"train": TRAIN_SEED_BASE, "validation": VALIDATION_SEED_BASE}
    if split not in bases:
        raise ValueError(f"split must be 'train' or 'validation', got {split!r}")
    return [weibull_instance(n_items, s, f"{split}_s{seed}_{i}")
            for i, s in enumerate(_set_seeds(bases[split], count, seed))]


def smoke_instance(n_items: int = 200) -> Instance:
    """The small Weibull instance candidates are smoke-tested on (seed :data:`SMOKE_SEED`)."""
    return weibull_instance(n_items, SMOKE_SEED, f"smoke{n_items}")


def uniform_instance(n_items: int, seed: int, name: str | None = None,
                     capacity: float = ORLIB_CAPACITY,
                     item_range: tuple[int, int] = ORLIB_ITEM_RANGE) -> Instance:
    """Items uniform integers in ``item_range`` (inclusive), as OR-Library's binpack1-4."""
    lo, hi = item_range
    if not 0 < lo <= hi <= capacity:
        raise ValueError(f"item_range must satisfy 0 < low <= high <= capacity, got {item_range}")
    rng = np.random.default_rng(seed)
    items = rng.integers(lo, hi, size=n_items, endpoint=True).astype(np.float64)
    return Instance(name or f"u{n_items}_s{seed}", capacity, items)


def orlib_uniform(n_items: int, count: int = 20) -> list[Instance]:
    """An OR-Library-style uniform set: ``count`` instances ``u{n}_00`` ... of ``n_items``.

    ``n_items`` is usually one of :data:`ORLIB_SIZES`; instance ``k`` uses seed
    ``ORLIB_SEED_BASE + 1000 * n_items + k``.
    """
    if not 0 < count <= 1000:
        raise ValueError(f"count must be between 1 and 1000, got {count}")
    return [uniform_instance(n_items, ORLIB_SEED_BASE + 1000 * n_items + k, f"u{n_items}_{k:02d}")
            for k in range(count)]


__all__ = [
    "Instance", "ORLIB_CAPACITY", "ORLIB_ITEM_RANGE", "ORLIB_SEED_BASE", "ORLIB_SIZES",
    "SMOKE_SEED", "TRAIN_SEED_BASE", "VALIDATION_SEED_BASE", "WEIBULL_5K_SEEDS",
    "WEIBULL_CAPACITY", "WEIBULL_SCALE", "WEIBULL_SHAPE", "lower_bound", "orlib_uniform",
    "smoke_instance", "training_set", "uniform_instance", "weibull_5k", "weibull_instance",
    "weibull_items",
]
