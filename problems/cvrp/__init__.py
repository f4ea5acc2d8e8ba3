"""Capacitated VRP: every customer served once, routes start and end at the depot."""

from ..generators import uniform_cvrp
from ..problem import RoutingProblem, SeedPools

#: The seeds of every multi-route variant. No improve seed: the engine's granular local search
#: already contains intra-route 2-opt, so ``two_opt`` would only add an O(n) pass per iteration;
#: it stays registered for runs without that local search and as the improve-role seed for
#: evolution.
POOLS = SeedPools(
    destroy=(
        "random_removal",
        "worst_removal",
        "related_removal",
        "string_removal",
        "route_removal",
        "cluster_removal",
    ),
    repair=("greedy_repair", "regret_repair", "blink_repair"),
)

PROBLEM = RoutingProblem(
    name="cvrp",
    summary="capacitated vehicle routing",
    description=(
        "Capacitated vehicle routing: visit every customer exactly once with routes that start "
        "and end at the depot (node 0); the demand on a route may not exceed the vehicle "
        "capacity; minimise total travel distance. The number of vehicles is free."
    ),
    # An OVRP file holds the same data; read as CVRP its routes close.
    vrplib_types=("CVRP", "OVRP"),
    open_routes=False,
    capacitated=True,
    single_route=False,
    generate=uniform_cvrp,
    pools=POOLS,
)
