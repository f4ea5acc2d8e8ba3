"""Budgets and stopping: one validated record and one callable that says why to stop."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """Limits of a run; ``None`` means unlimited. ``target`` stops once the best training
    fitness is at or below it. ``rounds`` bounds the number of evolution rounds."""

    max_calls: int | None = None
    max_tokens: int | None = None
    max_cost: float | None = None
    max_evaluations: int | None = None
    time: float | None = None
    target: float | None = None
    rounds: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_calls", "max_tokens", "max_evaluations", "rounds"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        for name in ("max_cost", "time"):
            value = getattr(self, name)
            if value is not None and (not math.isfinite(value) or value < 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")


@dataclass
class Spent:
    """What a run has used so far (restored from the store on resume)."""

    calls: int = 0
    tokens: int = 0
    cost: float = 0.0
    evaluations: int = 0
    seconds: float = 0.0
    rounds: int = 0
    best: float = math.inf


class StopRule:
    """``rule(spent) -> reason`` or ``None`` to go on."""

    def __init__(self, budget: Budget):
        self.budget = budget

    def __call__(self, spent: Spent) -> str | None:
        b = self.budget
        checks = (
            (b.max_calls, spent.calls, "LLM calls"),
            (b.max_tokens, spent.tokens, "tokens"),
            (b.max_cost, spent.cost, "cost (USD)"),
            (b.max_evaluations, spent.evaluations, "evaluations"),
            (b.time, spent.seconds, "time (s)"),
            (b.rounds, spent.rounds, "rounds"),
        )
        for limit, used, what in checks:
            if limit is not None and used >= limit:
                return f"budget reached: {what} {used:g} of {limit:g}"
        if b.target is not None and spent.best <= b.target:
            return f"target reached: {spent.best:.6g} <= {b.target:g}"
        return None
