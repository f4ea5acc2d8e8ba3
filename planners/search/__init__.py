"""Searches over ground tasks: greedy best-first (eager and lazy) and enforced hill-climbing."""

from .gbfs import STATUSES, SearchOutcome, greedy_best_first_search
from .hill_climbing import enforced_hill_climbing

#: Search algorithms by name (``ahd plan --search``).
SEARCHES = ("gbfs", "ehc")

__all__ = ["SEARCHES", "STATUSES", "SearchOutcome", "enforced_hill_climbing",
           "greedy_best_first_search", "run_search"]


def run_search(task, heuristic, search: str = "gbfs", *, lazy: bool = False,
               tie_breaking: str = "fifo", preferred: bool = False, landmarks: bool = False,
               seed: int | None = None, **limits) -> SearchOutcome:
    """Run the search named ``search`` (:data:`SEARCHES`) with the limits of
    :func:`greedy_best_first_search` (``lazy``, ``tie_breaking``, ``preferred``,
    ``landmarks`` and ``seed`` apply to GBFS only)."""
    if search == "gbfs":
        return greedy_best_first_search(task, heuristic, lazy=lazy, tie_breaking=tie_breaking,
                                        preferred=preferred, landmarks=landmarks, seed=seed,
                                        **limits)
    if search == "ehc":
        return enforced_hill_climbing(task, heuristic, **limits)
    raise ValueError(f"search must be one of {', '.join(SEARCHES)}, got {search!r}")
