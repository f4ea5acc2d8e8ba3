"""The evolution loop: co-evolving pools, cooperative scoring, credit, survival, validation.

Each round asks the proposer for a few offspring, smoke-tests them in the sandbox, runs the
whole population as one cooperative team on the training instances, credits every member by
its marginal contribution per use (:mod:`ahd.evolve.credit`), and prunes each pool back to its
size while keeping an elite. Every team that was scored is a snapshot; at the end the best
snapshots by training fitness meet the seed team on the validation instances, and the winner is
the best *evolved* snapshot there, never chosen on the training set.

The loop knows nothing about routing: it talks to a :class:`~ahd.evolve.task.Task`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from ahd.candidate import Candidate
from ahd.memory import release_free_memory
from ahd.proposers.base import Parent, ProposalRequest, Proposer
from ahd.store import Evaluation, Store

from .budget import Spent, StopRule
from .credit import credits, synergy
from .pipeline import Staged, Stager, request_state, requests_from_state
from .records import EvolveConfig, EvolveResult, Snapshot, paired_gain
from .selection import finalists_of, offspring_requests
from .state import STATE_FILE, read_state, write_state
from .task import Task, TeamOutcome


class Evolution:
    """One run (see module docstring). ``progress`` receives one line per round."""

    def __init__(
        self,
        task: Task,
        proposer: Proposer,
        store: Store,
        run_dir: str | Path,
        config: EvolveConfig,
        stop: StopRule,
        progress: Callable[[str], None] | None = None,
        llm_usage: Callable[[], dict[str, float]] | None = None,
        threads: int = 4,
    ):
        self.task, self.proposer, self.store = task, proposer, store
        self.run_dir = Path(run_dir)
        self.config, self.stop = config, stop
        self.progress = progress or (lambda line: None)
        self.llm_usage = llm_usage
        self.rng = np.random.default_rng(config.seed)
        self.population: dict[str, list[Candidate]] = {role: [] for role in task.roles}
        self.credit: dict[int, float] = {}
        self.uses: dict[int, float] = {}
        self.synergy: dict[tuple[int, int], float] = {}
        self.snapshots: list[Snapshot] = []
        self.spent = Spent()
        self.round = 0
        self.seed_train = math.inf
        self.failures: dict[str, int] = {}
        self._elapsed_before = 0.0
        self._t0 = time.monotonic()
        #: Cooperative tasks score the whole population as one team (routing pools); the others
        #: score every candidate alone (a planning heuristic) and credit it by its own fitness.
        self.cooperative = bool(task.cooperative)
        #: Proposals, checks and smoke runs in flight (``threads`` proposer calls at once).
        self._stager = Stager(task, proposer, threads)
        self._inflight: tuple[list[ProposalRequest], list[int], list[Future]] | None = None
        #: ``(roles, code_hash)`` of every member of a snapshot (see :meth:`_known_keys`).
        self._seen: set[tuple[tuple[str, ...], str]] = set()

    # --- state ----------------------------------------------------------------------------

    def _save(self) -> None:
        state = {
            "round": self.round,
            "population": {r: [c.id for c in cs] for r, cs in self.population.items()},
            "credit": {str(k): v for k, v in self.credit.items()},
            "uses": {str(k): v for k, v in self.uses.items()},
            "synergy": [[d, r, v] for (d, r), v in self.synergy.items()],
            "snapshots": [asdict(s) for s in self.snapshots],
            "seed_train": self.seed_train,
            "failures": self.failures,
            "spent": asdict(self.spent),
            "rng": self.rng.bit_generator.state,
            "inflight": None if self._inflight is None else request_state(*self._inflight[:2]),
        }
        write_state(self.run_dir, state, default=_json_default)

    def _load(self) -> bool:
        """Restore the last saved round; ``False`` when there is none. The state was checked
        (:func:`~ahd.evolve.state.read_state`) before any worker started; checked again here
        for callers that build an :class:`Evolution` themselves."""
        state = read_state(self.run_dir)
        if state is None:
            return False
        # The round after the saved one may have stored part of its work before it stopped,
        # and so may a validation that did not finish (its scores are not in the state); both
        # are redone from a clean slate (see Store.discard_unsaved), so that the store holds
        # exactly the results the run's verdict is computed from.
        after = state["round"] + 1
        unsaved = [f"team:{after}", f"smoke:{after}", "team:validation:seeds",
                   *(f"team:validation:round{s['round']}" for s in state["snapshots"]
                     if s.get("validation") is None)]
        gone = self.store.discard_unsaved(state["round"], unsaved)
        if any(gone):
            self.progress(f"resume: discarded {gone[0]} candidate(s) and {gone[1]} "
                          f"evaluation(s) stored after round {state['round']} was saved; "
                          "that work is redone")
        self.round = state["round"]
        self.population = {
            r: [self.store.get_candidate(i) for i in ids] for r, ids in state["population"].items()
        }
        self.credit = {int(k): v for k, v in state["credit"].items()}
        self.uses = {int(k): v for k, v in state["uses"].items()}
        self.synergy = {(d, r): v for d, r, v in state["synergy"]}
        self.snapshots = [Snapshot(**s) for s in state["snapshots"]]
        self.seed_train = state["seed_train"]
        self.failures = state["failures"]
        self.spent = Spent(**state["spent"])
        self._elapsed_before = self.spent.seconds
        self.rng.bit_generator.state = state["rng"]
        for snap in self.snapshots:
            for ids in snap.members.values():
                self._seen.update(self._key(self.store.get_candidate(i)) for i in ids)
        if state.get("inflight"):
            requests, seeds = requests_from_state(state["inflight"], self.store.get_candidate)
            self._launch(requests, seeds)
        return True

    # --- the run --------------------------------------------------------------------------

    def run(self) -> EvolveResult:
        self._t0 = time.monotonic()
        if not self._load():
            self._initialise()
        reason = None
        try:
            while True:
                self._tick()
                reason = self.stop(self.spent)
                if reason:
                    break
                self.round += 1
                self._one_round()
                self.spent.rounds = self.round
                self._save()
                release_free_memory()  # keep a long run's resident size flat (ahd/memory.py)
        finally:
            self._stager.close()
        self._inflight = None
        self.progress(f"stopping: {reason}")
        seed, winner = self._validate()
        self._save()
        return EvolveResult(
            self.seed_train, seed.fitness if seed.ok else None, winner, self.snapshots, reason,
            self.spent, dict(self.failures), dict(seed.objectives) if seed.ok else None,
        )

    def _tick(self) -> None:
        self.spent.seconds = self._elapsed_before + time.monotonic() - self._t0
        if self.llm_usage is not None:
            usage = self.llm_usage()
            self.spent.calls = int(usage["calls"])
            self.spent.tokens = int(usage["prompt_tokens"] + usage["completion_tokens"])
            self.spent.cost = float(usage["cost"])

    def _initialise(self) -> None:
        for role, seeds in self.task.seeds().items():
            for cand in seeds:
                cid, _ = self.store.add_candidate(cand)
                self.population[role].append(cand.with_id(cid))
        if self.config.overlap and self._next_round_possible():
            self._launch()  # round 1's offspring, while the seeds are scored
        if not self.cooperative:
            for cands in self.population.values():
                for cand in cands:
                    self._score_alone(cand)
            self.seed_train = min(s.fitness for s in self.snapshots)
            self.progress(f"round 0: best seed, training fitness {self.seed_train:.6g}")
            self._save()
            return
        outcome = self._score(self.population, "train")
        if not outcome.ok:
            raise RuntimeError(f"the seed team failed on the training instances: {outcome.error}")
        self.seed_train = outcome.fitness
        self._credit(outcome)
        self.progress(f"round 0: seed team, training objective {outcome.fitness:.6g}")
        self._save()

    def _score_alone(self, cand: Candidate) -> bool:
        outcome = self._score({role: [cand] for role in cand.roles}, "train")
        self.credit[cand.id] = -outcome.fitness if outcome.ok else -math.inf
        self.uses[cand.id] = 1.0
        return outcome.ok

    def _score(
        self, team: dict[str, list[Candidate]], split: str, tag: str = ""
    ) -> TeamOutcome:
        outcome = self.task.evaluate(team, split)
        if split == "train" and outcome.ok:  # a snapshot is taken below
            self._seen.update(self._key(c) for cs in team.values() for c in cs)
        self.spent.evaluations += len(outcome.records)
        # One context per scored team, so a member of several validated teams keeps each record.
        context = f"team:{self.round}" if split == "train" else f"team:validation:{tag}"
        rows = []
        for rec in outcome.records:
            for role, members in team.items():
                for cand in members:
                    status = rec.status if rec.status != "static" else "invalid"
                    rows.append(Evaluation(
                        cand.id, rec.instance, split if split != "train" else "train", status,
                        rec.objective if status == "ok" else None, rec.time,
                        rec.error if status != "ok" else None,
                        {"round": self.round, "role": role}, context,
                    ))
        self.store.add_evaluations(rows)
        if split == "train" and outcome.ok:
            members = {r: [c.id for c in cs] for r, cs in team.items()}
            self.snapshots.append(Snapshot(self.round, members, outcome.fitness))
            self.spent.best = min(self.spent.best, outcome.fitness)
        return outcome

    def _credit(self, outcome: TeamOutcome) -> None:
        for members in self.population.values():
            ids = [c.id for c in members]
            self.credit.update(credits(outcome.usage, ids))
            for cid in ids:
                self.uses[cid] = float(sum(u for u, _ in outcome.usage.get(cid, ())))
        roles = self.task.roles
        if len(roles) >= 2:  # pairs of the first two roles (destroy x repair in routing)
            self.synergy = synergy(
                outcome.pairs, outcome.usage,
                [c.id for c in self.population[roles[0]]],
                [c.id for c in self.population[roles[1]]],
            )

    # --- one round ------------------------------------------------------------------------

    def _parent(self, cid: int) -> Parent:
        cand = self.store.get_candidate(cid)
        return Parent(cand, self.credit.get(cid, 1.0), self.uses.get(cid, 0.0))

    @staticmethod
    def _key(cand: Candidate) -> tuple[tuple[str, ...], str]:
        return cand.roles, cand.code_hash

    def _known_keys(self) -> frozenset[tuple[tuple[str, ...], str]]:
        """What :meth:`_known` knows, by content: members of the population and of snapshots."""
        return frozenset(self._seen | {self._key(c) for cs in self.population.values()
                                       for c in cs})

    def _launch(self, requests: list[ProposalRequest] | None = None,
                seeds: list[int] | None = None) -> None:
        """Ask for a round's offspring; they are checked and smoke-run as they arrive.

        With ``overlap`` each request is a call of its own with a generator seeded from
        ``rng``; without, one call for all of them with ``rng`` itself, here (the serial loop,
        as it always was).
        """
        if requests is None:
            requests = offspring_requests(self.config, self.task.roles, self.population,
                                          self.credit, self.synergy, self.rng, self._parent)
            if not self.config.overlap:
                futures = self._stager.stage_together(requests, self.rng, self._known_keys())
                self._inflight = (requests, [], futures)
                return
            seeds = [int(s) for s in self.rng.integers(0, 2**63 - 1, size=len(requests))]
        futures = self._stager.propose(requests, seeds, self._known_keys())
        self._inflight = (requests, list(seeds), futures)

    def _next_round_possible(self) -> bool:
        """Whether the budget leaves a round after the current one (worth asking for)."""
        return not self.stop(replace(self.spent, rounds=self.round))

    def _admit(self, futures: list[Future]) -> tuple[list[Candidate], int]:
        """Take staged proposals in request order (ids and failures do not depend on timing),
        with bounded fix-up rounds for proposers that can; the admitted and how many came."""
        admitted: list[Candidate] = []
        pending, count = futures, 0
        for attempt in range(self.config.fix_retries + 1):
            retry: list[tuple[Any, str]] = []
            for future in pending:
                staged: Staged | None = future.result()
                if staged is None:
                    continue
                count += attempt == 0
                problem = self._settle(staged, admitted)
                if problem is not None:
                    retry.append((staged.proposal, problem))
            if attempt == self.config.fix_retries or not retry:
                break
            pending = self._stager.fix(retry, self._known_keys())
        return admitted, count

    def _settle(self, staged: Staged, admitted: list[Candidate]) -> str | None:
        """Store one staged proposal; the error to send back for a fix, if any."""
        prop = staged.proposal
        if prop.source is None:  # a request the LLM budget refused is not the model's failure
            self._fail("budget" if prop.extra.get("budget_exhausted") else "proposer")
            return None
        cand = Candidate(prop.source, prop.roles, self.task.problem, prop.parent_ids,
                         prop.origin, generation=self.round)
        cid, new = self.store.add_candidate(cand)
        cand = cand.with_id(cid)
        if staged.smoke is not None:
            self.spent.evaluations += 1
        if staged.problems:
            self._fail("static")
            self._record_failure(cand, "invalid", "\n".join(staged.problems))
            return "\n".join(staged.problems)
        if staged.duplicate or (not new and (self._known(cid) or
                                             any(c.id == cid for c in admitted))):
            self._fail("duplicate")
            return None
        if staged.smoke:
            self._fail("smoke")
            self._record_failure(cand, staged.smoke.split(":")[0], staged.smoke)
            return staged.smoke
        admitted.append(cand)
        return None

    def _known(self, cid: int) -> bool:
        return any(cid == c.id for cs in self.population.values() for c in cs) or any(
            cid in ids for s in self.snapshots for ids in s.members.values()
        )

    def _record_failure(self, cand: Candidate, status: str, error: str) -> None:
        status = status if status in ("error", "timeout", "crashed", "infeasible", "invalid",
                                      "memory") else "error"
        self.store.add_evaluations([Evaluation(
            cand.id, "smoke", "train", status, None, None, error[:4000],
            {"round": self.round}, f"smoke:{self.round}",
        )])

    def _fail(self, kind: str) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1

    def _one_round(self) -> None:
        t0 = time.monotonic()
        if self._inflight is None:
            self._launch()
        futures = self._inflight[2]
        self._inflight = None
        newcomers, proposed = self._admit(futures)
        t1 = time.monotonic()
        if self.config.overlap and self._next_round_possible():
            self._launch()
        t2 = time.monotonic()
        if not self.cooperative:
            for cand in newcomers:
                if self._score_alone(cand):
                    for role in cand.roles:
                        self.population.setdefault(role, []).append(cand)
            self._prune()
            self._tick()
            best = min(s.fitness for s in self.snapshots)
            self.progress(
                f"round {self.round}: best {best:.6g} (seeds {self.seed_train:.6g}) | "
                f"+{len(newcomers)}/{proposed} | evals {self.spent.evaluations} | calls "
                f"{self.spent.calls} tokens {self.spent.tokens} ${self.spent.cost:.4f} | "
                f"{self.spent.seconds:.0f}s (waited for proposals {t1 - t0:.0f}s)"
            )
            return
        team = {role: list(cs) for role, cs in self.population.items()}
        for cand in newcomers:
            for role in cand.roles:
                if role in team:
                    team[role].append(cand)
        outcome = self._score(team, "train")
        if not outcome.ok and newcomers:
            blamed = set(outcome.errors) or {c.id for c in newcomers}
            self._fail("team")
            for role in team:
                team[role] = [c for c in team[role] if c.id not in blamed]
            outcome = self._score(team, "train")
        if not outcome.ok:
            self.progress(f"round {self.round}: team failed: {outcome.error[:200]}")
            return
        t3 = time.monotonic()
        self.population = team
        self._credit(outcome)
        self._prune()
        self._tick()
        best = min(s.fitness for s in self.snapshots)
        sizes = " ".join(f"{r[0].upper()}{len(cs)}" for r, cs in self.population.items())
        self.progress(
            f"round {self.round}: team {outcome.fitness:.6g} best {best:.6g} "
            f"(seeds {self.seed_train:.6g}) | +{len(newcomers)}/{proposed} | {sizes} | "
            f"evals {self.spent.evaluations} | calls {self.spent.calls} tokens "
            f"{self.spent.tokens} ${self.spent.cost:.4f} | {self.spent.seconds:.0f}s "
            f"(waited for proposals {t1 - t0:.0f}s, score {t3 - t2:.0f}s)"
        )

    def _prune(self) -> None:
        for role, members in self.population.items():
            ranked = sorted(members, key=lambda c: -self.credit.get(c.id, 1.0))
            keep = ranked[: self.config.pool_size]
            self.population[role] = [c for c in members if c in keep]

    # --- validation -----------------------------------------------------------------------

    def _team(self, members: dict[str, list[int]]) -> dict[str, list[Candidate]]:
        return {r: [self.store.get_candidate(i) for i in ids] for r, ids in members.items()}

    def _validate(self) -> tuple[TeamOutcome, Snapshot | None]:
        seed_ids = {r: [c.id for c in cs] for r, cs in self._seed_team().items()}
        seed_ids, finalists = finalists_of(self.snapshots, seed_ids, self.cooperative,
                                           self.config.validate_top)
        seed = self._score(self._team(seed_ids), "validation", "seeds")
        self.progress(f"validation: seed team {seed.fitness:.6g}")
        winner = None
        for snap in finalists:
            if snap.validation is None:
                outcome = self._score(self._team(snap.members), "validation",
                                      f"round{snap.round}")
                snap.validation = outcome.fitness if outcome.ok else math.inf
                snap.validation_objectives = dict(outcome.objectives) if outcome.ok else None
            self.progress(
                f"validation: round {snap.round} team {snap.validation:.6g} "
                f"(training {snap.fitness:.6g})"
            )
            if winner is None or snap.validation < winner.validation:
                winner = snap
        return seed, winner

    def _seed_team(self) -> dict[str, list[Candidate]]:
        out = {}
        for role, seeds in self.task.seeds().items():
            out[role] = [c.with_id(self.store.add_candidate(c)[0]) for c in seeds]
        return out


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    raise TypeError(type(obj).__name__)


__all__ = ["STATE_FILE", "EvolveConfig", "EvolveResult", "Evolution", "Snapshot", "paired_gain"]
