"""Instance, solution and reference-table files: round trips, layouts and clear refusals."""

import math
from dataclasses import replace

import numpy as np
import pytest
import vrplib

from ahd.problems.generators import GENERATORS, X_DEMANDS, make_instance, x_cvrp
from ahd.problems.instance import RoutingInstance
from ahd.problems.io import (
    InstanceFormatError,
    read_instance,
    read_reference_values,
    read_solution,
    write_instance,
    write_solution,
)

SMALL_CVRP = """NAME : small
TYPE : CVRP
DIMENSION : 4
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 3 4
3 6 8
4 0 2.5
DEMAND_SECTION
1 0
2 4
3 5
4 6
DEPOT_SECTION
1
-1
EOF
"""


def _write(tmp_path, text, name="inst.vrp"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _same(a: RoutingInstance, b: RoutingInstance) -> None:
    assert a.kind == b.kind
    assert a.edge_weight_type == b.edge_weight_type
    assert np.array_equal(a.dist, b.dist)
    assert np.array_equal(a.demand, b.demand)
    assert a.capacity == b.capacity
    assert a.max_routes == b.max_routes
    if a.coords is None:
        assert b.coords is None
    else:
        assert np.array_equal(a.coords, b.coords)  # bit-exact, not approximately


def test_reads_a_cvrplib_style_file(tmp_path):
    inst = read_instance(_write(tmp_path, SMALL_CVRP))
    assert inst.name == "inst" and inst.kind == "cvrp" and inst.n == 3
    assert inst.capacity == 10 and inst.demand.tolist() == [0, 4, 5, 6]
    # EUC_2D is nint-rounded: 5, 10, 2.5 -> 3 (half up), |(3,4)-(0,2.5)| = 3.35 -> 3.
    assert inst.dist[0].tolist() == [0, 5, 10, 3]
    assert inst.dist[1, 3] == 3
    assert inst.meta["file_name"] == "small"


def test_kind_override_and_refusal(tmp_path):
    path = _write(tmp_path, SMALL_CVRP)
    assert read_instance(path, kind="ovrp").kind == "ovrp"
    with pytest.raises(InstanceFormatError, match="cannot be read as kind 'tsp'"):
        read_instance(path, kind="tsp")
    with pytest.raises(ValueError, match="unknown problem kind"):
        read_instance(path, kind="vrptw")


def test_depot_elsewhere_becomes_node_zero(tmp_path):
    text = SMALL_CVRP.replace("1 0\n2 4", "1 4\n2 0")
    text = text.replace("DEPOT_SECTION\n1\n", "DEPOT_SECTION\n2\n")
    inst = read_instance(_write(tmp_path, text))
    assert inst.coords[0].tolist() == [3, 4]
    assert inst.demand.tolist() == [0, 4, 5, 6]
    assert inst.meta["original_ids"] == [2, 1, 3, 4]
    assert inst.dist[0].tolist() == [0, 5, 5, 3]


def _roundtrip(inst, tmp_path):
    path = tmp_path / f"{inst.name}.vrp"
    write_instance(inst, path)
    back = read_instance(path)
    assert back.name == inst.name
    _same(inst, back)
    return back


@pytest.mark.parametrize("family", sorted(GENERATORS))
def test_every_generator_round_trips(family, tmp_path):
    _roundtrip(GENERATORS[family](20, 7), tmp_path)


@pytest.mark.parametrize("demand", sorted(X_DEMANDS))
def test_x_instances_round_trip(demand, tmp_path):
    _roundtrip(x_cvrp(40, 3, depot=None, customers=None, demand=demand), tmp_path)


@pytest.mark.parametrize("ewt", ["GEO", "ATT", "CEIL_2D", "FLOAT_2D"])
def test_coordinate_types_round_trip(ewt, tmp_path):
    xy = np.random.default_rng(1).uniform(-80, 80, size=(12, 2))
    _roundtrip(make_instance(f"t-{ewt}", "tsp", xy, edge_weight_type=ewt), tmp_path)


@pytest.mark.parametrize("integral", [True, False])
def test_explicit_round_trips(integral, tmp_path):
    rng = np.random.default_rng(2)
    m = rng.uniform(1, 100, size=(6, 6))
    m = np.round(m) if integral else m
    m = np.triu(m, 1) + np.triu(m, 1).T
    demand = np.array([0, 1, 2, 3, 4, 5.5])
    inst = RoutingInstance("ex", "cvrp", m, demand, 12.25, max_routes=3)
    back = _roundtrip(inst, tmp_path)
    assert back.meta["edge_weight_format"] == "FULL_MATRIX"
    ovrp = RoutingInstance("exo", "ovrp", m, demand, 12.25)
    assert _roundtrip(ovrp, tmp_path).kind == "ovrp"


def test_writer_refuses_what_it_cannot_reproduce(tmp_path):
    xy = np.array([[0, 0], [3, 4], [1, 1.0]])
    inst = make_instance("w", "tsp", xy, edge_weight_type="EUC_2D")
    dist = inst.dist.copy()
    dist[0, 1] = dist[1, 0] = 7
    inst = replace(inst, dist=dist)
    with pytest.raises(ValueError, match="EXPLICIT"):
        write_instance(inst, tmp_path / "w.tsp")
    m = np.array([[0, 1, 2], [3, 0, 1], [2, 1, 0.0]])
    asym = RoutingInstance("a", "tsp", m, np.zeros(3), 1)
    with pytest.raises(ValueError, match="symmetric"):
        write_instance(asym, tmp_path / "a.tsp")


FULL = np.array(
    [[0, 1, 2, 3, 4], [1, 0, 5, 6, 7], [2, 5, 0, 8, 9], [3, 6, 8, 0, 10], [4, 7, 9, 10, 0]],
    dtype=float,
)


def _layout(fmt):
    m = len(FULL)
    rows = {
        "FULL_MATRIX": [FULL[i, j] for i in range(m) for j in range(m)],
        "UPPER_ROW": [FULL[i, j] for i in range(m) for j in range(i + 1, m)],
        "LOWER_ROW": [FULL[i, j] for i in range(m) for j in range(i)],
        "UPPER_DIAG_ROW": [FULL[i, j] for i in range(m) for j in range(i, m)],
        "LOWER_DIAG_ROW": [FULL[i, j] for i in range(m) for j in range(i + 1)],
        "UPPER_COL": [FULL[i, j] for j in range(m) for i in range(j)],
        "LOWER_COL": [FULL[i, j] for j in range(m) for i in range(j + 1, m)],
        "UPPER_DIAG_COL": [FULL[i, j] for j in range(m) for i in range(j + 1)],
        "LOWER_DIAG_COL": [FULL[i, j] for j in range(m) for i in range(j, m)],
    }[fmt]
    # Line breaks inside the section carry no meaning: wrap every 3 numbers.
    tokens = [str(int(v)) for v in rows]
    return "\n".join(" ".join(tokens[k:k + 3]) for k in range(0, len(tokens), 3))


EXPLICIT_TSP = """NAME: ex
TYPE: TSP
DIMENSION: 5
EDGE_WEIGHT_TYPE: EXPLICIT
EDGE_WEIGHT_FORMAT: {fmt}
EDGE_WEIGHT_SECTION
{body}
DISPLAY_DATA_SECTION
1 0 0
2 1 1
3 2 2
4 3 3
5 4 4
EOF
"""


@pytest.mark.parametrize(
    "fmt",
    ["FULL_MATRIX", "UPPER_ROW", "LOWER_ROW", "UPPER_DIAG_ROW", "LOWER_DIAG_ROW", "UPPER_COL",
     "LOWER_COL", "UPPER_DIAG_COL", "LOWER_DIAG_COL"],
)
def test_explicit_layouts(fmt, tmp_path):
    inst = read_instance(_write(tmp_path, EXPLICIT_TSP.format(fmt=fmt, body=_layout(fmt)), "e.tsp"))
    assert inst.kind == "tsp" and inst.coords is None and math.isinf(inst.capacity)
    assert np.array_equal(inst.dist, FULL)


def _broken(**edits):
    text = SMALL_CVRP
    for old, new in edits.values():
        assert old in text
        text = text.replace(old, new)
    return text


MALFORMED = {
    "garbage": ("hello world\nthis is not an instance\n", "not a readable"),
    "empty": ("", "missing DIMENSION"),
    "truncated_rows": (SMALL_CVRP.split("4 0 2.5")[0], "NODE_COORD_SECTION has 3 rows"),
    "truncated_row": (_broken(a=("4 0 2.5", "4 0")), "NODE_COORD_SECTION row 4 has 1 values"),
    "non_numeric": (_broken(a=("3 6 8", "3 6 eight")), "non-numeric value 'eight'"),
    "non_numeric_demand": (_broken(a=("3 5", "3 five")), "non-numeric value 'five'"),
    "edge_weight_type": (_broken(a=("EUC_2D", "XRAY1")), "unsupported EDGE_WEIGHT_TYPE 'XRAY1'"),
    "no_edge_weight_type": (_broken(a=("EDGE_WEIGHT_TYPE : EUC_2D\n", "")),
                            "missing EDGE_WEIGHT_TYPE"),
    "no_dimension": (_broken(a=("DIMENSION : 4\n", "")), "missing DIMENSION"),
    "bad_dimension": (_broken(a=("DIMENSION : 4", "DIMENSION : four")), "DIMENSION must be"),
    "demand_over_capacity": (_broken(a=("4 6", "4 11")), "node 4 demand 11 exceeds CAPACITY 10"),
    "negative_demand": (_broken(a=("4 6", "4 -6")), "negative demand"),
    "depot_demand": (_broken(a=("1 0\n2 4", "1 3\n2 4")), "depot (node 1) has demand 3"),
    "no_capacity": (_broken(a=("CAPACITY : 10\n", "")), "missing CAPACITY"),
    "no_demand": (_broken(a=("DEMAND_SECTION\n1 0\n2 4\n3 5\n4 6\n", "")),
                  "missing DEMAND_SECTION"),
    "no_depot": (_broken(a=("DEPOT_SECTION\n1\n-1\n", "")), "missing DEPOT_SECTION"),
    "two_depots": (_broken(a=("DEPOT_SECTION\n1\n", "DEPOT_SECTION\n1\n2\n")), "2 depots"),
    "depot_out_of_range": (_broken(a=("DEPOT_SECTION\n1\n", "DEPOT_SECTION\n9\n")),
                           "names node 9"),
    "no_coords": (_broken(a=("NODE_COORD_SECTION\n1 0 0\n2 3 4\n3 6 8\n4 0 2.5\n", "")),
                  "needs a NODE_COORD_SECTION"),
    "3d": (_broken(a=("CAPACITY", "NODE_COORD_TYPE : THREED_COORDS\nCAPACITY")),
           "unsupported NODE_COORD_TYPE 'THREED_COORDS'"),
    "3d_rows": (_broken(a=("1 0 0\n2 3 4\n3 6 8\n4 0 2.5", "1 0 0 0\n2 3 4 0\n3 6 8 0\n4 0 2 0")),
                "rows have 3 values"),
    "atsp": (_broken(a=("TYPE : CVRP", "TYPE : ATSP")), "ATSP"),
    "no_type": (_broken(a=("TYPE : CVRP\n", "")), "missing TYPE"),
    "other_type": (_broken(a=("TYPE : CVRP", "TYPE : CVRPTW")), "unsupported TYPE 'CVRPTW'"),
    "time_windows": (_broken(a=("DEPOT_SECTION", "TIME_WINDOW_SECTION\n1 0 10\n2 0 10\n"
                                "3 0 10\n4 0 10\nDEPOT_SECTION")),
                     "unsupported section TIME_WINDOW_SECTION"),
    "fixed_edges": (_broken(a=("DEPOT_SECTION", "FIXED_EDGES_SECTION\n1 2\n-1\nDEPOT_SECTION")),
                    "FIXED_EDGES_SECTION"),
    "distance_limit": (_broken(a=("CAPACITY", "DISTANCE : 100\nCAPACITY")), "DISTANCE"),
    "spec_after_section": (_broken(a=("DEPOT_SECTION", "VEHICLES : 2\nDEPOT_SECTION")),
                           "not a readable"),
    "explicit_no_section": (_broken(a=("EUC_2D", "EXPLICIT")), "no EDGE_WEIGHT_SECTION"),
    "explicit_short": (EXPLICIT_TSP.format(fmt="UPPER_ROW", body="1 2 3"),
                       "has 3 values; UPPER_ROW with DIMENSION 5 needs 10"),
    "explicit_text": (EXPLICIT_TSP.format(fmt="UPPER_ROW", body="1 2 3 4 5 6 7 8 9 ten"),
                      "non-numeric value 'ten' in EDGE_WEIGHT_SECTION"),
    "explicit_format": (EXPLICIT_TSP.format(fmt="WEIRD", body="1"),
                        "unsupported EDGE_WEIGHT_FORMAT 'WEIRD'"),
    "explicit_asymmetric": (
        EXPLICIT_TSP.format(fmt="FULL_MATRIX", body=" ".join(["0", "2"] + ["1"] * 23)), "ATSP"
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files_give_one_line_errors(case, tmp_path):
    text, expected = MALFORMED[case]
    path = _write(tmp_path, text, f"bad-{case}.vrp")
    with pytest.raises(InstanceFormatError) as info:
        read_instance(path)
    message = str(info.value)
    assert "\n" not in message
    assert f"bad-{case}.vrp" in message
    assert expected in message


def test_unreadable_files(tmp_path):
    binary = tmp_path / "bin.vrp"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InstanceFormatError, match=r"bin\.vrp: not a text file"):
        read_instance(binary)
    with pytest.raises(InstanceFormatError, match=r"missing\.vrp: cannot read file"):
        read_instance(tmp_path / "missing.vrp")


SOL = """Route #1: 31 46 35
Route #2: 15 22 41 20
Route #3: 1 70
Cost 27591
"""


def test_reads_cvrplib_solutions_like_vrplib(tmp_path):
    path = _write(tmp_path, SOL, "x.sol")
    routes, cost = read_solution(path)
    assert routes == [[31, 46, 35], [15, 22, 41, 20], [1, 70]] and cost == 27591
    expected = vrplib.read_solution(path)
    assert routes == expected["routes"] and cost == expected["cost"]


@pytest.mark.parametrize("cost", [27591, 1234.5678901234567, None])
def test_solutions_round_trip(cost, tmp_path):
    routes = [[3, 1, 2], [np.int64(5)], [], [4]]
    path = tmp_path / "s.sol"
    write_solution(routes, cost, path)
    back, back_cost = read_solution(path)
    assert back == [[3, 1, 2], [5], [4]]
    assert back_cost == cost
    if cost == 27591:
        assert "Cost 27591\n" in path.read_text()


@pytest.mark.parametrize("bad", [[[1, 0]], [[1, -2]], [[1, 2.0]], [[True]]])
def test_write_solution_rejects_bad_ids(bad, tmp_path):
    with pytest.raises(ValueError, match="integers >= 1"):
        write_solution(bad, 1.0, tmp_path / "bad.sol")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Route #1: 1 x 3\nCost 5\n", "positive customer ids"),
     ("Route #1: 1 2\nCost five\n", "not a number"),
     ("Cost 5\n", "no 'Route #k:' lines"),
     ("Route #1: 1\nCost 5\nCost 6\n", "second Cost")],
)
def test_malformed_solutions(text, expected, tmp_path):
    with pytest.raises(InstanceFormatError, match=expected) as info:
        read_solution(_write(tmp_path, text, "bad.sol"))
    assert str(info.value).startswith(str(tmp_path / "bad.sol"))


def test_reference_values(tmp_path):
    text = "name,n,capacity,bks\nX-n101-k25,101,206,27591\nX-n110-k13,110,66,14971\n"
    bks = _write(tmp_path, text, "bks.csv")
    assert read_reference_values(bks) == {"X-n101-k25": 27591.0, "X-n110-k13": 14971.0}
    opt = _write(tmp_path, "name,n,edge_weight_type,opt,has_opt_tour\neil51,51,EUC_2D,426,1\n",
                 "opt.csv")
    assert read_reference_values(opt) == {"eil51": 426.0}
    with pytest.raises(InstanceFormatError, match="'bks' or 'opt'"):
        read_reference_values(_write(tmp_path, "name,value\na,1\n", "v.csv"))
    with pytest.raises(InstanceFormatError, match="line 3: bks 'x' is not a number"):
        read_reference_values(_write(tmp_path, "name,bks\na,1\nb,x\n", "w.csv"))
    with pytest.raises(InstanceFormatError, match="appears twice"):
        read_reference_values(_write(tmp_path, "name,bks\na,1\na,2\n", "d.csv"))
