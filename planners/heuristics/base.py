"""Heuristic objects the search accepts: compiled built-ins and plain Python functions.

A :class:`BuiltinHeuristic` is only an id; the compiled search evaluates it without leaving
numba. A :class:`PythonHeuristic` wraps ``h(state, task)`` (and optional ``init(task)``); the
search hands it each new state as a ``frozenset`` of atom tuples (see :mod:`.api`), built from
cached atom tuples so the conversion costs one frozenset per state.
"""

from __future__ import annotations

import math
import numbers
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .api import HeuristicTask, heuristic_task

if TYPE_CHECKING:
    from ..task import Task

StateFn = Callable[[frozenset], float]


class HeuristicError(Exception):
    """A Python heuristic raised, or returned something that is not a number."""


def describe_exception(exc: BaseException, source_hint: str | None = None) -> str:
    """``'ValueError: msg (heuristic.py, line 12, in h)'``: enough for an author to fix it."""
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if source_hint is not None:
        mine = [f for f in frames if f.filename == source_hint]
        frames = mine or frames
    if frames:
        f = frames[-1]
        where = f" ({f.filename}, line {f.lineno}, in {f.name})"
    text = str(exc)
    if len(text) > 500:
        text = text[:500] + "..."
    return f"{type(exc).__name__}: {text}{where}"


def check_value(value: Any) -> float:
    """The heuristic value as a float, or :class:`HeuristicError` for non-numbers and NaN."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise HeuristicError(
            f"h returned {type(value).__name__} {value!r:.80}; it must return an int or float"
        )
    v = float(value)
    if math.isnan(v):
        raise HeuristicError("h returned NaN")
    return v


@dataclass(frozen=True)
class BuiltinHeuristic:
    """A compiled heuristic, evaluated inside the search kernel."""

    name: str
    hid: int

    @property
    def is_python(self) -> bool:
        return False

    @property
    def helpful(self) -> bool:
        """Whether evaluating it leaves a relaxed plan to read helpful actions from."""
        return self.name == "hff"

    def scratch(self, task: Task, helpful: bool = False) -> tuple:
        """The per-task work arrays the kernel evaluates it with (``helpful``: the search
        reads helpful actions after each evaluation)."""
        from .relaxed import scratch

        return scratch(task)


class PythonHeuristic:
    """``h(state, task)`` with optional ``init(task)``, written against :mod:`.api`.

    Parameters
    ----------
    h : callable
        ``h(state: frozenset[tuple[str, ...]], task: HeuristicTask) -> float``.
    init : callable, optional
        ``init(task)``, called once per task before the first evaluation.
    name : str
        Shown in results.
    source : str, optional
        File name of the heuristic's code, used to point error messages at its lines.
    """

    hid = -1

    def __init__(
        self,
        h: Callable[[frozenset, HeuristicTask], Any],
        init: Callable[[HeuristicTask], Any] | None = None,
        name: str = "python",
        source: str | None = None,
    ) -> None:
        if not callable(h):
            raise TypeError(f"h must be callable, got {type(h).__name__}")
        if init is not None and not callable(init):
            raise TypeError(f"init must be callable, got {type(init).__name__}")
        self.h = h
        self.init = init
        self.name = name
        self.source = source

    @property
    def is_python(self) -> bool:
        return True

    def bind(self, task: Task) -> StateFn:
        """Run ``init`` for ``task`` and return ``state -> value`` (raises HeuristicError)."""
        view = heuristic_task(task)
        if self.init is not None:
            try:
                self.init(view)
            except Exception as exc:
                raise HeuristicError(
                    "init raised " + describe_exception(exc, self.source)
                ) from exc
        h = self.h

        def evaluate(state: frozenset) -> float:
            try:
                value = h(state, view)
            except Exception as exc:
                raise HeuristicError("h raised " + describe_exception(exc, self.source)) from exc
            return check_value(value)

        return evaluate

    def __repr__(self) -> str:
        return f"PythonHeuristic({self.name!r})"


Heuristic = BuiltinHeuristic | PythonHeuristic
