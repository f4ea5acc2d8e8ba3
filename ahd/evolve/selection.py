"""Which offspring to ask for (a strategy per request, parents by credit tournament), and which
snapshots meet the seeds on the validation instances.

Kept apart from the loop so that selection is a pure function of the population, the credits,
the synergy table and the ``rng``: the same inputs ask for the same offspring, which is what
makes a run replayable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ahd.candidate import Candidate
from ahd.proposers.base import Parent, ProposalRequest

from .records import EvolveConfig, Snapshot


def tournament(pool: Sequence[Candidate], credit: Mapping[int, float],
               rng: np.random.Generator) -> int:
    """The better credited of two members drawn at random (ties: the first)."""
    a, b = (pool[int(i)] for i in rng.integers(len(pool), size=2))
    return a.id if credit.get(a.id, 1.0) >= credit.get(b.id, 1.0) else b.id


def offspring_requests(
    config: EvolveConfig, roles: Sequence[str], population: Mapping[str, Sequence[Candidate]],
    credit: Mapping[int, float], synergy: Mapping[tuple[int, int], float],
    rng: np.random.Generator, parent: Callable[[int], Parent],
) -> list[ProposalRequest]:
    """``config.offspring`` requests, roles in turn, strategies drawn by ``config.weights``.

    ``joint`` takes the best-synergy pair of the first two roles (``crossover`` while there
    is none); ``parent(id)`` turns a chosen id into what the proposer sees.
    """
    names = [n for n, _ in config.weights]
    weights = np.array([w for _, w in config.weights], dtype=float)
    weights /= weights.sum()
    out = []
    for i in range(config.offspring):
        strategy = names[int(rng.choice(len(names), p=weights))]
        role = roles[i % len(roles)]
        if strategy == "joint" and len(roles) > 1 and synergy:
            (d, r), _ = max(synergy.items(), key=lambda kv: (kv[1], -kv[0][0]))
            out.append(ProposalRequest("joint", tuple(roles[:2]), (parent(d), parent(r))))
            continue
        if strategy == "joint":
            strategy = "crossover"
        if strategy == "init":
            out.append(ProposalRequest("init", (role,), ()))
            continue
        count = 2 if strategy == "crossover" else 1
        parents = tuple(parent(tournament(population[role], credit, rng)) for _ in range(count))
        out.append(ProposalRequest(strategy, (role,), parents))
    return out


def finalists_of(snapshots: Sequence[Snapshot], seed_ids: dict[str, list[int]],
                 cooperative: bool, top: int) -> tuple[dict[str, list[int]], list[Snapshot]]:
    """The team standing for the seeds, and the ``top`` evolved snapshots by training fitness
    (distinct teams) that meet it on the validation instances.

    A cooperative task's seeds are the seed team; otherwise the best seed alone by training
    fitness stands for them, and an evolved snapshot is one with any non-seed member.
    """
    all_seeds = {i for ids in seed_ids.values() for i in ids}

    def members(snap: Snapshot) -> set[int]:
        return {i for ids in snap.members.values() for i in ids}

    if cooperative:
        evolved = [s for s in snapshots if s.members != seed_ids]
    else:
        alone = [s for s in snapshots if members(s) <= all_seeds]
        seed_ids = min(alone, key=lambda s: s.fitness).members
        evolved = [s for s in snapshots if not members(s) <= all_seeds]
    unique: dict[str, Snapshot] = {}
    for snap in sorted(evolved, key=lambda s: s.fitness):
        unique.setdefault(json.dumps(snap.members, sort_keys=True), snap)
    return seed_ids, list(unique.values())[:top]
