"""Which tasks a planning evolution scores, and how: config, alternate splits, fitness.

See :mod:`ahd.planners.evolve_task` for the whole story; this module holds what is decided
before any search runs, so the plugin can validate a run's settings without a sandbox.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: How training files are divided between evolution and validation (see ``split``).
SPLITS = ("alternate", "largest")
#: Most states a directness check samples per task.
MAX_DIRECTNESS_STATES = 200
#: Weight of ``1 - directness rate`` in the fitness: below one task, like the expansions term.
DIRECTNESS_WEIGHT = 0.1


@dataclass
class PlanningTaskConfig:
    """Which tasks, and the limits of every scored search.

    Parameters
    ----------
    domain_dir : Path
        A folder with ``domain.pddl`` and ``training/**/*.pddl`` (IPC 2023 learning track).
    n_train, n_validation : int
        Tasks kept from each half of the split, evenly spread (0 = all).
    split : str
        ``"alternate"``: even positions of the name-ordered training files train, odd ones
        validate, so both cover every size. ``"largest"``: the ``n_validation`` largest files
        (by bytes; the larger half when 0) validate and training is spread over the rest, so
        the winner is chosen on tasks larger than any it was evolved on, as the test sets of
        the learning track are (``--set split=largest``).
    max_expansions : int
        Expansion limit per task (decides fitness; independent of machine load).
    time_limit : float
        Search seconds per task (``init`` included), to stop heuristics too slow to be useful.
    smoke_expansions, smoke_time : int, float
        Limits of the admission run on the smallest training task.
    memory_mb : float
        Resident-memory limit of one search.
    sandbox_grace : float
        Seconds beyond ``time_limit`` before the sandbox kills a child whose heuristic never
        returns (the search checks its clock only between heuristic calls).
    directness_states : int
        States sampled per task (random walks from its initial state) on which each scored
        heuristic's directness is checked: whether some successor has a strictly lower value
        (Correa, Pereira & Seipp's property-guided synthesis). The rate enters the fitness
        (see :func:`fitness`) and the prompts, with a counterexample state. 0: no check.
    directness_time : float
        Seconds a child spends on those states after its search (within ``sandbox_grace``).
    search : str
        How each task is searched: ``"gbfs"``, or ``"ehc"`` (enforced hill-climbing, GBFS
        where it gets stuck), which rewards heuristics that are direct.
    directness_fix : float
        With the check on, a new candidate whose rate on the smallest training task is below
        this is sent back to a proposer that can fix code (the LLM), with counterexamples,
        instead of being admitted; 0 admits every rate.
    landmarks : bool
        GBFS alternates each candidate with LAMA's landmark count
        (:mod:`ahd.planners.landmarks`), as ``ahd:FILE.py:lm`` does in ``ahd plan-eval``:
        the heuristic is then evolved for the search it will be used in.
    lazy, preferred : bool
        Lazy GBFS (``ahd:FILE.py:lazy``), and with ``preferred`` h_FF's preferred operators
        as well (``ahd:FILE.py:lazy-pref``, which implies ``lazy``): a compiled genome gets
        the helpful actions of h_FF's relaxed plan; a Python heuristic cannot, and is scored
        by lazy GBFS alone.
    """

    domain_dir: Path
    n_train: int = 16
    n_validation: int = 32
    split: str = "alternate"
    max_expansions: int = 20_000
    time_limit: float = 2.0
    smoke_expansions: int = 2_000
    smoke_time: float = 2.0
    memory_mb: float = 1024.0
    sandbox_grace: float = 5.0
    directness_states: int = 0
    directness_time: float = 1.0
    directness_fix: float = 0.0
    search: str = "gbfs"
    landmarks: bool = False
    lazy: bool = False
    preferred: bool = False

    def __post_init__(self) -> None:
        self.domain_dir = Path(self.domain_dir)
        for name in ("n_train", "n_validation"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (0 keeps every task)")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        for name in ("max_expansions", "smoke_expansions"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("time_limit", "smoke_time", "memory_mb", "sandbox_grace",
                     "directness_time"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be positive seconds/MiB, got {value}")
        if not 0 <= self.directness_states <= MAX_DIRECTNESS_STATES:
            raise ValueError(f"directness_states must be in 0..{MAX_DIRECTNESS_STATES}")
        if self.search not in ("gbfs", "ehc"):
            raise ValueError(f"search must be gbfs or ehc, got {self.search!r}")
        if self.landmarks and self.search != "gbfs":
            raise ValueError("landmarks go with search gbfs")
        if (self.lazy or self.preferred) and self.search != "gbfs":
            raise ValueError("lazy and preferred go with search gbfs")
        if self.preferred:
            self.lazy = True
        if not 0 <= self.directness_fix <= 1:
            raise ValueError("directness_fix must be a rate in [0, 1]")
        if self.directness_time >= self.sandbox_grace:
            raise ValueError("directness_time must be below sandbox_grace (the child's "
                             "slack beyond its search)")


# --------------------------------------------------------------------------- tasks and splits


def _natural(path: Path) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.as_posix())]


def find_tasks(domain_dir: str | os.PathLike[str]) -> tuple[Path, list[Path]]:
    """``(domain.pddl, training task files in natural name order)`` of a learning-track folder.

    Raises
    ------
    ValueError
        No ``domain.pddl``, or fewer than two training tasks (one for each split).
    """
    root = Path(domain_dir)
    domain = root / "domain.pddl"
    if not domain.is_file():
        raise ValueError(f"{root}: no domain.pddl (expected the IPC 2023 learning-track layout: "
                         "domain.pddl, training/easy/p01.pddl ...)")
    files = sorted((p for p in (root / "training").rglob("*.pddl") if p.is_file()),
                   key=lambda p: _natural(p.relative_to(root)))
    if len(files) < 2:
        raise ValueError(f"{root / 'training'}: need at least two task files (.pddl), "
                         f"found {len(files)}")
    return domain, files


def spread(items: list[Any], n: int) -> list[Any]:
    """``n`` items evenly spread over ``items`` (first and last included); all if ``n`` is 0."""
    if n <= 0 or n >= len(items):
        return list(items)
    picks = sorted({int(round(x)) for x in np.linspace(0, len(items) - 1, n)})
    return [items[i] for i in picks]


def split_tasks(files: list[Path], n_train: int, n_validation: int,
                split: str = "alternate") -> dict[str, list[Path]]:
    """Divide ``files`` (name order) as ``split`` says, then :func:`spread` each part."""
    if split == "largest":
        by_size = sorted(files, key=lambda p: (p.stat().st_size, _natural(p)))
        k = n_validation if 0 < n_validation < len(files) else len(files) // 2
        larger = set(by_size[len(files) - k:])
        return {"train": spread([p for p in files if p not in larger], n_train),
                "validation": [p for p in files if p in larger]}
    return {"train": spread(files[0::2], n_train), "validation": spread(files[1::2],
                                                                        n_validation)}


def check_tasks(config: PlanningTaskConfig) -> None:
    """Parse the domain and every task a run with ``config`` uses, training and validation.

    Called when a run is configured (and again on ``--resume``), before any worker starts, so
    that a broken or unreadable file is reported in one line naming it then, not after the
    evolution, when the validation tasks are first read. Raises
    :class:`~ahd.planners.errors.PlanningInputError` (a ``ValueError``).
    """
    from .pddl_io import read_task

    domain, files = find_tasks(config.domain_dir)
    for part in split_tasks(files, config.n_train, config.n_validation, config.split).values():
        for path in part:
            read_task(domain, path)


def fitness(expansions_of_solved: list[int], n_tasks: int, max_expansions: int,
            directness: float | None = None) -> float:
    """The fitness of :mod:`~ahd.planners.evolve_task`'s docstring (lower is better), plus
    ``DIRECTNESS_WEIGHT * (1 - directness)`` when a directness rate is given: with both
    terms below 0.1, one more solved task still beats everything else."""
    unsolved = n_tasks - len(expansions_of_solved)
    if expansions_of_solved:
        mean = float(np.mean(np.log1p(np.asarray(expansions_of_solved, dtype=float))))
    else:
        mean = math.log1p(max_expansions)
    extra = 0.0 if directness is None else DIRECTNESS_WEIGHT * (1.0 - directness)
    return unsolved + mean / 100.0 + extra

