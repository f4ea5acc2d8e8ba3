"""Domain features for planning heuristics, and heuristic code composed from them.

The offline proposer (:mod:`ahd.planners.offline_proposer`) evolves heuristics without a
network, so it needs material a blind edit can recombine into something better than goal
count. That material is a *catalogue of features* read off the domain, and a heuristic is a
weighted sum of feature terms (a *genome*) rendered as an ordinary heuristic module.

This module is the stable import path of that machinery: heuristics written by ``ahd evolve``
(``generated/*.py``) import ``relaxed_plan_length`` / ``relaxed_cost`` from here, and so do
the modules :func:`render` writes, so the names below stay importable from
``ahd.planners.features`` whichever module holds them:

:mod:`ahd.planners.feature_catalogue`
    :class:`Feature`, :class:`DomainProfile` and :func:`analyse`: the domain's structure and
    the feature kinds it supports (the kinds are described there).
:mod:`ahd.planners.feature_render`
    :func:`render` and :func:`parse_terms` / :func:`parse_genome` (genome to source and
    back; a module :func:`render` wrote runs compiled, see
    :mod:`ahd.planners.heuristics.genome`), :data:`Terms`, :data:`TERMS_TAG`,
    :data:`FEATURES_TAG` and :data:`GOALCOUNT_SOURCE`, the seed of every planning evolution.
:mod:`ahd.planners.relaxed_helpers`
    :func:`relaxed_plan_length` (h_FF) and :func:`relaxed_cost` (h_add) for Python
    heuristics, and :func:`warm_up_features`, which compiles them before workers fork.
"""

from __future__ import annotations

from .feature_catalogue import DomainProfile, Feature, Graph, analyse
from .feature_render import (
    FEATURES_TAG,
    GOALCOUNT_SOURCE,
    TERMS_TAG,
    Terms,
    parse_genome,
    parse_terms,
    render,
)
from .relaxed_helpers import relaxed_cost, relaxed_plan_length, warm_up_features

__all__ = [
    "FEATURES_TAG", "Feature", "DomainProfile", "GOALCOUNT_SOURCE", "Graph", "TERMS_TAG", "Terms",
    "analyse", "parse_genome", "parse_terms", "relaxed_cost", "relaxed_plan_length", "render",
    "warm_up_features",
]
