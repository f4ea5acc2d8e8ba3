"""Open VRP: like CVRP, but vehicles end at their last customer (returning costs nothing)."""

from ..cvrp import POOLS
from ..generators import ovrp_from, uniform_cvrp, uniform_ovrp
from ..instance import RoutingInstance
from ..problem import RoutingProblem


def spec_instance(n: int, seed: int) -> RoutingInstance:
    """``InstanceSpec("ovrp", n, seed)``: the CVRP of that seed with open routes.

    Named ``cvrp-uniform-n<n>-s<seed>-ovrp``, as the instances of stored runs are.
    """
    return ovrp_from(uniform_cvrp(n, seed))


PROBLEM = RoutingProblem(
    name="ovrp",
    summary="open vehicle routing",
    description=(
        "Open vehicle routing: like CVRP, every customer once, route demand within capacity, "
        "but a route ends at its last customer: the arc back to the depot costs 0 "
        "(inst.dist[i, 0] == 0). Minimise total travel distance."
    ),
    # LKH-3 spells open-route files ``TYPE : OVRP``; a CVRP file's data also makes an OVRP.
    vrplib_types=("OVRP", "CVRP"),
    open_routes=True,
    capacitated=True,
    single_route=False,
    generate=uniform_ovrp,
    spec_generate=spec_instance,
    pools=POOLS,
)
