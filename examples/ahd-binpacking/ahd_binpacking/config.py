"""The validated settings of one bin packing run.

Values arrive as strings (``--set FIELD=VALUE``), JSON (``--resume``) or Python objects;
:func:`ahd.settings.build_config` converts them to the annotated types and
:meth:`BinPackingConfig.__post_init__` refuses bad ones with a ``ValueError`` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .instances import MAX_SET_SIZE


@dataclass(frozen=True)
class BinPackingConfig:
    """Which instances, and the limits of every sandboxed evaluation.

    Parameters
    ----------
    n_items : int
        Items per generated training/validation instance (``--size``). 5,000 by default, the
        size of the test instances: the best rules keep many bins open and wait for perfect
        fits, which pays off over 5,000 items but not over 1,000 (the bins still open at the
        end weigh five times more), so shorter training instances select other rules.
    n_train, n_validation : int
        Generated Weibull instances per split (``--train``, ``--validation``).
    seed : int
        Which generated set (``--seed``, 0-99): instance ``i`` of the training split uses
        seed ``1_000_000 + 10_000 * seed + i``, validation ``2_000_000 + ...``; the Weibull 5k
        test seeds (5001-5005) are never among them.
    train_file, validation_file : Path or None
        OR-Library-format files whose instances replace the generated ones of that split.
    offer_new_bin : bool
        ``True`` (FunSearch's rule): ``bins`` ends with one entry for a new empty bin, so a
        priority may open a bin while others fit. ``False``: classic any fit.
    smoke_items : int
        Items of the Weibull instance every candidate is smoke-tested on.
    sandbox_wall : float
        Wall-clock seconds of one sandbox request (compile plus all instances of a split;
        ``--eval-timeout``). Only code that loops for far too long reaches it.
    memory_mb : float
        Address-space limit of a sandbox child in MiB (numba compilation needs about 1 GiB).
    """

    n_items: int = 5000
    n_train: int = 4
    n_validation: int = 4
    seed: int = 0
    train_file: Path | None = None
    validation_file: Path | None = None
    offer_new_bin: bool = True
    smoke_items: int = 200
    sandbox_wall: float = 60.0
    memory_mb: float = 2048.0

    def __post_init__(self) -> None:
        if not 1 <= self.n_items <= 1_000_000:
            raise ValueError(f"n_items must be between 1 and 1000000, got {self.n_items}")
        for name in ("n_train", "n_validation"):
            value = getattr(self, name)
            if not 1 <= value <= MAX_SET_SIZE:
                raise ValueError(f"{name} must be between 1 and {MAX_SET_SIZE}, got {value}")
        if not 0 <= self.seed < 100:
            raise ValueError(f"seed must be between 0 and 99, got {self.seed}")
        for name in ("train_file", "validation_file"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
        if not 10 <= self.smoke_items <= 100_000:
            raise ValueError(f"smoke_items must be between 10 and 100000, got {self.smoke_items}")
        if not (math.isfinite(self.sandbox_wall) and self.sandbox_wall > 0):
            raise ValueError(f"sandbox_wall must be positive seconds, got {self.sandbox_wall}")
        if not (math.isfinite(self.memory_mb) and self.memory_mb >= 512):
            raise ValueError(f"memory_mb must be at least 512, got {self.memory_mb}")


__all__ = ["BinPackingConfig"]
