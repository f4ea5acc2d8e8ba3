"""The protocol between the evolution loop and a problem.

The loop knows pools of candidates per role, credits and budgets; everything about what the
code means (how to run it, which instances, how to score) sits behind :class:`Task`. Routing
implements it in :mod:`ahd.problems.task`; a planning domain plugs into the same loop with one
role and non-cooperative scoring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ahd.candidate import Candidate


@dataclass
class TeamOutcome:
    """The score of one team (one candidate per role for a non-cooperative task).

    ``fitness`` is the mean objective over the instances (lower is better; ``inf`` when any
    run failed). ``usage[cid]`` holds per-instance ``(uses, gain)`` pairs of each member and
    ``pairs[(d, r)]`` those of each destroy/repair combination: the raw material of credit
    assignment. ``errors`` maps a member blamed for a failure to the error text.
    """

    fitness: float
    objectives: dict[str, float] = field(default_factory=dict)
    usage: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    pairs: dict[tuple[int, int], list[tuple[float, float]]] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    error: str = ""
    records: list[Any] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error


class Task(Protocol):
    """What the loop needs from a problem."""

    problem: str
    #: Roles evolved as separate pools, e.g. ``("destroy", "repair")``.
    roles: tuple[str, ...]

    def describe(self) -> str:
        """The problem description a proposer reads."""

    def role_doc(self, role: str) -> str:
        """Signature and documentation of ``role``: what the code must do and may call."""

    def seeds(self) -> dict[str, list[Candidate]]:
        """Seed candidates per role (self-contained sources)."""

    def check(self, source: str, roles: tuple[str, ...]) -> list[str]:
        """Static problems of ``source`` filling ``roles`` (empty: it may run)."""

    def smoke(self, candidates: list[Candidate]) -> list[str]:
        """Run each candidate briefly with trusted partners; ``""`` or the error, per candidate."""

    def evaluate(self, team: dict[str, list[Candidate]], split: str) -> TeamOutcome:
        """Score ``team`` on the instances of ``split`` (``"train"`` or ``"validation"``)."""

    def instance_names(self, split: str) -> list[str]:
        """Names of the instances of ``split``."""
