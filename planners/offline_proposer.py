"""The offline proposer for planning heuristics: weighted feature sums, no network.

A heuristic here is a *genome*, a list of ``(feature, weight)`` terms over the domain's
feature catalogue (:mod:`ahd.planners.features`), rendered into ordinary heuristic code whose
``# ahd-terms:`` line records the genome, so the genome of a parent is read back from its
source. Strategies map onto genome edits:

``init``           a fresh genome: goal count plus one or two random features
``mutate_params``  weights scaled by log-normal factors; genomes are normalised to a largest
                   weight of 1, since GBFS only sees the order of h values (a one-term
                   genome has nothing to calibrate and gets a logic edit instead)
``mutate_logic``   a term added, removed or replaced
``crossover``      a mix of two parents' term sets (shared terms get the geometric mean of
                   their weights); ``joint`` is treated as crossover (one role)

A parent without a genome (hand-written or LLM code) gets its numeric constants perturbed
instead (:func:`ahd.proposers.gp.perturb_constants`).
"""

from __future__ import annotations

import math

import numpy as np

from ahd.candidate import Origin
from ahd.proposers import gp
from ahd.proposers.base import Proposal, ProposalRequest

from .features import Feature, Terms, parse_terms, render

#: Weights are drawn log-uniformly from this range (relative to goal count's 1.0).
WEIGHT_RANGE = (0.1, 10.0)
#: Standard deviation of the log-normal factor of a weight mutation.
SIGMA = 0.6
#: Most terms a genome may have (more only slows every evaluation down).
MAX_TERMS = 6


class PlanningOfflineProposer:
    """Genome edits over a feature catalogue (see the module docstring).

    Parameters
    ----------
    catalogue : dict of str to Feature
        The domain's features (``PlanningTask.profile.catalogue``).
    """

    name = "offline"

    def __init__(self, catalogue: dict[str, Feature]):
        if not catalogue:
            raise ValueError("the feature catalogue is empty")
        self.catalogue = dict(catalogue)
        self.keys = list(self.catalogue)

    def __call__(
        self, requests: list[ProposalRequest], rng: np.random.Generator
    ) -> list[Proposal]:
        return [self._one(req, rng) for req in requests]

    def fix(self, proposal: Proposal, error: str) -> Proposal | None:
        return None  # a blind edit has nothing to learn from an error message

    # --- genome edits ---------------------------------------------------------------------

    def _weight(self, rng: np.random.Generator) -> float:
        lo, hi = WEIGHT_RANGE
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))

    def _fresh(self, rng: np.random.Generator) -> Terms:
        terms: Terms = [("goals", 1.0)] if "goals" in self.catalogue else []
        for _ in range(int(rng.integers(1, 3))):
            terms = self._add(terms, rng)
        return terms

    def _add(self, terms: Terms, rng: np.random.Generator) -> Terms:
        used = {k for k, _ in terms}
        free = [k for k in self.keys if k not in used]
        if not free or len(terms) >= MAX_TERMS:
            return terms
        return [*terms, (free[int(rng.integers(len(free)))], self._weight(rng))]

    def mutate_params(self, terms: Terms, rng: np.random.Generator) -> Terms:
        """Scale each weight by ``exp(N(0, SIGMA))`` with probability 0.7 (at least one)."""
        pick = rng.random(len(terms)) < 0.7
        if not pick.any():
            pick[int(rng.integers(len(terms)))] = True
        return [(k, w * float(math.exp(rng.normal(0.0, SIGMA))) if p else w)
                for (k, w), p in zip(terms, pick, strict=True)]

    def mutate_logic(self, terms: Terms, rng: np.random.Generator) -> tuple[Terms, str]:
        """Add a term (half the time), remove one, or replace one with a new feature."""
        r = rng.random()
        if len(terms) < 2 or (r < 0.5 and len(terms) < MAX_TERMS):
            return self._add(terms, rng), "add_term"
        i = int(rng.integers(len(terms)))
        rest = terms[:i] + terms[i + 1:]
        if r < 0.75:
            return rest, "remove_term"
        return self._add(rest, rng), "replace_term"

    def crossover(self, a: Terms, b: Terms, rng: np.random.Generator) -> Terms:
        """Shared terms kept (geometric-mean weight); each other term kept with p = 0.5."""
        wa, wb = dict(a), dict(b)
        out: Terms = []
        for key in dict.fromkeys([*wa, *wb]):
            if key in wa and key in wb:
                out.append((key, math.sqrt(wa[key] * wb[key])))
            elif rng.random() < 0.5:
                out.append((key, wa.get(key, wb.get(key, 1.0))))
        if not out:
            out = [a[int(rng.integers(len(a)))]]
        return out[:MAX_TERMS]

    # --- proposals ------------------------------------------------------------------------

    def _genome(self, source: str) -> Terms | None:
        terms = parse_terms(source)
        if terms is None:
            return None
        known = [(k, w) for k, w in terms if k in self.catalogue]
        return known or None

    def _one(self, req: ProposalRequest, rng: np.random.Generator) -> Proposal:
        sources = [p.candidate.source for p in req.parents]
        genomes = [self._genome(s) for s in sources]
        strategy = "crossover" if req.strategy == "joint" else req.strategy
        terms: Terms | None = None
        how = strategy
        for _ in range(8):  # an edit can reproduce its parent (e.g. remove then add back)
            if strategy == "init" or not sources:
                terms, how = self._fresh(rng), "fresh_terms"
            elif genomes[0] is None:
                break
            elif strategy == "mutate_params" and len(genomes[0]) > 1:
                terms, how = self.mutate_params(genomes[0], rng), "scale_weights"
            elif strategy in ("mutate_params", "mutate_logic"):  # one term: only logic helps
                terms, how = self.mutate_logic(genomes[0], rng)
            else:
                other = genomes[1] if len(genomes) > 1 and genomes[1] else self._fresh(rng)
                terms, how = self.crossover(genomes[0], other, rng), "mix_terms"
            if terms:
                terms = normalise(terms)
                if all(_rounded(terms) != _rounded(g) for g in genomes if g):
                    break
        origin = Origin("offline", strategy=f"{req.strategy}:{how}")
        if terms:
            return Proposal(req, render(terms, self.catalogue), origin)
        if sources:  # a parent that is not a feature sum: calibrate its constants instead
            source = gp.perturb_constants(sources[0], rng)
            if source is not None:
                return Proposal(req, source, Origin("offline", strategy=f"{req.strategy}:params"))
        return Proposal(req, None, origin, error=f"no applicable {req.strategy} edit")


def normalise(terms: Terms) -> Terms:
    """Weights divided by the largest one: GBFS only sees the order of h values, so genomes
    that differ by a common factor are the same heuristic and should look the same."""
    top = max(w for _, w in terms)
    return [(k, w / top) for k, w in terms]


def _rounded(terms: Terms) -> list[tuple[str, float]]:
    return sorted((k, float(f"{w:.3g}")) for k, w in terms)
