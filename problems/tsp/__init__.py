"""Travelling salesman: one closed tour through every city; city 0 plays the depot."""

from ..generators import uniform_tsp
from ..problem import RoutingProblem, SeedPools

PROBLEM = RoutingProblem(
    name="tsp",
    summary="travelling salesman",
    description=(
        "Travelling salesman: a single closed tour visiting every city exactly once, starting "
        "and ending at city 0 (the 'depot'); there is exactly one route and no capacity; "
        "minimise tour length."
    ),
    # Not CVRP: its demands would silently vanish.
    vrplib_types=("TSP",),
    open_routes=False,
    capacitated=False,
    single_route=True,
    # ``n`` counts every city, as in "TSP100".
    generate=uniform_tsp,
    # Whole-route and cluster removal are pointless on a single tour, where they degenerate
    # into a related removal.
    pools=SeedPools(
        destroy=("random_removal", "worst_removal", "related_removal", "string_removal"),
        repair=("greedy_repair", "regret_repair", "blink_repair"),
    ),
)
