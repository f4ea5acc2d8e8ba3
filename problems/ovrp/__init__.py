"""Open VRP: like CVRP, but vehicles end at their last customer (returning costs nothing)."""

from ..problem import RoutingProblem


def _generate(n, rng):
    from ..generators import uniform_cvrp

    inst = uniform_cvrp(n, rng)
    inst.kind = "ovrp"
    return inst


PROBLEM = RoutingProblem(
    name="ovrp",
    description=(
        "Open vehicle routing: like CVRP, every customer once, route demand within capacity, "
        "but a route ends at its last customer: the arc back to the depot costs 0 "
        "(inst.dist[i, 0] == 0). Minimise total travel distance."
    ),
    generate=_generate,
)
