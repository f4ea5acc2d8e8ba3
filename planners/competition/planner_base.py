"""What every planner of an evaluation is: the :class:`Planner` interface and its records.

The runner (:mod:`.runner`) starts, limits, kills and validates runs without knowing which
planner it runs; a planner only says how to start a run and how to read its end. This module
holds that contract, shared by the built-in planners and by planners that installed packages
register (see :mod:`.planners_registry`): the :class:`Planner` base class, the records it
exchanges with the runner (:class:`Limits`, :class:`Invocation`, :class:`Outcome`),
:class:`PlannerSpecError`, and :func:`crash_outcome` for runs that ended without a readable
result.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from .suite import Task

__all__ = [
    "Invocation", "Limits", "Outcome", "Planner", "PlannerSpecError", "crash_outcome",
    "last_lines",
]


class PlannerSpecError(ValueError):
    """A planner spec that cannot be used; the message names the spec and the fix."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run.

    Attributes
    ----------
    time : float
        Seconds of wall-clock time the planner may use.
    memory_mb : float or None
        Address-space limit (``RLIMIT_AS``) in MiB; None for none.
    grace : float
        Seconds past ``time`` before the process group is killed: time to write a plan and
        exit. A plan that arrives within the grace still counts (scored as taking ``time``).
    """

    time: float
    memory_mb: float | None = None
    grace: float = 5.0


@dataclass(frozen=True)
class Invocation:
    """How to start one run: the command, where its plan will be, extra environment."""

    argv: list[str]
    plan_file: Path
    env: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    """What a planner's exit code and log say, before the plan is validated.

    ``status`` is ``plan`` (a plan file to validate), ``unsolvable``, ``unsolved``,
    ``timeout``, ``memory`` or ``error``.
    """

    status: str
    plan_file: Path | None = None
    expanded: int | None = None
    error: str | None = None


def last_lines(text: str, n: int = 3) -> str:
    """The last ``n`` non-blank lines of a log joined by ``" | "`` (500 characters at most)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " | ".join(lines[-n:])[-500:]


def crash_outcome(returncode: int, log: str) -> Outcome:
    """A run that ended without a readable result: a memory failure or a crash."""
    if "MemoryError" in log or "std::bad_alloc" in log or "out of memory" in log.lower():
        return Outcome("memory", error=last_lines(log))
    what = f"killed by signal {-returncode}" if returncode < 0 else f"exit code {returncode}"
    return Outcome("error", error=f"{what}: {last_lines(log)}")


class Planner(ABC):
    """One planner configuration of an evaluation.

    Subclasses say how to start a run (:meth:`invocation`) and how to read its end
    (:meth:`interpret`); limits, killing and validation are the runner's business.
    """

    kind = ""

    def __init__(self, label: str, spec: str, config: str) -> None:
        self.label = label
        self.spec = spec
        self.config = config

    @classmethod
    def from_spec(cls, label: str, spec: str, config: str, cwd: Path) -> Planner:
        """The planner of a parsed spec; ``cwd`` is the folder relative paths are read from.

        The default ignores ``cwd`` and calls ``cls(label, spec, config)``, which is the
        constructor a registered planner kind provides; a planner whose configuration names
        files overrides this to resolve them (see :class:`.AhdPlanner`).
        """
        return cls(label, spec, config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"

    def unavailable(self) -> str | None:
        """Why this planner cannot run on this machine, or None when it can."""
        return None

    def applies_to(self, task: Task) -> bool:
        """Whether the planner has a configuration for ``task`` (see ``{domain}``)."""
        return True

    def prepare(self) -> str | None:
        """One-time work before this machine's first run (none by default), so that no run's
        time limit pays for it; a warning line if it failed (the runs still go ahead). Called
        before every run on a dask worker: a repeat in the same process must cost nothing."""
        return None

    def fingerprint(self, task: Task) -> str:
        """What identifies the run's setup; a stored result with another one is re-run."""
        return self.spec

    def portable(self, task: Task) -> tuple[str, dict[str, bytes]]:
        """How another machine, which has none of this one's files, rebuilds this planner
        for ``task`` (``ahd plan-eval --scheduler``).

        Returns
        -------
        config : str
            The configuration to give :meth:`from_spec` there.
        files : dict
            File name -> content, written into the folder the planner is rebuilt in (its
            ``cwd``) before :meth:`from_spec` is called. The default ships nothing: the
            configuration as it is, with programs and packages being the worker's own; a
            planner whose configuration names files of this machine overrides this (see
            :class:`.AhdPlanner`).
        """
        return self.config, {}

    @abstractmethod
    def invocation(self, task: Task, workdir: Path, limits: Limits,
                   deadline: float) -> Invocation:
        """The command for ``task``; ``deadline`` is the wall-clock (``time.time``) limit."""

    @abstractmethod
    def interpret(self, returncode: int, log: str, workdir: Path) -> Outcome:
        """Read a finished run (not killed by the runner) from its exit code and log."""

