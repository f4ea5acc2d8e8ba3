"""The trusted verifier rejects every kind of infeasible solution and recomputes costs."""

from dataclasses import replace

import numpy as np
import pytest

from ahd.problems.instance import RoutingInstance
from ahd.problems.verify import InfeasibleSolution, verify


def _instance(kind="cvrp"):
    xy = np.array([[0, 0], [0, 3], [4, 0], [4, 3], [1, 1]], dtype=float)
    dist = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    return RoutingInstance("v", kind, dist, np.array([0, 4, 4, 4, 2.0]), 12.0, xy)


def test_cost_is_recomputed_from_routes():
    inst = _instance()
    assert verify(inst, [[1, 3, 2], [4]]) == pytest.approx(3 + 4 + 3 + 4 + 2 * np.sqrt(2))


def test_open_routes_do_not_pay_the_return_arc():
    inst = _instance("ovrp")
    assert verify(inst, [[1, 3, 2], [4]]) == pytest.approx(3 + 4 + 3 + np.sqrt(2))


def test_tsp_single_tour():
    inst = _instance("tsp")
    assert verify(inst, [[1, 3, 2, 4]]) == pytest.approx(3 + 4 + 3 + np.sqrt(10) + np.sqrt(2))
    with pytest.raises(InfeasibleSolution, match="fleet allows 1"):
        verify(inst, [[1, 3], [2, 4]])


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ([[1, 3, 2]], "not visited"),
        ([[1, 3, 2], [4, 1]], "visited 2 times"),
        ([[1, 3, 2, 4]], "capacity"),
        ([[1, 3], [2, 0, 4]], "depot"),
        ([[1, 3], [2, 4, 5]], "outside"),
        ([[1, 3], [2, -1, 4]], "outside"),
        ([[1, 3], [2, 4.5]], "integer"),
        ([[1, 3], ["2", 4]], "integer"),
        ([[1, 3], None], "list of lists"),
        ([[1, 3], [2, True, 4]], "integer"),
    ],
)
def test_rejects_infeasible(routes, message):
    with pytest.raises(InfeasibleSolution, match=message):
        verify(_instance(), routes)


def test_rejects_more_routes_than_fleet():
    inst = replace(_instance(), max_routes=2)
    with pytest.raises(InfeasibleSolution, match="fleet"):
        verify(inst, [[1], [2], [3, 4]])
