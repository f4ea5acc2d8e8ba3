"""The planners an evaluation can run, each as a command line plus a reader of its output.

A planner is named by a spec string, ``KIND:CONFIG``, optionally prefixed by a label
(``LABEL=KIND:CONFIG``) that tables show instead of the spec:

``ahd:HEURISTIC``
    Our GBFS (:func:`ahd.planners.solve`) with a built-in heuristic (``ahd:hff``) or a
    heuristic file (``ahd:generated/blocksworld.py``). ``{domain}`` in the path is replaced
    by each task's domain, so one spec names a per-domain heuristic; domains without a file
    are skipped for that planner (reported as not run, never as failures).
``fd:CONFIG``
    Fast Downward as shipped in the up-fast-downward package: ``lama-first`` (the driver's
    alias), ``gbfs-ff``/``gbfs-add``/``gbfs-goalcount``/``gbfs-blind``/``lazy-ff``, any other
    driver alias, or a raw search string (``fd:eager_greedy([ff()])``).
``pyperplan:HEURISTIC[:SEARCH]``
    The pyperplan package (default search ``gbf``); it has no negative preconditions.
``cmd:TEMPLATE``
    Any program: ``{domain}``, ``{problem}``, ``{plan}``, ``{time}`` (seconds) and
    ``{memory_mb}`` are replaced in each word of the template (the three paths are appended
    when absent). It must write an IPC plan to ``{plan}`` and exit 0 when it found one.

Every planner runs in its own work folder (Fast Downward writes ``output.sas`` to its current
folder, pyperplan its plan next to the problem), so parallel runs never share a file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shlex
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from .suite import Task

__all__ = [
    "AHD_RESULT_TAG",
    "FD_CONFIGS",
    "Invocation",
    "Limits",
    "Outcome",
    "Planner",
    "PlannerSpecError",
    "fast_downward_paths",
    "parse_planner",
]

#: The line prefix under which the ``ahd`` runner prints its result as JSON.
AHD_RESULT_TAG = "AHD-RESULT "

#: Named Fast Downward configurations (search options); other names go to ``--alias``.
FD_CONFIGS: dict[str, list[str]] = {
    "gbfs-ff": ["--search", "eager_greedy([ff()])"],
    "gbfs-add": ["--search", "eager_greedy([add()])"],
    "gbfs-goalcount": ["--search", "eager_greedy([goalcount()])"],
    "gbfs-blind": ["--search", "eager_greedy([blind()])"],
    "lazy-ff": ["--search", "lazy_greedy([ff()])"],
}


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


def _last_lines(text: str, n: int = 3) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " | ".join(lines[-n:])[-500:]


def _crash_outcome(returncode: int, log: str) -> Outcome:
    """A run that ended without a readable result: a memory failure or a crash."""
    if "MemoryError" in log or "std::bad_alloc" in log or "out of memory" in log.lower():
        return Outcome("memory", error=_last_lines(log))
    what = f"killed by signal {-returncode}" if returncode < 0 else f"exit code {returncode}"
    return Outcome("error", error=f"{what}: {_last_lines(log)}")


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

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"

    def unavailable(self) -> str | None:
        """Why this planner cannot run on this machine, or None when it can."""
        return None

    def applies_to(self, task: Task) -> bool:
        """Whether the planner has a configuration for ``task`` (see ``{domain}``)."""
        return True

    def fingerprint(self, task: Task) -> str:
        """What identifies the run's setup; a stored result with another one is re-run."""
        return self.spec

    @abstractmethod
    def invocation(self, task: Task, workdir: Path, limits: Limits,
                   deadline: float) -> Invocation:
        """The command for ``task``; ``deadline`` is the wall-clock (``time.time``) limit."""

    @abstractmethod
    def interpret(self, returncode: int, log: str, workdir: Path) -> Outcome:
        """Read a finished run (not killed by the runner) from its exit code and log."""


# ----------------------------------------------------------------------------------- ahd


class AhdPlanner(Planner):
    """Our GBFS through :mod:`ahd.planners.competition.run_ahd`, one process per task."""

    kind = "ahd"

    def __init__(self, label: str, spec: str, config: str, cwd: Path) -> None:
        super().__init__(label, spec, config)
        from ahd.planners.heuristics import HEURISTICS

        self.builtin = config in HEURISTICS
        if not self.builtin:
            if not config.endswith(".py"):
                raise PlannerSpecError(
                    f"{spec}: use a built-in heuristic ({', '.join(HEURISTICS)}) "
                    "or a .py file defining h(state, task)"
                )
            path = Path(config).expanduser()
            self.path_template = str(path if path.is_absolute() else (cwd / path).resolve())
            if "{domain}" not in self.path_template and not Path(self.path_template).is_file():
                raise PlannerSpecError(f"{spec}: {self.path_template}: no such heuristic file")

    def heuristic_for(self, task: Task) -> str:
        """The built-in name or the heuristic file of ``task``'s domain."""
        if self.builtin:
            return self.config
        return self.path_template.replace("{domain}", task.domain)

    def applies_to(self, task: Task) -> bool:
        return self.builtin or Path(self.heuristic_for(task)).is_file()

    def fingerprint(self, task: Task) -> str:
        if self.builtin:
            return self.spec
        digest = hashlib.sha256(Path(self.heuristic_for(task)).read_bytes()).hexdigest()
        return f"{self.spec}#{digest[:16]}"

    def invocation(self, task: Task, workdir: Path, limits: Limits,
                   deadline: float) -> Invocation:
        plan = workdir / "plan"
        argv = [sys.executable, "-m", "ahd.planners.competition.run_ahd",
                str(task.domain_file), str(task.problem_file), str(plan),
                "--heuristic", self.heuristic_for(task), "--deadline", repr(deadline)]
        if limits.memory_mb is not None:
            argv += ["--memory-mb", repr(float(limits.memory_mb))]
        return Invocation(argv, plan, {})

    def interpret(self, returncode: int, log: str, workdir: Path) -> Outcome:
        result = None
        for line in reversed(log.splitlines()):
            if line.startswith(AHD_RESULT_TAG):
                result = json.loads(line[len(AHD_RESULT_TAG):])
                break
        if result is None:
            return _crash_outcome(returncode, log)
        status = result["status"]
        expanded = result.get("expanded")
        mapped = {"solved": "plan", "unsolvable": "unsolvable", "time_limit": "timeout",
                  "memory_limit": "memory"}.get(status, "unsolved" if status != "error"
                                                else "error")
        plan = workdir / "plan" if mapped == "plan" else None
        return Outcome(mapped, plan, expanded, result.get("error"))


# ------------------------------------------------------------------------- Fast Downward


def fast_downward_paths() -> tuple[Path, Path] | str:
    """``(driver script, downward binary)`` of up-fast-downward, or why they are missing."""
    spec = importlib.util.find_spec("up_fast_downward")
    if spec is None or spec.origin is None:
        return "the up-fast-downward package is not installed (pip install up-fast-downward)"
    root = Path(spec.origin).parent / "downward"
    driver = root / "fast-downward.py"
    binary = root / "builds" / "release" / "bin" / "downward"
    if not driver.is_file():
        return f"up-fast-downward ships no driver at {driver}"
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        return f"up-fast-downward ships no executable search binary at {binary}"
    return driver, binary


def _fd_aliases(driver: Path) -> set[str]:
    """Alias and portfolio names the shipped driver knows (read from its source)."""
    names: set[str] = set()
    aliases = driver.parent / "driver" / "aliases.py"
    if aliases.is_file():
        names |= set(re.findall(r'ALIASES\["([^"]+)"\]', aliases.read_text()))
    portfolios = driver.parent / "driver" / "portfolios"
    if portfolios.is_dir():
        names |= {p.stem.replace("_", "-") for p in portfolios.glob("*.py")}
    return names


_FD_EXPANDED = re.compile(r"Expanded (\d+) state")
#: Fast Downward exit codes (driver/returncodes.py) -> outcome status.
_FD_CODES = {10: "unsolvable", 11: "unsolvable", 12: "unsolved", 13: "unsolved",
             20: "memory", 22: "memory", 24: "memory", 21: "timeout", 23: "timeout"}


class FastDownwardPlanner(Planner):
    """Fast Downward's driver; its own limits are set too, so a search process orphaned by
    a killed driver still stops."""

    kind = "fd"

    def __init__(self, label: str, spec: str, config: str) -> None:
        super().__init__(label, spec, config)
        found = fast_downward_paths()
        self._missing = found if isinstance(found, str) else None
        if isinstance(found, str):
            self.search: list[str] = []
            return
        self.driver = found[0]
        if config in FD_CONFIGS:
            self.search = FD_CONFIGS[config]
        elif "(" in config:
            self.search = ["--search", config]
        elif config in _fd_aliases(self.driver):
            self.search = []
            self.alias = config
        else:
            known = sorted(set(FD_CONFIGS) | _fd_aliases(self.driver))
            raise PlannerSpecError(
                f"{spec}: unknown Fast Downward configuration; use a search string such as "
                f"fd:eager_greedy([ff()]) or one of {', '.join(known)}"
            )

    def unavailable(self) -> str | None:
        return self._missing

    def invocation(self, task: Task, workdir: Path, limits: Limits,
                   deadline: float) -> Invocation:
        plan = workdir / "plan"
        argv = [sys.executable, str(self.driver), "--plan-file", str(plan),
                "--overall-time-limit", f"{max(1, int(limits.time))}s"]
        if limits.memory_mb is not None:
            argv += ["--overall-memory-limit", f"{int(limits.memory_mb)}M"]
        if not self.search:
            argv += ["--alias", self.alias]
        argv += [str(task.domain_file), str(task.problem_file), *self.search]
        return Invocation(argv, plan, {})

    def interpret(self, returncode: int, log: str, workdir: Path) -> Outcome:
        hits = _FD_EXPANDED.findall(log)
        expanded = int(hits[-1]) if hits else None
        plans = [p for p in workdir.glob("plan*") if p.name == "plan"
                 or re.fullmatch(r"plan\.\d+", p.name)]
        if returncode in (0, 1, 2, 3) and plans:
            # anytime configurations write plan.1, plan.2, ...: the last is the best
            best = max(plans, key=lambda p: int(p.suffix[1:]) if p.suffix else 0)
            return Outcome("plan", best, expanded)
        status = _FD_CODES.get(returncode)
        if status is not None:
            return Outcome(status, None, expanded)
        return _crash_outcome(returncode, log)


# ------------------------------------------------------------------------------- pyperplan


_PYPERPLAN_HEURISTICS = ("hadd", "hff", "hmax", "hsa", "lmcut", "blind", "landmark")
_PYPERPLAN_SEARCHES = ("astar", "wastar", "gbf", "bfs", "ehs", "ids", "sat")


class PyperplanPlanner(Planner):
    """pyperplan, run on a link to the problem inside the work folder (it writes
    ``PROBLEM.soln`` next to the problem file it is given)."""

    kind = "pyperplan"

    def __init__(self, label: str, spec: str, config: str) -> None:
        super().__init__(label, spec, config)
        heuristic, _, search = config.partition(":")
        self.heuristic, self.search = heuristic or "hff", search or "gbf"
        if self.heuristic not in _PYPERPLAN_HEURISTICS:
            raise PlannerSpecError(f"{spec}: pyperplan heuristics: {_PYPERPLAN_HEURISTICS}")
        if self.search not in _PYPERPLAN_SEARCHES:
            raise PlannerSpecError(f"{spec}: pyperplan searches: {_PYPERPLAN_SEARCHES}")

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("pyperplan") is None:
            return "the pyperplan package is not installed (pip install pyperplan)"
        return None

    def invocation(self, task: Task, workdir: Path, limits: Limits,
                   deadline: float) -> Invocation:
        link = workdir / "problem.pddl"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(task.problem_file)
        argv = [sys.executable, "-m", "pyperplan", "-H", self.heuristic, "-s", self.search,
                str(task.domain_file), str(link)]
        return Invocation(argv, workdir / "problem.pddl.soln", {})

    def interpret(self, returncode: int, log: str, workdir: Path) -> Outcome:
        m = re.findall(r"(\d+) Nodes expanded", log)
        expanded = int(m[-1]) if m else None
        plan = workdir / "problem.pddl.soln"
        if returncode == 0 and plan.is_file():
            return Outcome("plan", plan, expanded)
        if returncode == 0 and "No solution could be found" in log:
            return Outcome("unsolved", None, expanded)
        if "SemanticError" in log:
            return Outcome("error", None, expanded, "pyperplan cannot read the task (it has no "
                           "negative preconditions, among others): " + _last_lines(log, 1))
        return _crash_outcome(returncode, log)


# ------------------------------------------------------------------------------------ cmd


class CommandPlanner(Planner):
    """An arbitrary program, for planners without a runner here (and for tests)."""

    kind = "cmd"

    def __init__(self, label: str, spec: str, config: str) -> None:
        super().__init__(label, spec, config)
        try:
            self.words = shlex.split(config)
        except ValueError as exc:
            raise PlannerSpecError(f"{spec}: {exc}") from exc
        if not self.words:
            raise PlannerSpecError(f"{spec}: empty command")
        if not any("{plan}" in w for w in self.words):
            self.words += ["{domain}", "{problem}", "{plan}"]

    def invocation(self, task: Task, workdir: Path, limits: Limits,
                   deadline: float) -> Invocation:
        plan = workdir / "plan"
        values = {"domain": str(task.domain_file), "problem": str(task.problem_file),
                  "plan": str(plan), "time": f"{limits.time:g}",
                  "memory_mb": "" if limits.memory_mb is None else f"{limits.memory_mb:g}"}
        argv = [w.format_map(values) if "{" in w else w for w in self.words]
        return Invocation(argv, plan, {})

    def interpret(self, returncode: int, log: str, workdir: Path) -> Outcome:
        plan = workdir / "plan"
        if returncode == 0 and plan.is_file():
            return Outcome("plan", plan)
        if returncode == 0:
            return Outcome("unsolved")
        return _crash_outcome(returncode, log)


# --------------------------------------------------------------------------------- parsing

_LABEL = re.compile(r"^([\w.+-]+)=(\w+:.*)$", re.S)
KINDS = ("ahd", "fd", "pyperplan", "cmd")


def parse_planner(text: str, cwd: str | os.PathLike[str] | None = None) -> Planner:
    """A planner from its spec (see the module documentation).

    Parameters
    ----------
    text : str
        ``[LABEL=]KIND:CONFIG``.
    cwd : path, optional
        Folder that relative heuristic files are resolved against (default: the current one);
        runs start in their own work folders, so paths are made absolute here.

    Raises
    ------
    PlannerSpecError
        For an unknown kind or configuration, naming the choices.
    """
    spec = text.strip()
    m = _LABEL.match(spec)
    label, body = (m.group(1), m.group(2)) if m else (spec, spec)
    kind, sep, config = body.partition(":")
    if not sep or not config:
        raise PlannerSpecError(f"{text!r}: write KIND:CONFIG with KIND one of {', '.join(KINDS)}")
    base = Path(cwd) if cwd is not None else Path.cwd()
    if kind == "ahd":
        return AhdPlanner(label, body, config, base)
    if kind == "fd":
        return FastDownwardPlanner(label, body, config)
    if kind == "pyperplan":
        return PyperplanPlanner(label, body, config)
    if kind == "cmd":
        return CommandPlanner(label, body, config)
    raise PlannerSpecError(f"{text!r}: unknown planner kind {kind!r}; use {', '.join(KINDS)}")
