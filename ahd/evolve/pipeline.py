"""Proposals in flight: ask, check and smoke-run offspring while the current round is scored.

Waiting for a model between rounds leaves the sandbox workers idle, and an LLM reply takes
seconds. So the loop asks for round ``r + 1``'s offspring just before it scores round ``r``'s
team (parents are then chosen by the credits of round ``r - 1``), and every proposal goes
through its static check and smoke run as soon as it arrives, on the workers the scoring
leaves free.

Reproducibility does not depend on timing: each request gets its own generator seeded from the
loop's ``rng`` in a fixed order, and the loop takes the staged results strictly in request
order, so candidate ids, failures and the leaderboard are the same on one machine or a
cluster. Only the main thread writes the store; the threads here run the proposer, the task's
``check`` and ``smoke``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from ahd import syntax
from ahd.candidate import Candidate
from ahd.proposers.base import Parent, Proposal, ProposalRequest, Proposer

from .task import Task


@dataclass
class Staged:
    """One proposal after its static check and smoke run.

    ``smoke`` is ``None`` when it was not run (no source, a static problem, or a duplicate of
    a known candidate), ``""`` when it passed, else the error.
    """

    proposal: Proposal
    problems: list[str]
    smoke: str | None = None
    duplicate: bool = False


class Stager:
    """Runs proposer calls, static checks and smoke runs on ``threads`` threads.

    The threads live as long as the stager (started on first use, ended by :meth:`close`):
    a thread per proposal would start thousands in a long run, and each dead one leaves its
    stack in glibc's cache and its allocations in an arena of its own, which a soak saw as
    resident memory creeping up.
    """

    def __init__(self, task: Task, proposer: Proposer, threads: int):
        self.task, self.proposer = task, proposer
        self._n_threads = max(1, threads)
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def propose(self, requests: list[ProposalRequest], seeds: Iterable[int],
                known: frozenset[tuple[tuple[str, ...], str]]) -> list[Future[Staged | None]]:
        """One future per request, each asking the proposer for that request alone."""
        return [self._submit(self._ask(req, int(seed)), known)
                for req, seed in zip(requests, seeds, strict=True)]

    def stage_together(self, requests: list[ProposalRequest], rng: np.random.Generator,
                       known: frozenset[tuple[tuple[str, ...], str]]
                       ) -> list[Future[Staged | None]]:
        """One proposer call for all ``requests`` with ``rng``, here and now; then each
        proposal is checked and smoke-run on a thread of its own."""
        proposals = self.proposer(requests, rng)
        return [self._submit(lambda prop=prop: prop, known) for prop in proposals]

    def fix(self, failed: list[tuple[Proposal, str]],
            known: frozenset[tuple[tuple[str, ...], str]]) -> list[Future[Staged | None]]:
        """One future per failed proposal: the proposer's fix (``None`` when it cannot)."""
        return [self._submit(self._fixer(prop, err), known) for prop, err in failed]

    def close(self) -> None:
        """Drop what has not started; what runs finishes unobserved (its results are unused).

        The threads are daemons: a model call in flight never keeps the process from exiting
        on Ctrl-C (a thread pool's threads would be joined at exit). Each ends after the job
        it is running.
        """
        self._closed = True
        for _ in self._threads:
            self._jobs.put(None)

    def _submit(self, make: Callable[[], Proposal | None],
                known: frozenset[tuple[tuple[str, ...], str]]) -> Future[Staged | None]:
        future: Future[Staged | None] = Future()

        def work() -> None:
            if self._closed:
                future.cancel()  # a waiter, if any, wakes with CancelledError
                return
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(self._stage(make, known))
            except BaseException as exc:  # noqa: BLE001 - the loop re-raises it
                future.set_exception(exc)

        if self._closed:  # no thread serves a closed stager
            future.cancel()
            return future
        if not self._threads:
            self._threads = [threading.Thread(target=self._serve, name="ahd-propose",
                                              daemon=True) for _ in range(self._n_threads)]
            for thread in self._threads:
                thread.start()
        self._jobs.put(work)
        return future

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()

    def _ask(self, request: ProposalRequest, seed: int) -> Callable[[], Proposal | None]:
        def ask() -> Proposal | None:
            out = self.proposer([request], np.random.default_rng(seed))
            return out[0] if out else None
        return ask

    def _fixer(self, proposal: Proposal, error: str) -> Callable[[], Proposal | None]:
        return lambda: self.proposer.fix(proposal, error)

    def _stage(self, make: Callable[[], Proposal | None],
               known: frozenset[tuple[tuple[str, ...], str]]) -> Staged | None:
        prop = make()
        if prop is None:
            return None
        if prop.source is None:
            return Staged(prop, [])
        with syntax.exclusive():  # one syntax tree alive at a time (see ahd.syntax)
            problems = self.task.check(prop.source, prop.roles)
            if problems:
                return Staged(prop, problems)
            cand = Candidate(prop.source, prop.roles, self.task.problem, prop.parent_ids,
                             prop.origin)
        if (cand.roles, cand.code_hash) in known:
            return Staged(prop, [], duplicate=True)
        return Staged(prop, [], self.task.smoke([cand])[0])


def request_state(requests: list[ProposalRequest], seeds: Iterable[int]) -> dict[str, Any]:
    """Requests in flight as plain data for ``state.json`` (parents by id)."""
    return {
        "requests": [
            {"strategy": r.strategy, "roles": list(r.roles), "team_fitness": r.team_fitness,
             "parents": [[p.candidate.id, p.credit, p.uses, p.note] for p in r.parents]}
            for r in requests
        ],
        "seeds": [int(s) for s in seeds],
    }


def requests_from_state(state: dict[str, Any], candidate: Callable[[int], Candidate]
                        ) -> tuple[list[ProposalRequest], list[int]]:
    """The inverse of :func:`request_state`; ``candidate(id)`` reads a parent from the store."""
    requests = [
        ProposalRequest(
            r["strategy"], tuple(r["roles"]),
            tuple(Parent(candidate(cid), credit, uses, note)
                  for cid, credit, uses, note in r["parents"]),
            r["team_fitness"],
        )
        for r in state["requests"]
    ]
    return requests, list(state["seeds"])
