"""The offline proposer: genetic programming on operator source, no network.

It maps each strategy onto the AST edits of :mod:`ahd.proposers.gp`, drawing extra material
from the seed library (the registered operators as standalone sources), so that even a pool
that has converged can still receive whole functions it lost.
"""

from __future__ import annotations

import numpy as np

from ahd import syntax
from ahd.candidate import Candidate, Origin

from . import gp
from .base import Proposal, ProposalRequest


class OfflineProposer:
    """GP proposer. ``library`` holds the seed candidates per role."""

    name = "offline"

    def __init__(self, library: dict[str, list[Candidate]]):
        self.library = {role: [c.source for c in cands] for role, cands in library.items()}

    def __call__(
        self, requests: list[ProposalRequest], rng: np.random.Generator
    ) -> list[Proposal]:
        with syntax.exclusive():  # GP edits keep a parent's tree alive (see ahd.syntax)
            return [self._one(req, rng) for req in requests]

    def fix(self, proposal: Proposal, error: str) -> Proposal | None:
        return None  # a blind edit has nothing to learn from an error message

    def _one(self, req: ProposalRequest, rng: np.random.Generator) -> Proposal:
        sources = [p.candidate.source for p in req.parents]
        role = req.roles[0]
        source, how = None, req.strategy
        if req.strategy == "init":
            base = self._library_pick(role, rng)
            source, how = gp.perturb_constants(base, rng) or base, "library+params"
        elif req.strategy == "mutate_params":
            source = gp.perturb_constants(sources[0], rng)
        elif req.strategy == "mutate_logic":
            if rng.random() < 0.5:
                source, how = gp.flip_comparison(sources[0], rng), "flip_comparison"
            else:
                donor = self._library_pick(role, rng)
                source = gp.exchange_statement(sources[0], donor, role, rng)
                how = "exchange_statement"
        elif req.strategy == "crossover":
            other = sources[1] if len(sources) > 1 else self._library_pick(role, rng)
            source, how = gp.crossover_constants(sources[0], other, rng), "uniform_constants"
            if source is None:
                source, how = gp.compose(sources[0], other, role, rng), "compose"
        elif req.strategy == "joint":
            source, how = self._joint(sources, rng), "joint_params"
        if source is None and sources:
            source, how = gp.perturb_constants(sources[0], rng), f"{req.strategy}->params"
        if source is None and sources:  # code without tunable literals (e.g. greedy_repair)
            source, how = gp.flip_comparison(sources[0], rng), f"{req.strategy}->flip"
        origin = Origin("offline", strategy=f"{req.strategy}:{how}")
        if source is None:
            return Proposal(req, None, origin, error=f"no applicable {req.strategy} edit")
        return Proposal(req, source, origin)

    def _library_pick(self, role: str, rng: np.random.Generator) -> str:
        sources = self.library[role]
        return sources[int(rng.integers(len(sources)))]

    def _joint(self, sources: list[str], rng: np.random.Generator) -> str | None:
        if len(sources) < 2:
            return None
        d = gp.perturb_constants(sources[0], rng) or sources[0]
        r = gp.perturb_constants(sources[1], rng) or sources[1]
        try:
            return (
                gp.prefix_names(d, "_d_", {"destroy": "destroy"})
                + "\n\n"
                + gp.prefix_names(r, "_r_", {"repair": "repair"})
            )
        except SyntaxError:
            return None
