"""What the loop asks of a proposer, and what it gets back.

A proposer is a callable ``proposer(requests, rng) -> proposals``: one proposal per request, in
order, each with source text or an error. Strategies (the variation operators of the loop):

``init``           a new operator for a role, from the role's documentation and the seeds
``mutate_logic``   a logic change of one parent
``mutate_params``  parameter calibration of one parent (its constants and thresholds)
``crossover``      recombination of two parents of the same role
``joint``          one proposal that returns both a destroy and a repair function, built
                   from the best-synergy pair
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ahd.candidate import Candidate, Origin

STRATEGIES = ("init", "mutate_logic", "mutate_params", "crossover", "joint")


@dataclass(frozen=True)
class Parent:
    """A parent as the proposer sees it: code, its credit in the team, and usage."""

    candidate: Candidate
    credit: float = 1.0
    uses: float = 0.0
    note: str = ""


@dataclass(frozen=True)
class ProposalRequest:
    strategy: str
    roles: tuple[str, ...]
    parents: tuple[Parent, ...] = ()
    team_fitness: float | None = None

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; known: {STRATEGIES}")


@dataclass
class Proposal:
    """A proposer's answer. ``source`` is ``None`` when it failed (``error`` says why)."""

    request: ProposalRequest
    source: str | None
    origin: Origin
    error: str = ""
    #: Proposer state needed to ask for a fix (an LLM conversation); ``None`` if it cannot.
    conversation: list[dict[str, str]] | None = None
    attempts: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def roles(self) -> tuple[str, ...]:
        return self.request.roles

    @property
    def parent_ids(self) -> tuple[int, ...]:
        return tuple(p.candidate.id for p in self.request.parents if p.candidate.id is not None)


class Proposer(Protocol):
    name: str

    def __call__(
        self, requests: list[ProposalRequest], rng: np.random.Generator
    ) -> list[Proposal]:
        """One proposal per request, in order."""

    def fix(self, proposal: Proposal, error: str) -> Proposal | None:
        """A corrected proposal after ``error`` (static or runtime), or ``None`` if it cannot."""
