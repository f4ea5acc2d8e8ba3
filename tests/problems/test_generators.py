"""Generators are pure functions of their seed and follow their published conventions."""

import math

import numpy as np
import pytest

from ahd.problems.distances import distance_matrix
from ahd.problems.generators import (
    GENERATORS,
    X_CUSTOMERS,
    X_DEMANDS,
    kool_capacity,
    kool_cvrp,
    ovrp_from,
    uniform_cvrp,
    uniform_tsp,
    x_cvrp,
)
from ahd.problems.instance import RoutingInstance


@pytest.mark.parametrize("family", sorted(GENERATORS))
def test_deterministic_for_a_seed(family):
    gen = GENERATORS[family]
    a, b, c = gen(30, 11), gen(30, 11), gen(30, 12)
    # a family is named after its variant: cvrp-kool draws CVRP instances
    assert isinstance(a, RoutingInstance) and a.kind == family.split("-")[0]
    assert a.name == b.name and a.name.endswith("-s11")
    for field in ("dist", "demand", "coords"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.coords, c.coords)
    # A Generator seeded the same way draws the same instance.
    d = gen(30, np.random.default_rng(11))
    assert np.array_equal(a.dist, d.dist) and np.array_equal(a.demand, d.demand)


@pytest.mark.parametrize("bad", [None, 1.5, "7", True])
def test_rng_must_be_explicit(bad):
    with pytest.raises(TypeError, match="rng"):
        uniform_cvrp(5, bad)


def test_sizes_are_checked():
    with pytest.raises(ValueError, match="n must be"):
        uniform_cvrp(0, 1)
    with pytest.raises(ValueError, match="n must be"):
        uniform_tsp(1, 1)


def test_uniform_tsp_counts_cities():
    inst = uniform_tsp(50, 0)
    assert inst.kind == "tsp" and inst.n == 49 and inst.coords.shape == (50, 2)
    assert np.all((inst.coords >= 0) & (inst.coords < 1))
    assert inst.edge_weight_type == "FLOAT_2D"
    assert np.array_equal(inst.dist, distance_matrix(inst.coords, "FLOAT_2D"))
    assert not np.any(inst.demand)


def test_uniform_cvrp_convention():
    inst = uniform_cvrp(100, 3)
    assert inst.n == 100 and inst.capacity == 50
    assert inst.coords[0].tolist() == [0.5, 0.5]
    q = inst.demand[1:]
    assert inst.demand[0] == 0 and np.all(q == np.round(q)) and q.min() >= 1 and q.max() <= 9
    assert set(np.unique(q)) == set(range(1, 10))  # the whole range is used
    dx = inst.coords[1] - inst.coords[2]
    assert inst.dist[1, 2] == math.sqrt(dx[0] * dx[0] + dx[1] * dx[1])  # unrounded
    assert uniform_cvrp(10, 3, capacity=30).capacity == 30


def test_kool_capacities():
    assert [kool_capacity(n) for n in (10, 20, 50, 100)] == [20, 30, 40, 50]
    assert kool_capacity(35) == 35  # halfway between 20 (30) and 50 (40)
    for n in (9, 101):
        with pytest.raises(ValueError, match="capacity="):
            kool_capacity(n)
    assert kool_cvrp(200, 0, capacity=80).capacity == 80
    inst = kool_cvrp(50, 4)
    assert inst.capacity == 40 and inst.coords[0].tolist() != [0.5, 0.5]
    assert inst.demand[1:].min() >= 1 and inst.demand[1:].max() <= 9


@pytest.mark.parametrize("customers", X_CUSTOMERS)
@pytest.mark.parametrize("demand", sorted(X_DEMANDS))
def test_x_conventions(customers, demand):
    inst = x_cvrp(120, 5, customers=customers, demand=demand, route_size=8.5)
    xy = inst.coords
    assert np.all(xy == np.round(xy)) and xy.min() >= 0 and xy.max() <= 1000
    assert len(np.unique(xy, axis=0)) == len(xy)  # no two nodes share a point
    assert inst.edge_weight_type == "EUC_2D"
    assert np.array_equal(inst.dist, np.floor(np.hypot(*(xy[:, None] - xy[None]).T) + 0.5).T)
    q = inst.demand[1:]
    assert np.all(q == np.round(q))
    lo, hi = X_DEMANDS[demand]
    assert q.min() >= lo and q.max() <= hi
    assert inst.capacity == max(q.max(), math.ceil(8.5 * q.sum() / 120))
    assert inst.meta["customers"] == customers and inst.meta["demand"] == demand


def test_x_demand_shapes():
    inst = x_cvrp(400, 1, demand="quadrant")
    xy, q = inst.coords[1:], inst.demand[1:]
    even = (xy[:, 0] < 500) == (xy[:, 1] < 500)
    assert q[even].min() >= 51 and q[~even].max() <= 50
    q = x_cvrp(400, 2, demand="many-small-few-large").demand[1:]
    assert np.all((q <= 10) | (q >= 50))
    assert 0.70 <= np.mean(q <= 10) <= 0.95
    assert np.all(x_cvrp(30, 3, demand="unitary").demand[1:] == 1)


def test_x_depots_and_clusters():
    assert x_cvrp(20, 0, depot="central").coords[0].tolist() == [500, 500]
    assert x_cvrp(20, 0, depot="eccentric").coords[0].tolist() == [0, 0]

    def mean_nearest(inst):
        d = inst.dist[1:, 1:] + np.diag(np.full(inst.n, np.inf))
        return d.min(1).mean()

    clustered = np.mean([mean_nearest(x_cvrp(200, s, customers="clustered")) for s in range(3)])
    uniform = np.mean([mean_nearest(x_cvrp(200, s, customers="random")) for s in range(3)])
    assert clustered < 0.7 * uniform
    seeds = x_cvrp(200, 0, customers="clustered").meta["n_seeds"]
    assert 3 <= seeds <= 8


def test_x_draws_unspecified_attributes_and_names_them():
    inst = x_cvrp(50, 9, depot=None, customers=None, demand=None)
    assert inst.meta["depot"] in ("random", "central", "eccentric")
    assert 3 <= inst.meta["route_size"] <= 25
    assert inst.name.startswith("X-gen-n50-") and inst.name.endswith("-s9")
    with pytest.raises(ValueError, match="unknown demand"):
        x_cvrp(10, 0, demand="few-small-many-large")
    with pytest.raises(ValueError, match="route_size"):
        x_cvrp(10, 0, route_size=0)


def test_ovrp_from_derives_a_new_instance():
    cvrp = uniform_cvrp(15, 2)
    ovrp = ovrp_from(cvrp)
    assert ovrp.kind == "ovrp" and cvrp.kind == "cvrp" and ovrp.name == cvrp.name + "-ovrp"
    assert np.array_equal(ovrp.dist, cvrp.dist) and ovrp.capacity == cvrp.capacity
    assert ovrp.open_routes and not cvrp.open_routes
    assert ovrp.meta == cvrp.meta and ovrp.meta is not cvrp.meta
    with pytest.raises(ValueError, match="TSP"):
        ovrp_from(uniform_tsp(5, 0))
    assert GENERATORS["ovrp"](15, 2).name == "ovrp-uniform-n15-s2"
