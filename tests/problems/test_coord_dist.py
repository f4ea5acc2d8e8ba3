"""Distances on demand (instances without a matrix) give what the matrix gives, bit for bit."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from large_instances import belgium_like
from numba import njit
from typer.testing import CliRunner

from ahd.cli import app
from ahd.problems.distances import SUPPORTED_EDGE_WEIGHT_TYPES, distance_matrix
from ahd.problems.engine.config import LNSConfig
from ahd.problems.engine.coord_dist import CoordDist, arc, make_coord_dist
from ahd.problems.engine.lns import run_lns
from ahd.problems.engine.sizing import EXTRA_ROUTES, route_rows, route_width
from ahd.problems.engine.state import make_inst, new_solution
from ahd.problems.generators import make_instance, x_cvrp
from ahd.problems.instance import DENSE_MAX_NODES, RoutingInstance, keep_matrix, with_distances
from ahd.problems.instance_limits import coordinate_memory_problem
from ahd.problems.io import InstanceFormatError, read_instance, write_instance
from ahd.problems.verify import verify


def _coords(edge_weight_type: str, m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if edge_weight_type == "GEO":  # DDD.MM latitudes and longitudes
        return np.round(rng.uniform(-60, 60, (m, 2)), 2)
    if edge_weight_type in ("FLOAT_2D", "EXACT"):
        return rng.uniform(0, 1, (m, 2))
    return rng.integers(0, 1000, (m, 2)).astype(float)


@njit
def _reads(d, a, b):
    row = d[a]
    return d[a, b], row[b], d.shape[0], d.max()


@pytest.mark.parametrize("ewt", SUPPORTED_EDGE_WEIGHT_TYPES)
def test_every_arc_equals_the_matrix_entry(ewt):
    coords = _coords(ewt, 70, 1)
    coords[5] = coords[9]  # a repeated point: GEO gives it 1 km, the others 0
    matrix = distance_matrix(coords, ewt)
    d = make_coord_dist(coords, ewt, open_routes=False)
    x, y, code = d.x, d.y, d.code
    got = np.array([[arc(x, y, code, a, b) for b in range(70)] for a in range(70)])
    assert np.array_equal(got, matrix), np.argwhere(got != matrix)[:5]


@pytest.mark.parametrize("kind", ["cvrp", "ovrp", "tsp"])
def test_the_record_reads_like_the_matrix(kind):
    coords = _coords("EUC_2D", 40, 2)
    demand = np.r_[0.0, np.ones(39)] if kind != "tsp" else None
    dense = make_instance("d", kind, coords, demand, 10.0, "EUC_2D", distances="matrix")
    lazy = make_instance("l", kind, coords, demand, 10.0, "EUC_2D", distances="coords")
    assert dense.dense and not lazy.dense
    a, b = make_inst(dense), make_inst(lazy)
    assert isinstance(b.dist, CoordDist)
    assert np.array_equal(a.neighbors, b.neighbors)
    for i, j in [(3, 0), (0, 3), (7, 7), (12, 30)]:  # into the depot: free when routes are open
        assert _reads(b.dist, i, j) == _reads(a.dist, i, j)
    assert b.dist.max() == a.dist.max() and b.dist.shape == a.dist.shape


@pytest.mark.parametrize("kind", ["cvrp", "ovrp", "tsp"])
def test_a_search_takes_the_same_path_with_either_layout(kind):
    base = x_cvrp(120, 7)
    if kind != "cvrp":
        base = replace(base, kind=kind)
    dense = with_distances(base, "matrix")
    lazy = with_distances(base, "coords")
    config = LNSConfig(iterations=150, seed=4)
    a, b = run_lns(dense, config), run_lns(lazy, config)
    assert a.routes == b.routes
    assert a.cost == b.cost == verify(dense, b.routes) == verify(lazy, a.routes)


def test_files_read_either_way_and_cost_the_same(tmp_path):
    inst = x_cvrp(60, 3)
    path = tmp_path / "x.vrp"
    write_instance(inst, path)
    dense = read_instance(path, distances="matrix")
    lazy = read_instance(path, distances="coords")
    assert dense.dense and not lazy.dense and lazy.dist is None
    assert np.array_equal(lazy.matrix(), dense.dist)
    routes = run_lns(dense, LNSConfig(iterations=20, seed=0)).routes
    assert verify(lazy, routes) == verify(dense, routes)
    write_instance(lazy, tmp_path / "again.vrp")
    assert np.array_equal(read_instance(tmp_path / "again.vrp").dist, dense.dist)
    with pytest.raises(ValueError, match="distances must be one of"):
        read_instance(path, distances="sparse")


def test_auto_keeps_a_matrix_only_for_small_coordinate_instances():
    assert keep_matrix(DENSE_MAX_NODES, "EUC_2D")
    assert not keep_matrix(DENSE_MAX_NODES + 1, "EUC_2D")
    assert keep_matrix(10**6, "EXPLICIT", "coords")  # nothing to compute it from
    with pytest.raises(ValueError, match="without a distance matrix"):
        RoutingInstance("e", "cvrp", None, np.zeros(3), 1.0)


def test_large_instances_bound_the_solution_rows_and_width():
    rng = np.random.default_rng(0)
    n = 3000
    coords = rng.integers(0, 1000, (n + 1, 2)).astype(float)
    demand = np.r_[0.0, rng.integers(1, 4, n)].astype(float)
    inst_rec = make_inst(make_instance("big", "cvrp", coords, demand, 25.0, "EUC_2D"))
    need = math.ceil(demand.sum() / 25.0)
    assert inst_rec.max_routes == 2 * need + EXTRA_ROUTES
    sol = new_solution(inst_rec)
    assert sol.routes.shape == (inst_rec.max_routes, route_width(inst_rec))
    assert sol.routes.shape[0] * sol.routes.shape[1] < (n + 1) * n / 4
    small = x_cvrp(100, 1)  # small instances keep one row per customer, n + 1 wide
    assert route_rows(small) == small.max_routes == 100
    assert route_width(make_inst(small)) == 101


def test_a_large_instance_solves_feasibly_within_its_bounded_rows():
    n = 2500
    inst = belgium_like(n, 1, capacity=30.0, side=2000, distances="coords")
    assert not inst.dense
    result = run_lns(inst, LNSConfig(iterations=30, seed=0))
    assert verify(inst, result.routes) == result.cost
    assert sum(len(r) for r in result.routes) == n


def test_an_instance_beyond_memory_is_refused_in_one_line():
    message = coordinate_memory_problem(10**9, available=2**30)
    assert message and "\n" not in message and "1000000000 nodes" in message
    assert coordinate_memory_problem(30_001, available=2**31) is None


def test_a_huge_dimension_is_refused_before_reading_coordinates(tmp_path):
    path = tmp_path / "huge.vrp"
    path.write_text("NAME : huge\nTYPE : CVRP\nDIMENSION : 9000000000\nEDGE_WEIGHT_TYPE : "
                    "EUC_2D\nCAPACITY : 10\nNODE_COORD_SECTION\n1 0 0\n2 1 1\n"
                    "DEMAND_SECTION\n1 0\n2 1\nDEPOT_SECTION\n1\n-1\nEOF\n")
    with pytest.raises(InstanceFormatError, match="too large for this machine") as err:
        read_instance(path)
    assert "\n" not in str(err.value)


# In this file, not test_solve_cli.py: the same test worker then compiles the coordinate
# layout once (pytest-xdist --dist loadfile).
@pytest.mark.slow
def test_solve_without_a_distance_matrix_gives_the_same_cost(tmp_path):
    inst = x_cvrp(50, np.random.default_rng(2))
    path = tmp_path / "x50.vrp"
    write_instance(inst, path)
    costs = []
    for mode in ("matrix", "coords"):
        res = CliRunner().invoke(app, ["solve", "--instance", str(path), "--iterations", "40",
                                       "--time", "1m", "--distances", mode])
        assert res.exit_code == 0, res.output
        costs.append(res.output.split("cost ")[1].split()[0])
    assert costs[0] == costs[1]
