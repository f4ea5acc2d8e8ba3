"""Travelling salesman: one closed tour through every city; city 0 plays the depot."""

from ..problem import RoutingProblem


def _generate(n, rng):
    from ..generators import uniform_tsp

    return uniform_tsp(n, rng)


PROBLEM = RoutingProblem(
    name="tsp",
    description=(
        "Travelling salesman: a single closed tour visiting every city exactly once, starting "
        "and ending at city 0 (the 'depot'); there is exactly one route and no capacity; "
        "minimise tour length."
    ),
    generate=_generate,
)
