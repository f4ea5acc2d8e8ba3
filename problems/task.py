"""Routing as an evolution task: destroy and repair pools scored together in one adaptive LNS.

The loop in :mod:`ahd.evolve` sees only the :class:`~ahd.evolve.task.Task` protocol; this module
supplies what routing means: seeds cut from the registered operators, instances per split, a
cooperative team evaluation in the sandbox, and the per-operator usage that credit assignment
reads. Unchanged seeds run under their registry names, whose machine code every sandbox worker
loads before it forks, so only evolved code pays for compilation.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ahd.candidate import Candidate, Origin
from ahd.evolve.task import RunSummary, TeamOutcome

from .engine import signatures, state
from .engine.config import LNSConfig
from .operators.registry import DEFAULT_POOLS
from .operators.standalone import standalone_source
from .problem import DEFAULT_PROBLEM, get_problem

ROLES = ("destroy", "repair")
#: Seeds used for training/validation instance numbering, far apart so splits never overlap.
SPLIT_SEEDS = {"train": 1_000, "validation": 2_000, "test": 3_000}


@dataclass
class RoutingTaskConfig:
    """Instances and budget of a routing evolution.

    ``iterations`` is the fixed budget of every LNS run: an iteration budget (not a time) makes
    scores independent of machine load, so a run replays exactly. ``time_cap`` only stops a
    runaway operator. ``size`` defaults to 200 customers because at n = 50 the LNS with its local
    search ends at nearly the same objective whatever the operators: cutting the seed pool to one
    destroy/repair pair costs 0.03%, and 5x the iterations gains 0.18%. At n = 200 the same cut
    costs 0.48% and 5x the iterations gains 0.37% (``benchmarks/operator_influence.py``), so there
    is room for better operators.
    """

    problem: str = DEFAULT_PROBLEM
    size: int = 200
    n_train: int = 16
    n_validation: int = 48
    iterations: int = 1000
    time_cap: float = 20.0
    seed: int = 0
    instances_dir: Path | None = None
    smoke_size: int = 20
    smoke_iterations: int = 60
    sandbox_wall: float = 120.0
    local_search: bool = True

    def __post_init__(self) -> None:
        get_problem(self.problem)
        for name in ("size", "n_train", "n_validation", "iterations", "smoke_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.size < 5:
            raise ValueError("size must be at least 5 customers")
        if self.time_cap <= 0 or self.sandbox_wall <= 0:
            raise ValueError("time_cap and sandbox_wall must be positive")


def _api_text() -> str:
    helpers = []
    for name in sorted(vars(state)):
        value = getattr(state, name)
        func = getattr(value, "py_func", None)
        if name.startswith("_") or func is None or func.__module__ != state.__name__:
            continue
        doc = inspect.getdoc(func) or ""
        sig = str(inspect.signature(func))
        helpers.append(f"- {name}{sig}: {doc.splitlines()[0] if doc else ''}")
    return (inspect.getdoc(state) or "") + "\n\nHelpers (already imported):\n" + "\n".join(
        helpers
    )


class RoutingTask:
    """CVRP, TSP or OVRP operator pools evolved cooperatively (see module docstring)."""

    roles = ROLES
    cooperative = True
    #: Operators are called by their role names.
    entry_points: dict[str, str] = {}
    #: The shared prompt templates are written for routing operators.
    prompt_dir = None

    def __init__(self, config: RoutingTaskConfig, pool: Any):
        from .requests import InstanceSpec

        self.config = config
        self.problem = config.problem
        self.pool = pool
        self._spec = get_problem(config.problem)
        self._lns = LNSConfig(
            time_limit=config.time_cap, iterations=config.iterations, seed=config.seed,
            local_search=config.local_search,
        )
        self._splits: dict[str, list[Any]] = {}
        if config.instances_dir is not None:
            files = instance_files(config.instances_dir, config.problem)
            self._splits["train"] = files[0::2][: config.n_train]
            self._splits["validation"] = files[1::2][: config.n_validation]
        else:
            for split, count in (("train", config.n_train), ("validation", config.n_validation)):
                base = SPLIT_SEEDS[split] + 100 * config.seed
                self._splits[split] = [
                    InstanceSpec(config.problem, config.size, base + i) for i in range(count)
                ]
        self._seed_names = {role: tuple(DEFAULT_POOLS[config.problem][role]) for role in ROLES}
        self._seed_hash: dict[str, tuple[str, str]] = {}

    # --- texts ----------------------------------------------------------------------------

    def describe(self) -> str:
        return self._spec.description

    def role_doc(self, role: str) -> str:
        params = ", ".join(
            ("inst", "sol", "n_remove", "removed") if role == "destroy"
            else ("inst", "sol", "removed", "k", "penalty")
        )
        roles_doc = inspect.getdoc(signatures) or ""
        return (
            f"Write `def {role}({params})`, compiled by numba in nopython mode against a fixed "
            f"signature.\n\n{roles_doc}\n\n{_api_text()}\n\n"
            "Use np.random (seeded by the engine) for randomness; numpy and math are available; "
            "no other imports. Keep inner loops simple: numba compiles them to machine code."
        )

    def parent_summary(self, parent: Any) -> str | None:
        return None  # credit and uses say it

    # --- candidates -----------------------------------------------------------------------

    def seeds(self) -> dict[str, list[Candidate]]:
        out: dict[str, list[Candidate]] = {}
        for role in ROLES:
            out[role] = []
            for name in self._seed_names[role]:
                source = standalone_source(role, name)
                cand = Candidate(source, (role,), self.problem,
                                 origin=Origin("seed", strategy=name))
                self._seed_hash[cand.code_hash] = (role, name)
                out[role].append(cand)
        return out

    def check(self, source: str, roles: tuple[str, ...]) -> list[str]:
        from .checks import check_source

        return check_source(source, {role: role for role in roles})

    def _op(self, cand: Candidate, role: str) -> Any:
        seed = self._seed_hash.get(cand.code_hash)
        if seed is not None and seed[0] == role:
            return seed[1]  # the registry's precompiled copy of the same code
        return cand

    def _label(self, cand: Candidate, role: str) -> str:
        op = self._op(cand, role)
        return op if isinstance(op, str) else f"candidate{cand.id}"

    def smoke(self, candidates: list[Candidate]) -> list[str]:
        """Each candidate alone in its roles, seeds elsewhere, on a small instance."""
        from .requests import InstanceSpec
        from .team import TeamEvaluation, evaluate_teams

        config = LNSConfig(time_limit=self.config.time_cap,
                           iterations=self.config.smoke_iterations, seed=self.config.seed,
                           local_search=self.config.local_search)
        spec = InstanceSpec(self.problem, self.config.smoke_size, 7 + self.config.seed)
        teams = []
        for cand in candidates:
            pools = {role: [cand] if role in cand.roles else None for role in ROLES}
            teams.append(TeamEvaluation((spec,), config, **pools))
        out = []
        for records in evaluate_teams(teams, self.pool, self._limits()):
            bad = [r for r in records if r.status != "ok"]
            if bad:
                out.append(f"{bad[0].status}: {bad[0].error or ''}".strip())
            elif records[0].metrics.get("python_mode"):
                errors = "; ".join(records[0].metrics.get("compile_errors", {}).values())
                out.append(f"error: numba could not compile the operator ({errors}); it would "
                           "run in plain Python, about 100 times slower")
            else:
                out.append("")
        return out

    def _limits(self):
        from ahd.sandbox.records import SandboxLimits

        return SandboxLimits(wall_time=self.config.sandbox_wall)

    # --- scoring --------------------------------------------------------------------------

    def instance_names(self, split: str) -> list[str]:
        return [_name(i) for i in self._splits[split]]

    def evaluate(self, team: dict[str, list[Candidate]], split: str) -> TeamOutcome:
        """The team's LNS on every instance of ``split``, two sandbox children in parallel."""
        from .team import TeamEvaluation, evaluate_teams

        instances = self._splits[split]
        pools = {role: [self._op(c, role) for c in team[role]] for role in ROLES}
        n_chunks = max(1, min(len(instances), getattr(self.pool, "n_workers", 1)))
        chunks = [tuple(instances[i::n_chunks]) for i in range(n_chunks)]
        teams = [TeamEvaluation(chunk, self._lns, **pools) for chunk in chunks]
        results = evaluate_teams(teams, self.pool, self._limits())
        labels = {role: {self._label(c, role): c for c in team[role]} for role in ROLES}
        outcome = TeamOutcome(fitness=float("inf"))
        failures = []
        for records in results:
            for rec in records:
                outcome.records.append(rec)
                if rec.status != "ok":
                    failures.append(f"{rec.instance}: {rec.status}: {rec.error or ''}")
                    continue
                outcome.objectives[rec.instance] = float(rec.objective)
                _collect_usage(outcome, rec.metrics, labels)
        if failures:
            outcome.error = failures[0]
            for role in ROLES:
                for label, cand in labels[role].items():
                    if label in outcome.error and cand.id is not None:
                        outcome.errors[cand.id] = outcome.error
            return outcome
        outcome.fitness = float(np.mean(list(outcome.objectives.values())))
        return outcome


    # --- proposers and results ------------------------------------------------------------

    def offline_proposer(self) -> Any:
        from ahd.proposers.offline import OfflineProposer

        return OfflineProposer(self.seeds())

    def summarise(self, result: Any, store: Any, run_dir: Path) -> RunSummary:
        """Seed and winner objectives, the winner's paired gain, and the exported team."""
        from ahd.evolve.run import verdict

        from .export_team import export_team

        seed_val = result.seed_validation
        out = RunSummary(lines=[
            f"seed team: training {result.seed_train:.6g}, validation "
            f"{'-' if seed_val is None else f'{seed_val:.6g}'}"])
        if result.winner is None:
            out.lines.append("no evolved team was validated")
            return out
        w = result.winner
        text, gain = verdict(result.seed_validation_objectives, w.validation_objectives)
        out.fields.update(gain)
        out.lines.append(f"winner (round {w.round}): training {w.fitness:.6g}, validation "
                         f"{w.validation:.6g}{text}")
        header = [
            f"Run: {run_dir}   Problem: {self.problem}   Round: {w.round}",
            f"Validation objective {w.validation:.6g} (seed team {seed_val}); "
            f"training {w.fitness:.6g}",
            f"Members: {json.dumps(w.members)}",
        ]
        out.exported = export_team(store, w.members, self.problem, Path(run_dir) / "generated",
                                   header)
        out.fields.update(winner_round=w.round, winner_train=w.fitness,
                          winner_validation=w.validation, winner_members=w.members)
        return out


def _collect_usage(outcome: TeamOutcome, metrics: dict, labels: dict) -> None:
    stats = metrics.get("operator_stats", {})
    for role in ROLES:
        for label, cols in stats.get(role, {}).items():
            cand = labels[role].get(label)
            if cand is not None and cand.id is not None:
                outcome.usage.setdefault(cand.id, []).append((cols["chosen"], cols["gain"]))
    pairs = metrics.get("pair_stats")
    if pairs is None:
        return
    d_labels = list(stats.get("destroy", {}))
    r_labels = list(stats.get("repair", {}))
    for i, dl in enumerate(d_labels):
        for j, rl in enumerate(r_labels):
            d, r = labels["destroy"].get(dl), labels["repair"].get(rl)
            if d is None or r is None:
                continue
            chosen, gain = pairs[i][j]
            outcome.pairs.setdefault((d.id, r.id), []).append((chosen, gain))


def _name(instance: Any) -> str:
    from .requests import InstanceSpec

    if isinstance(instance, InstanceSpec):
        return instance.build().name
    return instance.name


def instance_files(folder: Path, problem: str) -> list[Any]:
    """Every instance file in ``folder``, read (``ValueError`` naming the first bad one)."""
    from .io import read_instance

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a directory")
    suffixes = {".vrp", ".tsp", ".txt"}
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in suffixes)
    if len(files) < 2:
        raise ValueError(f"{folder}: need at least two instance files (.vrp/.tsp)")
    return [read_instance(p, kind=problem) for p in files]


__all__ = ["RoutingTask", "RoutingTaskConfig", "ROLES", "field", "instance_files"]
