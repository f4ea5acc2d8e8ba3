"""The protocol between the evolution loop and a problem.

The loop knows pools of candidates per role, credits and budgets; everything about what the
code means (how to run it, which instances, how to score, how to export a winner) sits behind
:class:`Task`. A problem package registers a :class:`~ahd.plugins.TaskPlugin` that builds its
task; routing (``ahd.problems``), planning (``ahd.planners``) and any installed plugin are
found the same way, and nothing here imports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ahd.candidate import Candidate

if TYPE_CHECKING:
    from ahd.proposers.base import Parent, Proposer
    from ahd.store import Store

    from .loop import EvolveResult


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


@dataclass
class RunSummary:
    """What a finished run tells its user: lines to print, fields for ``summary.json``, and
    the exported winner (``None`` when no evolved team was validated)."""

    lines: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    exported: Path | None = None


class Task(Protocol):
    """What the loop, the proposers and the end of a run need from a problem.

    Every attribute is declared: the core never probes a task with ``getattr``.
    """

    #: The name runs are stored under (``--problem`` value, or a finer one like ``"cvrp"``).
    problem: str
    #: Roles evolved as separate pools, e.g. ``("destroy", "repair")``.
    roles: tuple[str, ...]
    #: ``True``: the whole population is scored as one team (LNS operator pools sharing one
    #: search) and credited by marginal contribution; ``False``: each candidate alone.
    cooperative: bool
    #: Function name a proposal must define for each role (``{"heuristic": "h"}``); roles
    #: missing here are their own entry point.
    entry_points: Mapping[str, str]
    #: Folder of prompt templates that replace the shared ones of the same file name
    #: (``None``: the shared templates only).
    prompt_dir: Traversable | None

    def describe(self) -> str:
        """The problem description a proposer reads."""

    def role_doc(self, role: str) -> str:
        """Signature and documentation of ``role``: what the code must do and may call."""

    def parent_summary(self, parent: Parent) -> str | None:
        """How a parent did, in the task's words, for the LLM prompt (``None``: credit/uses)."""

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

    def offline_proposer(self) -> Proposer:
        """The proposer ``ahd evolve`` uses without ``--model``: no network, suited to the role."""

    def summarise(self, result: EvolveResult, store: Store, run_dir: Path) -> RunSummary:
        """Describe a finished run and export its winner under ``run_dir / "generated"``."""
