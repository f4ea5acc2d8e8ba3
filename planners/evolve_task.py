"""Planning as an evolution task: one domain, one role (``heuristic``), candidates scored alone.

The loop in :mod:`ahd.evolve` sees only the :class:`~ahd.evolve.task.Task` protocol; this module
supplies what a planning heuristic means. A candidate is a Python module defining
``h(state, task)`` (and optionally ``init(task)``, see :mod:`ahd.planners.heuristics.api`); it
is scored by greedy best-first search on a domain's training tasks, alone
(``cooperative = False``: heuristics do not share a search the way LNS operators share one).

Tasks and splits
----------------
``DIR`` has the IPC 2023 learning-track layout (``domain.pddl``, ``training/easy/p01.pddl``
...; :func:`ahd.planners.domains.write_suite` writes it too). The training files, in name
order (which is size order in that benchmark), are split alternately: even positions train,
odd positions validate, so both halves cover the whole size range. ``n_train`` and
``n_validation`` then keep that many tasks of each half, evenly spread over it (``0`` keeps
all). The winner is chosen on the validation half, never on the tasks it was evolved on.

Fitness (lower is better)
-------------------------
``fitness = (n_tasks - solved) + mean(log1p(expansions of the solved tasks)) / 100``

with the mean taken as ``log1p(max_expansions)`` when nothing is solved. With the default
limit of 20,000 expansions the second term is below 0.1, so one more solved task always
beats any saving in expansions, and among heuristics that solve the same tasks the one that
needs fewer expansions (a geometric mean) wins. Expansions, not seconds, break ties because
they do not depend on the machine's load; the per-task time limit only stops heuristics that
are too slow to be useful.

Trust
-----
Candidate code runs only in a sandbox child (:func:`run_heuristic`, one child per task): the
child searches with the candidate's heuristic and returns the plan as action strings plus
counters. The parent checks the result's structure strictly and counts a task as solved only
if :func:`ahd.planners.plan.simulate` (trusted, on the lifted task the parent parsed itself)
accepts the plan. Expansion counts cannot be checked; they are clamped to
``[len(plan), max_expansions]`` and weigh less than one task in total, so a forged count can
only reorder heuristics that solve equally many tasks. A heuristic that raises or returns a
non-number leaves that task unsolved with the error recorded; one that never returns is
killed at the task's wall-clock limit (``time_limit + sandbox_grace``).

Ground tasks are built once in the parent (grounding is trusted code on trusted files) and
sent to each child with its request, so children never read the PDDL files and never ground.
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import hashlib
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ahd.candidate import Candidate, Origin
from ahd.evolve.task import TeamOutcome
from ahd.static_check import SAFE_BUILTINS, RoleSpec, parse_source, static_check

from .features import GOALCOUNT_SOURCE, DomainProfile, analyse, warm_up_features

ROLE = "heuristic"
ROLES = (ROLE,)
#: The function a heuristic module must define (the role's entry point).
ENTRY = "h"
#: The sandbox child's entry point and the worker warm-up (compiled kernels, imports).
CHILD_SPEC = "ahd.planners.evolve_task:run_heuristic"
WARMUP_SPEC = "ahd.planners.evolve_task:warm_worker"
#: Modules heuristic code may import.
ALLOWED_IMPORTS = frozenset({
    "math", "collections", "heapq", "itertools", "functools", "ahd.planners.features",
})
#: Names heuristic code may use without binding them.
ALLOWED_NAMES = SAFE_BUILTINS | frozenset({
    "ArithmeticError", "LookupError", "OverflowError", "StopIteration", "hash", "callable",
})
#: Keys of the child's result, exactly.
CHILD_KEYS = ("status", "plan", "expanded", "evaluated", "search_time", "error")
#: Search statuses the child may report (those of ``greedy_best_first_search``).
SEARCH_STATUSES = ("solved", "unsolvable", "time_limit", "memory_limit", "expansion_limit",
                   "error")
#: Longest plan accepted from a child (longer is treated as a malformed result).
MAX_PLAN_STEPS = 100_000
_MAX_ACTION_CHARS = 2_000
_SANDBOX_STATUS = {"timeout": "timeout", "cpu_limit": "timeout", "memory": "memory",
                   "crashed": "crashed", "killed": "crashed", "output_limit": "error",
                   "bad_result": "invalid", "error": "error"}


@dataclass
class PlanningTaskConfig:
    """Which tasks, and the limits of every scored search.

    Parameters
    ----------
    domain_dir : Path
        A folder with ``domain.pddl`` and ``training/**/*.pddl`` (IPC 2023 learning track).
    n_train, n_validation : int
        Tasks kept from each half of the alternate split, evenly spread (0 = all).
    max_expansions : int
        Expansion limit per task (decides fitness; independent of machine load).
    time_limit : float
        Search seconds per task (``init`` included), to stop heuristics too slow to be useful.
    smoke_expansions, smoke_time : int, float
        Limits of the admission run on the smallest training task.
    memory_mb : float
        Resident-memory limit of one search.
    sandbox_grace : float
        Seconds beyond ``time_limit`` before the sandbox kills a child whose heuristic never
        returns (the search checks its clock only between heuristic calls).
    """

    domain_dir: Path
    n_train: int = 16
    n_validation: int = 32
    max_expansions: int = 20_000
    time_limit: float = 2.0
    smoke_expansions: int = 2_000
    smoke_time: float = 2.0
    memory_mb: float = 1024.0
    sandbox_grace: float = 5.0

    def __post_init__(self) -> None:
        self.domain_dir = Path(self.domain_dir)
        for name in ("n_train", "n_validation"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (0 keeps every task)")
        for name in ("max_expansions", "smoke_expansions"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("time_limit", "smoke_time", "memory_mb", "sandbox_grace"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be positive seconds/MiB, got {value}")


# --------------------------------------------------------------------------- tasks and splits


def _natural(path: Path) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.as_posix())]


def find_tasks(domain_dir: str | os.PathLike[str]) -> tuple[Path, list[Path]]:
    """``(domain.pddl, training task files in natural name order)`` of a learning-track folder.

    Raises
    ------
    ValueError
        No ``domain.pddl``, or fewer than two training tasks (one for each split).
    """
    root = Path(domain_dir)
    domain = root / "domain.pddl"
    if not domain.is_file():
        raise ValueError(f"{root}: no domain.pddl (expected the IPC 2023 learning-track layout: "
                         "domain.pddl, training/easy/p01.pddl ...)")
    files = sorted((p for p in (root / "training").rglob("*.pddl") if p.is_file()),
                   key=lambda p: _natural(p.relative_to(root)))
    if len(files) < 2:
        raise ValueError(f"{root / 'training'}: need at least two task files (.pddl), "
                         f"found {len(files)}")
    return domain, files


def spread(items: list[Any], n: int) -> list[Any]:
    """``n`` items evenly spread over ``items`` (first and last included); all if ``n`` is 0."""
    if n <= 0 or n >= len(items):
        return list(items)
    picks = sorted({int(round(x)) for x in np.linspace(0, len(items) - 1, n)})
    return [items[i] for i in picks]


def split_tasks(files: list[Path], n_train: int, n_validation: int) -> dict[str, list[Path]]:
    """Alternate split (even positions train, odd validate), then :func:`spread` each half."""
    return {"train": spread(files[0::2], n_train), "validation": spread(files[1::2],
                                                                        n_validation)}


def fitness(expansions_of_solved: list[int], n_tasks: int, max_expansions: int) -> float:
    """The fitness of the module docstring (lower is better)."""
    unsolved = n_tasks - len(expansions_of_solved)
    if expansions_of_solved:
        mean = float(np.mean(np.log1p(np.asarray(expansions_of_solved, dtype=float))))
    else:
        mean = math.log1p(max_expansions)
    return unsolved + mean / 100.0


# --------------------------------------------------------------------------- the child side


def warm_worker() -> None:
    """Sandbox worker warm-up: load the search kernels and helpers before any child forks.

    Without it every child would load numba's cached machine code again (about 0.3 s) or,
    on a fresh checkout, compile it.
    """
    from .heuristics import heuristic_from_source
    from .warmup import warm_up

    warm_up()
    warm_up_features()
    heuristic_from_source(GOALCOUNT_SOURCE)


def run_heuristic(request: dict) -> dict:
    """Child side: search one ground task with the candidate's heuristic.

    Returns plain data only (:data:`CHILD_KEYS`): the plan as action strings, never a score.
    """
    from .heuristics import HeuristicError, heuristic_from_source
    from .search import greedy_best_first_search

    task = request["task"]
    try:
        heuristic = heuristic_from_source(request["source"], name="candidate",
                                          filename="heuristic.py")
    except HeuristicError as exc:
        return {"status": "error", "plan": None, "expanded": 0, "evaluated": 0,
                "search_time": 0.0, "error": str(exc)}
    out = greedy_best_first_search(
        task, heuristic, time_limit=request["time_limit"],
        max_expansions=request["max_expansions"], memory_limit_mb=request["memory_mb"],
    )
    plan = None if out.plan is None else [task.op_name(o) for o in out.plan]
    return {"status": out.status, "plan": plan, "expanded": int(out.expanded),
            "evaluated": int(out.evaluated), "search_time": float(out.search_time),
            "error": out.error or ""}


# --------------------------------------------------------------------------- the parent side


@dataclass
class PlanningRecord:
    """One task's verified outcome, in the shape the loop stores.

    ``status``: ``ok`` (a plan the parent verified; ``objective`` is
    ``log1p(expansions) / 100``), ``timeout`` (a search limit was reached, or the sandbox
    killed the child), ``error`` (the heuristic raised or returned a non-number), ``invalid``
    (a malformed result, or a plan that fails the check), ``infeasible`` (the search space ran
    out: the heuristic pruned every path with ``inf``), ``memory``, ``crashed``.
    ``solved`` and ``limit`` say how the task counts; ``metrics`` keeps the counters.
    """

    instance: str
    status: str
    objective: float | None = None
    time: float | None = None
    error: str | None = None
    solved: bool = False
    limit: bool = False
    expanded: int = 0
    cost: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """The heuristic misbehaved (as opposed to solving, or running into a limit)."""
        return not (self.solved or self.limit)


class InvalidResult(ValueError):
    """A child's result that is not exactly what :func:`run_heuristic` returns."""


def check_child_result(value: Any) -> dict:
    """Validate the structure of a child's result strictly (it may come from hostile code)."""
    if type(value) is not dict:
        raise InvalidResult(f"expected a dict, got {type(value).__name__}")
    if set(value) != set(CHILD_KEYS):
        raise InvalidResult(f"expected keys {sorted(CHILD_KEYS)}, got {sorted(map(str, value))}")
    status, plan, error = value["status"], value["plan"], value["error"]
    if type(status) is not str or status not in SEARCH_STATUSES:
        raise InvalidResult(f"unknown status {status!r:.60}")
    for key in ("expanded", "evaluated"):
        if type(value[key]) is not int or value[key] < 0:
            raise InvalidResult(f"{key} must be a non-negative int")
    if type(value["search_time"]) not in (int, float) or not value["search_time"] >= 0:
        raise InvalidResult("search_time must be a non-negative number")
    if type(error) is not str:
        raise InvalidResult("error must be a string")
    if plan is not None:
        if type(plan) is not list or len(plan) > MAX_PLAN_STEPS:
            raise InvalidResult(f"plan must be a list of at most {MAX_PLAN_STEPS} strings")
        if any(type(a) is not str or len(a) > _MAX_ACTION_CHARS for a in plan):
            raise InvalidResult("plan steps must be short strings")
    if (status == "solved") != (plan is not None):
        raise InvalidResult("a plan must come with status 'solved', and only then")
    return value


@dataclass
class _Prepared:
    name: str
    lifted: Any
    task: Any


class PlanningTask:
    """A planning domain as an evolution task (see the module docstring).

    Parameters
    ----------
    config : PlanningTaskConfig
        Tasks and limits.
    pool : SandboxPool
        Started with ``warmup=WARMUP_SPEC`` (and ``prewarm_numba="basic"``: heuristics are
        plain Python, nothing for numba to compile per candidate).
    """

    cooperative = False
    roles = ROLES
    problem = "planning"
    #: Prompt templates ``ahd/prompts/planning_<name>.txt`` take precedence for this task.
    prompt_prefix = "planning_"
    #: Function name per role (the LLM proposer extracts and asks for these).
    entry_points = {ROLE: ENTRY}

    def __init__(self, config: PlanningTaskConfig, pool: Any):
        self.config = config
        self.pool = pool
        self.domain_file, files = find_tasks(config.domain_dir)
        self.files = split_tasks(files, config.n_train, config.n_validation)
        self.domain_name = config.domain_dir.resolve().name
        self._prepared: dict[str, list[_Prepared]] = {}
        self._profile: DomainProfile | None = None
        #: (candidate id, split) -> summary of its last evaluation (for the proposers)
        self.stats: dict[tuple[int, str], dict[str, Any]] = {}

    # --- tasks ----------------------------------------------------------------------------

    def prepared(self, split: str) -> list[_Prepared]:
        """Parsed and ground tasks of ``split`` (built once, in this trusted process)."""
        if split not in self._prepared:
            from .ground import ground
            from .pddl_io import read_task

            out = []
            for path in self.files[split]:
                lifted = read_task(self.domain_file, path)
                out.append(_Prepared(self._name(path), lifted, ground(lifted)))
            self._prepared[split] = out
        return self._prepared[split]

    def _name(self, path: Path) -> str:
        return path.relative_to(self.config.domain_dir / "training").with_suffix("").as_posix()

    def instance_names(self, split: str) -> list[str]:
        return [self._name(p) for p in self.files[split]]

    @property
    def profile(self) -> DomainProfile:
        """The domain's structure and feature catalogue, from the training tasks."""
        if self._profile is None:
            train = self.prepared("train")
            self._profile = analyse([p.lifted for p in train], train[-1].task.static_atoms)
        return self._profile

    # --- texts ----------------------------------------------------------------------------

    def describe(self) -> str:
        """Domain PDDL, the smallest and largest training tasks, and how heuristics are scored
        (what Corrêa et al. gave the LLM, minus the worked examples of other domains)."""
        c = self.config
        train = self.files["train"]
        parts = [
            f"Classical planning, domain '{self.domain_name}'. Write a domain-dependent "
            "heuristic that guides greedy best-first search (GBFS) to a plan quickly.",
            f"Scoring: each heuristic runs GBFS on {len(train)} training tasks of this domain "
            f"(at most {c.max_expansions} expansions and {c.time_limit:g} s per task); fitness "
            "= unsolved tasks + mean(log1p(expansions of solved tasks)) / 100, lower is "
            "better, so solving one more task always beats saving expansions. Every plan is "
            "checked by a validator. The best heuristics are then compared on held-out tasks.",
            "Domain PDDL:\n```pddl\n" + self.domain_file.read_text().strip() + "\n```",
        ]
        examples = [("smallest", train[0]), ("largest", train[-1])] if len(train) > 1 else [
            ("example", train[0])]
        for label, path in examples:
            text = path.read_text().strip()
            if len(text) > 6000:
                text = text[:6000] + "\n... (truncated)"
            parts.append(f"The {label} training task ({self._name(path)}):\n```pddl\n{text}\n```")
        return "\n\n".join(parts)

    def role_doc(self, role: str) -> str:
        """The heuristic API (the module docstring of ``ahd.planners.heuristics.api``), the
        compiled helpers and the rules of the check."""
        from .heuristics import api

        if role != ROLE:
            raise KeyError(f"planning has one role, {ROLE!r}, not {role!r}")
        return (
            "Write a Python module that defines `h(state, task)` and optionally "
            "`init(task)`. Plain Python (no numba).\n\n"
            + (api.__doc__ or "").strip()
            + "\n\nFast helpers you may import (optional): `from ahd.planners.features import "
            "relaxed_plan_length, relaxed_cost`; `relaxed_plan_length(state, task)` is h_FF "
            "(length of a relaxed plan, ignoring delete effects) and `relaxed_cost(state, "
            "task)` is h_add, both computed by compiled code (about as cheap as a goal count) "
            "and `float('inf')` when the goal is unreachable even relaxed. Domain knowledge "
            "added to them (or instead of them) is what makes a heuristic better.\n\n"
            f"Allowed imports: {', '.join(sorted(ALLOWED_IMPORTS))}. No files, processes, "
            "network, eval/exec or getattr."
        )

    def parent_summary(self, parent: Any) -> str:
        """Statistics of a parent on the training tasks, for the LLM prompt."""
        cid = parent.candidate.id
        stats = self.stats.get((cid, "train"))
        if stats is None:  # e.g. after --resume: decode the credit (= -fitness)
            fit = -float(parent.credit)
            if not math.isfinite(fit):
                return "failed on the training tasks"
            n = len(self.files["train"])
            unsolved = int(math.floor(fit + 1e-9))
            mean = math.expm1(100.0 * (fit - unsolved))
            return (f"fitness {fit:.4f}: solved {n - unsolved}/{n} training tasks, "
                    f"geometric-mean expansions {mean:.0f}")
        text = (f"fitness {stats['fitness']:.4f}: solved {stats['solved']}/{stats['n']} "
                f"training tasks, geometric-mean expansions {stats['mean_expanded']:.0f}")
        if stats["unsolved"]:
            text += f"; unsolved: {', '.join(stats['unsolved'][:8])}"
        if stats["errors"]:
            text += f"; errors: {stats['errors'][0][:300]}"
        return text

    # --- candidates -----------------------------------------------------------------------

    def seeds(self) -> dict[str, list[Candidate]]:
        """Goal count, as Python source (the baseline every evolved heuristic must beat)."""
        seed = Candidate(GOALCOUNT_SOURCE, ROLES, self.problem,
                         origin=Origin("seed", strategy="goalcount"))
        return {ROLE: [seed]}

    def check(self, source: str, roles: tuple[str, ...]) -> list[str]:
        """Static problems: syntax, imports, names, ``h(state, task)`` and ``init(task)``."""
        if tuple(roles) != ROLES:
            return [f"planning candidates fill exactly the role {ROLE!r}, not {roles}"]
        if not isinstance(source, str) or not source.strip():
            return ["the source is empty: define h(state, task)"]
        spec = RoleSpec(ROLE, ("state", "task"), ENTRY)
        messages = static_check(source, [spec], allowed_imports=ALLOWED_IMPORTS,
                                allowed_names=ALLOWED_NAMES)
        if messages:
            return messages
        tree, _ = parse_source(source)
        for node in tree.body if tree is not None else ():
            if isinstance(node, ast.FunctionDef) and node.name == "init":
                a = node.args
                if a.vararg or a.kwarg or a.kwonlyargs or len(a.posonlyargs) + len(a.args) != 1:
                    return [f"line {node.lineno}: 'init' must take exactly one parameter: "
                            "'def init(task)'"]
        return []

    def smoke(self, candidates: list[Candidate]) -> list[str]:
        """Each candidate on the smallest training task with small limits; ``""`` or the error.

        A limit reached is fine here (the task may need more); an exception, a non-number,
        a timeout (an endless loop) or a plan that fails the check is not.
        """
        c = self.config
        first = self.prepared("train")[0]
        jobs = [self._submit(cand.source, first, c.smoke_expansions, c.smoke_time)
                for cand in candidates]
        out = []
        for future in jobs:
            rec = self._record(first, future.result(), c.smoke_expansions, c.smoke_time)
            out.append(f"{rec.status}: {rec.error or ''}".strip() if rec.failed else "")
        return out

    # --- scoring --------------------------------------------------------------------------

    def _limits(self, time_limit: float) -> Any:
        from ahd.sandbox.records import SandboxLimits

        return SandboxLimits(wall_time=time_limit + self.config.sandbox_grace)

    def _submit(self, source: str, prep: _Prepared, max_expansions: int, time_limit: float
                ) -> cf.Future:
        request = {"source": source, "task": prep.task, "max_expansions": int(max_expansions),
                   "time_limit": float(time_limit), "memory_mb": float(self.config.memory_mb)}
        return self.pool.submit(CHILD_SPEC, (request,), self._limits(time_limit))

    def _record(self, prep: _Prepared, result: Any, max_expansions: int, time_limit: float
                ) -> PlanningRecord:
        """Trusted side: check the child's answer, verify its plan, and classify the task."""
        from ahd.evaluate import _clip, redact

        from .errors import InvalidPlan
        from .plan import simulate

        name = prep.name
        wall = float(result.wall_time)
        base = {"sandbox_status": result.status, "cpu_time": float(result.cpu_time)}

        def failed(status: str, error: str, **kw: Any) -> PlanningRecord:
            return PlanningRecord(name, status, None, wall, redact(_clip(error)),
                                  metrics=base, **kw)

        if result.status != "ok":
            status = _SANDBOX_STATUS.get(result.status, "error")
            error = result.error or result.status
            if status == "timeout":
                error = (f"no answer within {time_limit + self.config.sandbox_grace:g} s: the "
                         f"heuristic (or its init) ran far past the {time_limit:g} s limit; an "
                         f"endless loop? ({error})")
            return failed(status, error)
        try:
            value = check_child_result(result.value)
        except InvalidResult as exc:
            return failed("invalid", f"invalid result from the sandbox: {exc}")
        status = value["status"]
        metrics = {**base, "search_status": status, "evaluated": value["evaluated"],
                   "search_seconds": float(value["search_time"])}
        if status == "solved":
            plan = value["plan"]
            try:
                cost = simulate(prep.lifted, plan)
            except InvalidPlan as exc:
                return failed("invalid", f"the plan failed the check: {exc}")
            expanded = int(min(max(value["expanded"], len(plan)), max_expansions))
            metrics.update(expanded=expanded, plan_length=len(plan))
            return PlanningRecord(name, "ok", math.log1p(expanded) / 100.0, wall, None, True,
                                  False, expanded, cost, metrics)
        metrics["expanded"] = value["expanded"]
        if status in ("expansion_limit", "time_limit"):
            what = (f"expansion limit ({max_expansions})" if status == "expansion_limit"
                    else f"time limit ({time_limit:g} s)")
            return PlanningRecord(name, "timeout", None, wall, f"{what} reached, no plan",
                                  limit=True, metrics=metrics)
        if status == "memory_limit":
            return PlanningRecord(name, "memory", None, wall, "memory limit reached, no plan",
                                  limit=True, metrics=metrics)
        if status == "unsolvable":
            return PlanningRecord(
                name, "infeasible", None, wall,
                "search space exhausted without a plan: the heuristic returned inf for every "
                "way forward (only return inf for true dead ends)", metrics=metrics)
        return failed("error", value["error"] or "the search failed")

    def evaluate(self, team: dict[str, list[Candidate]], split: str) -> TeamOutcome:
        """The candidate alone on every task of ``split``, one sandbox child per task."""
        (cand,) = team[ROLE]
        c = self.config
        preps = self.prepared(split)
        futures = [self._submit(cand.source, p, c.max_expansions, c.time_limit) for p in preps]
        records = [self._record(p, f.result(), c.max_expansions, c.time_limit)
                   for p, f in zip(preps, futures, strict=True)]
        solved = [r.expanded for r in records if r.solved]
        value = fitness(solved, len(records), c.max_expansions)
        outcome = TeamOutcome(fitness=value, records=list(records))
        outcome.objectives = {r.instance: (r.objective if r.solved else 1.0) for r in records}
        errors = [f"{r.instance}: {r.status}: {r.error}" for r in records if r.failed]
        if records and all(r.failed for r in records):
            outcome.error = errors[0]
            if cand.id is not None:
                outcome.errors[cand.id] = outcome.error
        if cand.id is not None:
            self.stats[(cand.id, split)] = {
                "fitness": value, "solved": len(solved), "n": len(records),
                "mean_expanded": float(np.expm1(np.mean(np.log1p(solved)))) if solved else 0.0,
                "unsolved": [r.instance for r in records if not r.solved],
                "errors": errors,
            }
        return outcome


# --------------------------------------------------------------------------- export


def export_heuristic(source: str, out_dir: str | os.PathLike[str], domain: str,
                     header: list[str]) -> Path:
    """Write a winning heuristic as a standalone module (atomically); return its path.

    The file is the candidate's source under a provenance comment; it defines ``h`` (and
    maybe ``init``), so ``ahd plan DOMAIN PROBLEM --heuristic FILE`` and
    :func:`ahd.planners.load_heuristic` take it as it is.
    """
    digest = hashlib.sha256(source.encode()).hexdigest()[:8]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# " + "-" * 98, f"# Exported by ahd evolve on {stamp}."]
    lines += [f"# {h}" for h in header]
    lines += ["# Usage:", "#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py",
              "#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')",
              "# " + "-" * 98, ""]
    text = "\n".join(lines) + "\n" + source.rstrip() + "\n"
    compile(text, "heuristic.py", "exec")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"planning_{re.sub(r'[^A-Za-z0-9_-]+', '_', domain)}_{digest}.py"
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".export-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
    return path


__all__ = [
    "ALLOWED_IMPORTS", "CHILD_SPEC", "ENTRY", "PlanningRecord", "PlanningTask",
    "PlanningTaskConfig", "ROLE", "ROLES", "WARMUP_SPEC", "check_child_result",
    "export_heuristic", "find_tasks", "fitness", "run_heuristic", "split_tasks", "warm_worker",
]
