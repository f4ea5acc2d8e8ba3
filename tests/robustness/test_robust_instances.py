"""Malformed and unusable routing instance files: ``ahd solve --instance FILE`` and
``ahd evolve --instances DIR`` refuse each with one line naming the file and the problem, exit
status 2 and no traceback, before any search, and leave the input (and ``--out``) untouched."""

from __future__ import annotations

import pytest
from robust_cli import Unchanged, assert_refused, invoke

GOOD = """NAME : small
TYPE : CVRP
DIMENSION : 4
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 3 4
3 6 8
4 0 2
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
EXPLICIT_TSP = """NAME : e
TYPE : TSP
DIMENSION : 4
EDGE_WEIGHT_TYPE : EXPLICIT
EDGE_WEIGHT_FORMAT : UPPER_ROW
EDGE_WEIGHT_SECTION
1 2 3
4 5
EOF
"""


def _replace(old: str, new: str):
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


#: id -> (file bytes, fragment the error line must hold besides the file's path)
CASES: dict[str, tuple[bytes, str]] = {
    "customer_demand_above_capacity": (_replace("4 6\n", "4 60\n")(GOOD).encode(),
                                       "node 4 demand 60 exceeds CAPACITY 10"),
    "fleet_cannot_carry_total_demand": (
        _replace("CAPACITY : 10\n", "CAPACITY : 10\nVEHICLES : 1\n")(GOOD).encode(),
        "infeasible: total demand 15 exceeds VEHICLES x CAPACITY = 1 x 10 = 10"),
    "more_large_customers_than_vehicles": (
        _replace("CAPACITY : 10\n", "CAPACITY : 10\nVEHICLES : 2\n")(
            _replace("2 4\n3 5\n", "2 6\n3 6\n")(GOOD)).encode(),
        "infeasible: 3 customers each demand more than half the CAPACITY 10, so they need 3 "
        "vehicles, but VEHICLES is 2"),
    "coordinates_overflow_to_inf": (_replace("3 6 8", "3 1e300 8")(GOOD).encode(),
                                    "distances overflow to infinity"),
    "distances_past_exact_float64": (_replace("3 6 8", "3 1e16 8")(GOOD).encode(),
                                     "past 2^53"),
    "nan_coordinate": (_replace("3 6 8", "3 nan 8")(GOOD).encode(),
                       "non-finite value in NODE_COORD_SECTION"),
    "infinite_demand": (_replace("4 6\n", "4 inf\n")(GOOD).encode(),
                        "non-finite value in DEMAND_SECTION"),
    "negative_demand": (_replace("4 6\n", "4 -6\n")(GOOD).encode(), "negative demand"),
    "duplicate_coordinate_id": (_replace("3 6 8", "2 6 8")(GOOD).encode(),
                                "NODE_COORD_SECTION lists node 2 twice"),
    "duplicate_demand_id": (_replace("3 5\n", "2 5\n")(GOOD).encode(),
                            "DEMAND_SECTION lists node 2 twice"),
    "node_id_out_of_range": (_replace("4 0 2", "9 0 2")(GOOD).encode(),
                             "node id 9 is not in 1..4"),
    "non_integer_node_id": (_replace("4 0 2", "4.5 0 2")(GOOD).encode(),
                            "node id '4.5' is not an integer"),
    "missing_dimension": (_replace("DIMENSION : 4\n", "")(GOOD).encode(), "missing DIMENSION"),
    "missing_capacity": (_replace("CAPACITY : 10\n", "")(GOOD).encode(), "missing CAPACITY"),
    "missing_coordinate_section": (
        _replace("NODE_COORD_SECTION\n1 0 0\n2 3 4\n3 6 8\n4 0 2\n", "")(GOOD).encode(),
        "needs a NODE_COORD_SECTION"),
    "missing_demand_section": (
        _replace("DEMAND_SECTION\n1 0\n2 4\n3 5\n4 6\n", "")(GOOD).encode(),
        "missing DEMAND_SECTION"),
    "missing_depot_section": (_replace("DEPOT_SECTION\n1\n-1\n", "")(GOOD).encode(),
                              "missing DEPOT_SECTION"),
    "dimension_too_large_for_memory": (  # too large even without a matrix (EUC_2D)
        _replace("DIMENSION : 4", "DIMENSION : 100000000")(GOOD).encode(),
        "is too large for this machine: 100000000 nodes need about"),
    "row_missing_a_value": (_replace("2 3 4", "2 3")(GOOD).encode(),
                            "NODE_COORD_SECTION row 2 has 1 values"),
    "fewer_rows_than_dimension": (_replace("4 0 2\n", "")(GOOD).encode(),
                                  "NODE_COORD_SECTION has 3 rows, but DIMENSION is 4"),
    "truncated_mid_file": (GOOD[:GOOD.index("3 6 8")].encode(),
                           "NODE_COORD_SECTION has 2 rows, but DIMENSION is 4"),
    "unsupported_edge_weight_type": (_replace("EUC_2D", "EUC_3D")(GOOD).encode(),
                                     "unsupported EDGE_WEIGHT_TYPE 'EUC_3D'"),
    "explicit_matrix_too_short": (EXPLICIT_TSP.encode(),
                                  "EDGE_WEIGHT_SECTION has 5 values; UPPER_ROW"),
    "latin1_not_utf8": (GOOD.replace("NAME : small", "NAME : caf\xe9").encode("latin-1"),
                        "not a text file (invalid UTF-8)"),
    "binary_with_nul_bytes": (b"\x00\x01\x02NAME : x\x00\n", "not a text file"),
    "empty_file": (b"", "missing DIMENSION"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_solve_refuses_the_instance_before_searching(tmp_path, case):
    data, fragment = CASES[case]
    path = tmp_path / ("inst.tsp" if case.startswith("explicit") else "inst.vrp")
    path.write_bytes(data)
    out = tmp_path / "out.sol"
    untouched = Unchanged(tmp_path)
    outcome = invoke(["solve", "--instance", path, "--time", "30s", "--out", out])
    assert_refused(outcome, 2, f"error: {path}: ", fragment)
    assert "cost" not in outcome.stdout  # refused before any search
    untouched.check()


def test_evolve_refuses_a_bad_file_in_the_instance_folder_before_any_worker(tmp_path):
    folder = tmp_path / "instances"
    folder.mkdir()
    (folder / "a.vrp").write_text(GOOD)
    bad = folder / "b.vrp"
    bad.write_bytes(CASES["duplicate_coordinate_id"][0])
    untouched = Unchanged(tmp_path)
    outcome = invoke(["evolve", "--instances", folder, "--time", "20s", "--out",
                      tmp_path / "run", "--jobs", "1"])
    assert_refused(outcome, 2, f"error: {bad}: ", "lists node 2 twice")
    assert "sandbox worker" not in outcome.stderr
    untouched.check()  # no run directory


#: Five customers of demand 4, capacity 10, two vehicles: the total (20) fits the fleet and
#: no customer needs a vehicle alone, yet no vehicle can carry three of them. Only the search
#: finds out.
UNPACKABLE = """NAME : unpackable
TYPE : CVRP
DIMENSION : 6
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
VEHICLES : 2
NODE_COORD_SECTION
1 0 0
2 1 0
3 0 1
4 1 1
5 2 2
6 3 1
DEMAND_SECTION
1 0
2 4
3 4
4 4
5 4
6 4
DEPOT_SECTION
1
-1
EOF
"""


@pytest.mark.slow
def test_solve_reports_an_instance_no_packing_fits_in_one_line(tmp_path):
    path = tmp_path / "unpackable.vrp"
    path.write_text(UNPACKABLE)
    untouched = Unchanged(tmp_path)
    outcome = invoke(["solve", "--instance", path, "--time", "1", "--out", tmp_path / "x.sol"])
    assert_refused(outcome, 1, "the search ended without a solution",
                   "a fixed VEHICLES count may be too small")
    untouched.check()  # no solution file
