"""What distinguishes one routing problem from another, as one small record.

A problem folder (``cvrp/``, ``tsp/``, ``ovrp/``) defines one :class:`RoutingProblem`; the CLI,
the benchmarks and the parametrised tests iterate over :data:`PROBLEMS` instead of naming
variants, so a new variant is a new folder and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .instance import RoutingInstance


@dataclass(frozen=True)
class RoutingProblem:
    """A routing variant.

    Parameters
    ----------
    name
        The ``--problem`` value.
    description
        What the problem is, in the words a proposer (or a user) reads.
    generate
        ``generate(n, rng) -> RoutingInstance``: the default training-instance generator.
    """

    name: str
    description: str
    generate: Callable[[int, np.random.Generator], RoutingInstance]


def _load() -> dict[str, RoutingProblem]:
    from .cvrp import PROBLEM as CVRP
    from .ovrp import PROBLEM as OVRP
    from .tsp import PROBLEM as TSP

    return {p.name: p for p in (CVRP, TSP, OVRP)}


def get_problem(name: str) -> RoutingProblem:
    """The registered problem called ``name``, or a ``ValueError`` listing the known ones."""
    problems = _load()
    if name not in problems:
        raise ValueError(f"unknown problem {name!r}; choose one of {sorted(problems)}")
    return problems[name]


def problem_names() -> list[str]:
    return sorted(_load())
