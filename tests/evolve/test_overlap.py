"""Proposals in flight: a run does not depend on when proposals arrive, and overlap can be off;
identical proposals arriving together are admitted once.

A proposer whose answers come back in scrambled order and after random delays (as LLM replies
do) must leave exactly the store a prompt proposer leaves: the loop takes staged proposals in
request order, and each request has its own seeded generator. Uses the bin-packing plugin
(installed by the test command) because its evaluations take milliseconds.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter

import numpy as np
import pytest
from ahd_binpacking.config import BinPackingConfig
from ahd_binpacking.plugin import PLUGIN

from ahd.evolve.budget import Budget, StopRule
from ahd.evolve.loop import Evolution, EvolveConfig
from ahd.proposers.base import Proposal
from ahd.sandbox import SandboxPool
from ahd.store import Store


class Jittery:
    """The task's offline proposer, answering each request after a random delay."""

    name = "jittery"

    def __init__(self, inner, seed: int):
        self.inner = inner
        self.delays = np.random.default_rng(seed)

    def __call__(self, requests, rng):
        time.sleep(float(self.delays.uniform(0.0, 0.3)))
        return self.inner(requests, rng)

    def fix(self, proposal, error):
        return self.inner.fix(proposal, error)


def _run(tmp_path, name, pool, *, jitter: int | None = None, overlap: bool = True):
    run_dir = tmp_path / name
    config = BinPackingConfig(n_items=300, n_train=2, n_validation=2, smoke_items=40)
    with Store.in_run_dir(run_dir) as store:
        store.create_run("binpacking", {}, 0)
        task = PLUGIN.build(config, pool)
        proposer = task.offline_proposer()
        if jitter is not None:
            proposer = Jittery(proposer, jitter)
        evo = Evolution(task, proposer, store, run_dir,
                        EvolveConfig(pool_size=4, offspring=2, seed=3, overlap=overlap,
                                     weights=PLUGIN.loop_defaults["weights"]),
                        StopRule(Budget(rounds=2)), threads=2)
        result = evo.run()
    with sqlite3.connect(run_dir / "ahd.sqlite") as conn:
        cands = conn.execute("SELECT id, code_hash, parents, generation FROM candidates "
                             "ORDER BY id").fetchall()
        evals = conn.execute("SELECT candidate_id, instance, context, status, objective FROM "
                             "evaluations ORDER BY candidate_id, instance, context").fetchall()
    return cands, evals, result.winner


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_arrival_order_and_delays_do_not_change_the_run(tmp_path):
    with SandboxPool(2, prewarm_numba="basic") as pool:
        prompt = _run(tmp_path, "prompt", pool)
        scrambled = _run(tmp_path, "scrambled", pool, jitter=1)
        serial = _run(tmp_path, "serial", pool, overlap=False)
    assert len(prompt[0]) > 2  # offspring were stored beside the two seeds
    assert scrambled == prompt
    # Without overlap the parents of round r+1 see round r's credits: a different search,
    # still a complete one.
    assert serial[2] is not None and serial[0] != prompt[0]


class Repeating:
    """Answers every request with the same code, new to the run and sure to pass its checks:
    worst fit, the opposite of best fit."""

    name = "repeating"
    source = "def priority(item, bins):\n    return bins - item\n"

    def __call__(self, requests, rng):
        from ahd.candidate import Origin

        return [Proposal(r, self.source, Origin("offline", "repeat")) for r in requests]

    def fix(self, proposal, error):
        return None


def test_identical_proposals_of_one_round_are_admitted_once(tmp_path):
    run_dir = tmp_path / "run"
    config = BinPackingConfig(n_items=100, n_train=1, n_validation=1, smoke_items=20)
    with SandboxPool(1, prewarm_numba="basic") as pool, Store.in_run_dir(run_dir) as store:
        store.create_run("binpacking", {}, 0)
        task = PLUGIN.build(config, pool)
        evo = Evolution(task, Repeating(), store, run_dir,
                        EvolveConfig(pool_size=6, offspring=4, seed=0, overlap=False,
                                     weights=PLUGIN.loop_defaults["weights"]),
                        StopRule(Budget(rounds=2)), threads=2)
        evo.run()
        members = Counter(c.id for pool_ in evo.population.values() for c in pool_)
        assert len(store.candidate_ids()) == 3  # two seeds and the one proposal
    assert max(members.values()) == 1 and len(members) == 3
    # round 1: three copies of the admitted one; round 2: four copies of a member
    assert evo.failures.get("duplicate") == 7
