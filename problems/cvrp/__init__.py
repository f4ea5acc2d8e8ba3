"""Capacitated VRP: every customer served once, routes start and end at the depot."""

from ..problem import RoutingProblem


def _generate(n, rng):
    from ..generators import uniform_cvrp

    return uniform_cvrp(n, rng)


PROBLEM = RoutingProblem(
    name="cvrp",
    description=(
        "Capacitated vehicle routing: visit every customer exactly once with routes that start "
        "and end at the depot (node 0); the demand on a route may not exceed the vehicle "
        "capacity; minimise total travel distance. The number of vehicles is free."
    ),
    generate=_generate,
)
