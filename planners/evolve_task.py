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
``--set split=largest`` validates on the largest training files instead (the learning track's
test tasks are larger than its training tasks).

Fitness (lower is better)
-------------------------
``fitness = (n_tasks - solved) + mean(log1p(expansions of the solved tasks)) / 100``

with the mean taken as ``log1p(max_expansions)`` when nothing is solved. With the default
limit of 20,000 expansions the second term is below 0.1, so one more solved task always
beats any saving in expansions, and among heuristics that solve the same tasks the one that
needs fewer expansions (a geometric mean) wins. Expansions, not seconds, break ties because
they do not depend on the machine's load; the per-task time limit only stops heuristics that
are too slow to be useful.

Directness (``--set directness_states=N``, off by default): after its search, each child also
evaluates the heuristic on N states sampled per task by random walks (the same states for
every candidate) and on all their successors. A heuristic is direct where some successor
scores strictly lower, which lets hill-climbing walk to the goal (Correa, Pereira & Seipp's
property-guided synthesis). ``0.1 * (1 - rate)`` joins the fitness, still below one task;
the rate and a counterexample state (atoms, and each successor's value) go into the
proposers' view of a parent, and with ``--set directness_fix=R`` a new candidate below rate R
on the smallest training task goes back to the LLM for a fix with counterexamples.

Trust
-----
Candidate code runs only in a sandbox child (:func:`run_heuristic`, one child per task): the
child searches with the candidate's heuristic and returns the plan as action strings plus
counters. The parent checks the result's structure strictly and counts a task as solved only
if :func:`ahd.planners.plan.simulate` (trusted, on the lifted task the parent parsed itself)
accepts the plan. Directness is judged in the parent from the child's plain numbers
(goals, dead ends and successors recomputed here; a malformed probe makes the result
invalid); like expansions, the values themselves cannot be checked, and weigh less than one
task. Expansion counts cannot be checked; they are clamped to
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
import math
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ahd.candidate import Candidate, Origin
from ahd.evolve.task import RunSummary, TeamOutcome
from ahd.static_check import SAFE_BUILTINS, RoleSpec, parse_source, static_check
from ahd.trust import clean_error, record_status

from .evolve_child import (
    CHILD_KEYS,
    MAX_PLAN_STEPS,
    SEARCH_STATUSES,
    InvalidResult,
    PlanningRecord,
    check_child_result,
    run_heuristic,
    warm_worker,
)
from .evolve_config import PlanningTaskConfig, find_tasks, fitness, split_tasks, spread
from .evolve_export import export_heuristic, search_name
from .features import GOALCOUNT_SOURCE, DomainProfile, analyse, render
from .pddl_io import read_pddl_text

ROLE = "heuristic"
#: Longest counterexample text kept per task (it goes into prompts).
MAX_EXAMPLE_CHARS = 2000
ROLES = (ROLE,)
#: The function a heuristic module must define (the role's entry point).
ENTRY = "h"
#: The sandbox child's entry point and the worker warm-up (compiled kernels, imports).
CHILD_SPEC = run_heuristic
WARMUP_SPEC = warm_worker
#: Modules heuristic code may import.
ALLOWED_IMPORTS = frozenset({
    "math", "collections", "heapq", "itertools", "functools", "ahd.planners.features",
})
#: Names heuristic code may use without binding them.
ALLOWED_NAMES = SAFE_BUILTINS | frozenset({
    "ArithmeticError", "LookupError", "OverflowError", "StopIteration", "hash", "callable",
})


@dataclass
class _Prepared:
    name: str
    lifted: Any
    task: Any
    probe: Any = None  # (states, dead ends) of the directness check, sampled once


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
    #: Planning's own prompt templates (``ahd/planners/prompts/``) replace the shared ones.
    prompt_dir = resources.files("ahd.planners").joinpath("prompts")
    #: Function name per role (the LLM proposer extracts and asks for these).
    entry_points = {ROLE: ENTRY}

    def __init__(self, config: PlanningTaskConfig, pool: Any):
        self.config = config
        self.pool = pool
        self.domain_file, files = find_tasks(config.domain_dir)
        self.files = split_tasks(files, config.n_train, config.n_validation, config.split)
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
                task = ground(lifted)
                if self.config.landmarks and task.unsolvable is None:
                    task.landmarks  # noqa: B018 - found once here, sent with the task
                out.append(_Prepared(self._name(path), lifted, task))
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
        search = "GBFS" if c.search == "gbfs" else ("enforced hill-climbing (GBFS where it "
                                                     "gets stuck)")
        if c.lazy:
            search = "lazy " + search + (" (a state's h is computed when it is expanded)")
        if c.preferred:
            search += (" with preferred operators (the helpful actions of h_FF's relaxed plan "
                       "in an open list of their own; for heuristics in the feature language)")
        if c.landmarks:
            search += (" alternating its open list with one ordered by a landmark count "
                       "(LAMA's), so the heuristic need not count landmarks itself")
        parts = [
            f"Classical planning, domain '{self.domain_name}'. Write a domain-dependent "
            "heuristic that guides greedy best-first search (GBFS) to a plan quickly.",
            f"Scoring: each heuristic runs {search} on {len(train)} training tasks of this domain "
            f"(at most {c.max_expansions} expansions and {c.time_limit:g} s per task); fitness "
            "= unsolved tasks + mean(log1p(expansions of solved tasks)) / 100, lower is "
            "better, so solving one more task always beats saving expansions. Every plan is "
            "checked by a validator. The best heuristics are then compared on held-out tasks."
            + (" Directness counts too: fitness adds 0.1 * (1 - the share of sampled states "
               "where some successor has a strictly lower value); from every non-goal state "
               "some successor should score lower." if c.directness_states else ""),
            "Domain PDDL:\n```pddl\n" + read_pddl_text(self.domain_file, "domain").strip()
            + "\n```",
        ]
        examples = [("smallest", train[0]), ("largest", train[-1])] if len(train) > 1 else [
            ("example", train[0])]
        for label, path in examples:
            text = read_pddl_text(path, "problem").strip()
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
            text = f"fitness {fit:.4f}: solved {n - unsolved}/{n} training tasks"
            if self.config.directness_states:  # two terms below one task: not decodable
                return text
            return text + f", geometric-mean expansions {math.expm1(100 * (fit - unsolved)):.0f}"
        text = (f"fitness {stats['fitness']:.4f}: solved {stats['solved']}/{stats['n']} "
                f"training tasks, geometric-mean expansions {stats['mean_expanded']:.0f}")
        if stats["unsolved"]:
            text += f"; unsolved: {', '.join(stats['unsolved'][:8])}"
        if stats["errors"]:
            text += f"; errors: {stats['errors'][0][:300]}"
        if stats.get("directness") is not None:
            text += (f"; directness {stats['directness']:.0%}: the share of sampled states "
                     "with a successor of strictly lower value (hill-climbing needs all)")
            if stats.get("counterexample"):
                text += ("\nA state with no strictly lower successor:\n"
                         + stats["counterexample"])
        return text

    # --- candidates -----------------------------------------------------------------------

    def seeds(self) -> dict[str, list[Candidate]]:
        """Goal count (the baseline every evolved heuristic must beat): as Python source, or
        with preferred operators as a one-term genome, which runs compiled and so gets
        h_FF's helpful actions as every offspring of the offline proposer does."""
        source = GOALCOUNT_SOURCE
        if self.config.preferred:
            source = render([("goals", 1.0)], self.profile.catalogue, "Goal count")
        seed = Candidate(source, ROLES, self.problem, origin=Origin("seed", strategy="goalcount"))
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
            message = f"{rec.status}: {rec.error or ''}".strip() if rec.failed else ""
            if not message and c.directness_states and c.directness_fix > 0:
                rate, example = _directness_rate([rec], [first])
                if rate < c.directness_fix:
                    message = (f"error: not direct enough: {rate:.0%} of the sampled states of "
                               f"{first.name} have a successor with a strictly lower value "
                               f"(need {c.directness_fix:.0%}); greedy search and "
                               "hill-climbing stall where none has."
                               + (f" For example:\n{example}" if example else ""))
            out.append(message)
        return out

    # --- scoring --------------------------------------------------------------------------

    def _limits(self, time_limit: float) -> Any:
        from ahd.sandbox.records import SandboxLimits

        return SandboxLimits(wall_time=time_limit + self.config.sandbox_grace)

    def _probe(self, prep: _Prepared) -> Any:
        """The states the directness check scores on ``prep`` (None when it is off): random
        walks from the initial state, seeded by the task's name, so every candidate is
        checked on the same states."""
        n = self.config.directness_states
        if n == 0:
            return None
        if prep.probe is None:
            from .directness import probe_states, sample_states

            rng = np.random.default_rng(zlib.crc32(prep.name.encode()))
            states, dead = probe_states(prep.task, sample_states(prep.task, rng, walks=n,
                                                                 length=12))
            keep = spread(list(range(len(states))), n)
            prep.probe = ([states[i] for i in keep], [dead[i] for i in keep])
        return prep.probe

    def _submit(self, source: str, prep: _Prepared, max_expansions: int, time_limit: float
                ) -> cf.Future:
        request = {"source": source, "task": prep.task, "max_expansions": int(max_expansions),
                   "time_limit": float(time_limit), "memory_mb": float(self.config.memory_mb),
                   "search": self.config.search, "landmarks": self.config.landmarks,
                   "lazy": self.config.lazy, "preferred": self.config.preferred}
        probe = self._probe(prep)
        if probe is not None:
            request["probe"] = (*probe, float(self.config.directness_time))
        return self.pool.submit(CHILD_SPEC, (request,), self._limits(time_limit))

    def _directness(self, prep: _Prepared, values: Any) -> dict[str, Any]:
        """Metrics of the directness check from the child's numbers (trusted verdict); states
        the child did not reach count as not direct. Raises ``ProbeError``."""
        from .directness import report_from_values

        states, dead = self._probe(prep)
        report = report_from_values(prep.task, states, dead, values or [], 1)
        out = {"directness_states": len(dead) - sum(dead), "directness_direct": report.direct,
               "dead_ends": sum(dead), "dead_ends_recognised": report.recognised}
        if report.counterexamples:
            out["counterexample"] = report.counterexamples[0].text()[:MAX_EXAMPLE_CHARS]
        return out

    def _record(self, prep: _Prepared, result: Any, max_expansions: int, time_limit: float
                ) -> PlanningRecord:
        """Trusted side: check the child's answer, verify its plan, and classify the task."""
        from .errors import InvalidPlan
        from .plan import simulate

        name = prep.name
        wall = float(result.wall_time)
        base = {"sandbox_status": result.status, "cpu_time": float(result.cpu_time)}

        def failed(status: str, error: str, **kw: Any) -> PlanningRecord:
            return PlanningRecord(name, status, None, wall, clean_error(error),
                                  metrics=base, **kw)

        if result.status != "ok":
            status = record_status(result.status)
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
        if self._probe(prep) is not None and status != "error":
            from .directness import ProbeError

            try:
                metrics.update(self._directness(prep, value["probe"]))
            except ProbeError as exc:
                return failed("invalid", f"invalid result from the sandbox: probe: {exc}")
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
        # Largest tasks first (by ground operators): the pool runs requests in the order they
        # come, and a long task started last would leave the other workers idle at the end.
        futures: list[cf.Future] = [None] * len(preps)  # type: ignore[list-item]
        for i in sorted(range(len(preps)), key=lambda i: (-len(preps[i].task.cost), i)):
            futures[i] = self._submit(cand.source, preps[i], c.max_expansions, c.time_limit)
        records = [self._record(p, f.result(), c.max_expansions, c.time_limit)
                   for p, f in zip(preps, futures, strict=True)]
        solved = [r.expanded for r in records if r.solved]
        rate, example = (_directness_rate(records, preps) if c.directness_states
                         else (None, None))
        value = fitness(solved, len(records), c.max_expansions, rate)
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
                "errors": errors, "directness": rate, "counterexample": example,
            }
        return outcome


    # --- proposers and results ------------------------------------------------------------

    def offline_proposer(self) -> Any:
        """Feature-based GP over the domain's feature catalogue (parses the training tasks)."""
        from .offline_proposer import PlanningOfflineProposer

        return PlanningOfflineProposer(self.profile.catalogue)

    def summarise(self, result: Any, store: Any, run_dir: Path) -> RunSummary:
        """Held-out tasks solved by goal count and by the winner; the exported heuristic."""
        n_val = len(self.files["validation"])
        c = self.config

        def solved(value: float | None) -> int | None:
            return None if value is None or not math.isfinite(value) else n_val - int(value)

        seed_solved = solved(result.seed_validation)
        out = RunSummary(fields={
            "domain": self.domain_name, "validation_tasks": n_val,
            "limits": {"max_expansions": c.max_expansions, "time_limit": c.time_limit},
            "seed_validation_solved": seed_solved,
        })
        out.lines.append(f"goal count (seed): training fitness {result.seed_train:.6g}, held-out "
                         f"{'-' if seed_solved is None else seed_solved}/{n_val} solved")
        if result.winner is None:
            out.lines.append("no evolved heuristic was validated")
            return out
        w = result.winner
        (cid,) = w.members[ROLE]
        cand = store.get_candidate(cid)
        won = solved(w.validation)
        out.lines.append(
            f"winner (candidate {cid}, round {w.round}, {cand.origin.strategy}): training "
            f"fitness {w.fitness:.6g}, held-out {'-' if won is None else won}/{n_val} solved "
            f"(validation fitness {w.validation:.6g})")
        if seed_solved is not None and (won is None or won < seed_solved):
            out.lines.append("note: the winner solves fewer held-out tasks than goal count")
        header = [
            f"Run: {run_dir}   Domain: {self.domain_name}   Candidate: {cid}   Round: {w.round}",
            f"Held-out tasks solved: {won}/{n_val} (goal count {seed_solved}/{n_val}); limits "
            f"{c.max_expansions} expansions, {c.time_limit:g} s per task",
        ]
        if c.lazy or c.landmarks or c.search != "gbfs":
            flags = ("--search ehc" if c.search != "gbfs" else
                     " ".join(f for f, on in (("--lazy", c.lazy), ("--preferred", c.preferred),
                                              ("--landmarks", c.landmarks)) if on))
            header.append(f"Evolved for the search of: ahd plan ... {flags}")
        out.exported = export_heuristic(
            cand.source, Path(run_dir) / "generated", self.domain_name, header,
            search_name(c.search, c.lazy, c.preferred, c.landmarks))
        out.fields.update(winner_id=cid, winner_round=w.round, winner_train=w.fitness,
                          winner_validation=w.validation, winner_validation_solved=won)
        return out


def _directness_rate(records: list[PlanningRecord], preps: list[_Prepared]
                     ) -> tuple[float, str | None]:
    """Pooled directness over tasks, every sampled state counted (those a child did not score,
    having failed or run out of time, count as not direct; 1.0 with no state to check), and
    the first counterexample."""
    states = sum(len(p.probe[1]) - sum(p.probe[1]) for p in preps)
    direct = sum(r.metrics.get("directness_direct", 0) for r in records)
    example = next((r.metrics["counterexample"] for r in records
                    if r.metrics.get("counterexample")), None)
    return (direct / states if states else 1.0), example


__all__ = [
    "ALLOWED_IMPORTS", "CHILD_KEYS", "CHILD_SPEC", "ENTRY", "MAX_PLAN_STEPS", "SEARCH_STATUSES",
    "InvalidResult", "PlanningRecord", "PlanningTask", "PlanningTaskConfig", "ROLE", "ROLES",
    "WARMUP_SPEC", "check_child_result", "export_heuristic", "find_tasks", "fitness",
    "run_heuristic", "split_tasks", "spread", "warm_worker",
]
