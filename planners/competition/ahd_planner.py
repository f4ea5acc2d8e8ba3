"""The ``ahd:`` planner kind: our GBFS with a built-in or evolved heuristic, one process a task.

Evaluating evolved heuristics against other planners is what ``ahd plan-eval`` is for, so
this planner resolves heuristic files (``{domain}`` picks one per domain) and fingerprints
them by content: a stored result of an older heuristic file is re-run. Each run is the
:mod:`.run_ahd` script, which prints its result as JSON after :data:`AHD_RESULT_TAG`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from pathlib import Path

from ahd.planners.evolve_export import declared_search

from .planner_base import Invocation, Limits, Outcome, Planner, PlannerSpecError, crash_outcome
from .suite import Task

__all__ = ["AHD_RESULT_TAG", "AhdPlanner"]

#: The line prefix under which the ``ahd`` runner prints its result as JSON.
AHD_RESULT_TAG = "AHD-RESULT "
#: Search configurations a spec may name after the heuristic (``ahd:hff:lazy-pref``), as
#: ``run_ahd`` options: eager GBFS (the default), lazy GBFS, lazy GBFS with h_FF's preferred
#: operators in a boosted second open list (LAMA's search, without its landmarks), that
#: search with the landmark count as a second heuristic (LAMA's first search), eager or lazy
#: GBFS alternating the heuristic with the landmark count (any heuristic, evolved ones
#: included), and enforced hill-climbing.
SEARCH_CONFIGS = {"eager": [], "lazy": ["--lazy"], "lazy-pref": ["--lazy", "--preferred"],
                  "lama": ["--lazy", "--preferred", "--landmarks"], "lm": ["--landmarks"],
                  "lazy-lm": ["--lazy", "--landmarks"], "ehc": ["--search", "ehc"]}
#: Whole configurations by name: ``ahd:lama`` is ``ahd:hff:lama``.
ALIASES = {"lama": "hff:lama"}


class AhdPlanner(Planner):
    """Our GBFS through :mod:`ahd.planners.competition.run_ahd`, one process per task.

    ``config`` is a built-in heuristic name or a ``.py`` heuristic file, relative to ``cwd``
    (default: the current folder), optionally followed by ``:SEARCH`` (:data:`SEARCH_CONFIGS`;
    without it, a file exported by ``ahd evolve`` runs with the search it was evolved for, its
    ``# ahd-search:`` line, and anything else with eager GBFS) and by ``@SEED`` (GBFS
    expands successors in an order shuffled by that seed, as Fast Downward's
    ``randomize_successors``: ``ahd:lama@1``); runs start in their own work folders, so the
    path is made absolute here.
    """

    kind = "ahd"

    def __init__(self, label: str, spec: str, config: str, cwd: Path | None = None) -> None:
        self.seed: int | None = None
        before, at, seed = config.rpartition("@")
        if at and seed.isdigit():  # (an @ inside a heuristic file's path stays there)
            config, self.seed = before, int(seed)
        head, _, tail = ALIASES.get(config, config).rpartition(":")
        #: The search the spec names; ``None``: a heuristic file's declared search, else eager.
        self.search: str | None = None
        if head and tail in SEARCH_CONFIGS:
            config, self.search = head, tail
        super().__init__(label, spec, config)
        if self.seed is not None and self.search == "ehc":
            raise PlannerSpecError(f"{spec}: @SEED shuffles GBFS's successors; "
                                   "enforced hill-climbing takes none")
        from ahd.planners.heuristics import HEURISTICS

        if self.search in ("lazy-pref", "lama") and config != "hff" and not config.endswith(
                ".py"):
            raise PlannerSpecError(f"{spec}: preferred operators come from h_FF: the built-in "
                                   f"hff (ahd:hff:{self.search}) or an evolved heuristic file")
        self.builtin = config in HEURISTICS
        if not self.builtin:
            if not config.endswith(".py"):
                raise PlannerSpecError(
                    f"{spec}: use a built-in heuristic ({', '.join(HEURISTICS)}) "
                    "or a .py file defining h(state, task)"
                )
            path = Path(config).expanduser()
            base = Path.cwd() if cwd is None else Path(cwd)
            self.path_template = str(path if path.is_absolute() else (base / path).resolve())
            if "{domain}" not in self.path_template and not Path(self.path_template).is_file():
                raise PlannerSpecError(f"{spec}: {self.path_template}: no such heuristic file")

    @classmethod
    def from_spec(cls, label: str, spec: str, config: str, cwd: Path) -> AhdPlanner:
        """Heuristic file paths in the spec are relative to ``cwd``."""
        return cls(label, spec, config, cwd)

    def heuristic_for(self, task: Task) -> str:
        """The built-in name or the heuristic file of ``task``'s domain."""
        if self.builtin:
            return self.config
        return self.path_template.replace("{domain}", task.domain)

    def prepare(self) -> str | None:
        """Load, or on a fresh install compile, the search's machine code, once per process
        (every ``ahd:`` planner runs the same code): each run loads it outside its own clock,
        but a run that compiled it (20-60 s on a fresh install) would pass the evaluation's
        wall-clock limit and be recorded as a timeout that says nothing about the planner."""
        return _warm_up_once()

    def search_for(self, task: Task) -> str:
        """The spec's search, or the one ``task``'s heuristic file declares (eager if none)."""
        if self.search is not None or self.builtin:
            return self.search or "eager"
        declared = declared_search(self.heuristic_for(task))
        return declared if declared in SEARCH_CONFIGS else "eager"

    def applies_to(self, task: Task) -> bool:
        return self.builtin or Path(self.heuristic_for(task)).is_file()

    def fingerprint(self, task: Task) -> str:
        if self.builtin:
            return self.spec
        digest = hashlib.sha256(Path(self.heuristic_for(task)).read_bytes()).hexdigest()
        return f"{self.spec}#{digest[:16]}"

    def portable(self, task: Task) -> tuple[str, dict[str, bytes]]:
        """A heuristic file travels as its content, under its own name (the module name)."""
        if self.builtin:
            return self.config, {}
        path = Path(self.heuristic_for(task))
        return path.name, {path.name: path.read_bytes()}

    def invocation(self, task: Task, workdir: Path, limits: Limits,
                   deadline: float) -> Invocation:
        plan = workdir / "plan"
        argv = [sys.executable, "-m", "ahd.planners.competition.run_ahd",
                str(task.domain_file), str(task.problem_file), str(plan),
                "--heuristic", self.heuristic_for(task), "--deadline", repr(deadline),
                *SEARCH_CONFIGS[self.search_for(task)]]
        if self.seed is not None:
            argv += ["--seed", str(self.seed)]
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
            return crash_outcome(returncode, log)
        status = result["status"]
        expanded = result.get("expanded")
        mapped = {"solved": "plan", "unsolvable": "unsolvable", "time_limit": "timeout",
                  "memory_limit": "memory"}.get(status, "unsolved" if status != "error"
                                                else "error")
        plan = workdir / "plan" if mapped == "plan" else None
        return Outcome(mapped, plan, expanded, result.get("error"))


@functools.cache
def _warm_up_once() -> str | None:
    """:meth:`AhdPlanner.prepare`'s work: ``None``, or a warning line if it failed."""
    from ahd.planners.warmup import warm_up

    try:
        warm_up()
    except Exception as exc:  # noqa: BLE001 - any failure: the runs report their own
        return f"compiling ahd's search failed ({type(exc).__name__}: {exc}); runs compile it"
    return None
