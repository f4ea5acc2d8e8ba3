"""The offline (GP) proposer on the routing seeds: valid, attributed, reproducible proposals."""

from __future__ import annotations

import numpy as np
import pytest

from ahd.candidate import Candidate
from ahd.problems.evaluate import check_source
from ahd.problems.task import RoutingTask, RoutingTaskConfig
from ahd.proposers.base import STRATEGIES, Parent, Proposal, ProposalRequest
from ahd.proposers.offline import OfflineProposer

N_SEEDS = 30

#: (strategy, roles) cases: every strategy, each single-role strategy for both roles.
CASES = [
    (strategy, roles)
    for strategy in STRATEGIES
    for roles in ((("destroy", "repair"),) if strategy == "joint"
                  else (("destroy",), ("repair",)))
]


@pytest.fixture(scope="module")
def seeds() -> dict[str, list[Candidate]]:
    task = RoutingTask(RoutingTaskConfig(problem="cvrp"), pool=None)  # no sandbox for seeds()
    out = task.seeds()
    # parent ids as the store would assign them, so Proposal.parent_ids can be checked
    next_id = iter(range(1, 100))
    return {role: [c.with_id(next(next_id)) for c in cands] for role, cands in out.items()}


def _request(strategy: str, roles: tuple[str, ...], seeds, rng: np.random.Generator):
    if strategy == "init":
        parents = ()
    elif strategy == "joint":
        d = seeds["destroy"][int(rng.integers(len(seeds["destroy"])))]
        r = seeds["repair"][int(rng.integers(len(seeds["repair"])))]
        parents = (Parent(d, credit=1.2), Parent(r, credit=0.9))
    else:
        pool = seeds[roles[0]]
        k = 2 if strategy == "crossover" else 1
        picks = rng.choice(len(pool), size=k, replace=False)
        parents = tuple(Parent(pool[int(i)]) for i in picks)
    return ProposalRequest(strategy, roles, parents)


def _propose(strategy, roles, seeds, seed: int) -> Proposal:
    proposer = OfflineProposer(seeds)
    pick = np.random.default_rng(10_000 + seed)  # chooses the parents
    req = _request(strategy, roles, seeds, pick)
    (prop,) = proposer([req], np.random.default_rng(seed))
    assert prop.request is req
    return prop


def test_seeds_are_the_default_pools(seeds):
    assert [c.origin.strategy for c in seeds["destroy"]] == [
        "random_removal", "worst_removal", "related_removal", "string_removal",
        "route_removal", "cluster_removal",
    ]
    assert [c.origin.strategy for c in seeds["repair"]] == [
        "greedy_repair", "regret_repair", "blink_repair",
    ]


@pytest.mark.parametrize(("strategy", "roles"), CASES)
def test_proposals_mostly_pass_the_static_check(strategy, roles, seeds):
    good, failures = 0, []
    for seed in range(N_SEEDS):
        prop = _propose(strategy, roles, seeds, seed)
        assert prop.origin.proposer == "offline"
        assert prop.origin.strategy.startswith(strategy + ":")
        assert prop.roles == roles
        assert prop.parent_ids == tuple(p.candidate.id for p in prop.request.parents)
        if prop.source is None:
            assert prop.error
            failures.append(f"seed {seed}: no source: {prop.error}")
            continue
        messages = check_source(prop.source, {role: role for role in roles})
        if messages:
            failures.append(f"seed {seed} ({prop.origin.strategy}): {messages[0]}")
        else:
            good += 1
    assert good >= 0.8 * N_SEEDS, f"{good}/{N_SEEDS} valid; " + "; ".join(failures[:5])


@pytest.mark.parametrize(("strategy", "roles"), CASES)
def test_same_rng_seed_same_proposal(strategy, roles, seeds):
    for seed in (0, 1, 2, 3):
        a = _propose(strategy, roles, seeds, seed)
        b = _propose(strategy, roles, seeds, seed)
        assert a.source == b.source
        assert a.origin == b.origin
        assert a.error == b.error


@pytest.mark.parametrize(("strategy", "roles"), CASES)
def test_different_rng_seeds_vary(strategy, roles, seeds):
    sources = {_propose(strategy, roles, seeds, seed).source for seed in range(10)}
    assert len(sources - {None}) >= 3


@pytest.mark.parametrize("role", ["destroy", "repair"])
def test_mutations_differ_from_their_parent(role, seeds):
    # A mutation identical to its parent wastes a proposal (the store deduplicates it).
    same = []
    for strategy in ("mutate_params", "mutate_logic"):
        for seed in range(N_SEEDS):
            prop = _propose(strategy, (role,), seeds, seed)
            if prop.source is None:
                continue
            parent = prop.request.parents[0].candidate
            if Candidate(prop.source, (role,), "cvrp").code_hash == parent.code_hash:
                same.append((strategy, seed, parent.origin.strategy))
    assert same == []


def test_joint_proposal_defines_both_roles(seeds):
    prop = _propose("joint", ("destroy", "repair"), seeds, 0)
    assert "def destroy(" in prop.source and "def repair(" in prop.source
    cand = Candidate(prop.source, ("destroy", "repair"), "cvrp")
    assert cand.entry_points == {"destroy": "destroy", "repair": "repair"}


def test_joint_needs_two_parents(seeds):
    proposer = OfflineProposer(seeds)
    req = ProposalRequest("joint", ("destroy", "repair"))
    (prop,) = proposer([req], np.random.default_rng(0))
    assert prop.source is None and "joint" in prop.error


def test_fix_is_not_supported(seeds):
    prop = _propose("init", ("destroy",), seeds, 0)
    assert OfflineProposer(seeds).fix(prop, "TypingError: ...") is None


def test_several_requests_answered_in_order(seeds):
    proposer = OfflineProposer(seeds)
    reqs = [ProposalRequest("init", ("repair",)), ProposalRequest("init", ("destroy",)),
            ProposalRequest("mutate_params", ("destroy",), (Parent(seeds["destroy"][1]),))]
    props = proposer(reqs, np.random.default_rng(5))
    assert [p.request for p in props] == reqs
    assert "def repair(" in props[0].source and "def destroy(" in props[1].source


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="unknown strategy"):
        ProposalRequest("rewrite", ("destroy",))
