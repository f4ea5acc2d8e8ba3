"""Greedy best-first search (eager and lazy) over ground tasks."""

from .gbfs import STATUSES, SearchOutcome, greedy_best_first_search

__all__ = ["STATUSES", "SearchOutcome", "greedy_best_first_search"]
