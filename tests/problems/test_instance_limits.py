"""What an instance may ask of the machine: memory for its distance matrix and its file, and
distances that float64 route costs can add up exactly; each refused in one line, before any
big allocation."""

from __future__ import annotations

import numpy as np
import pytest

from ahd.problems.instance_limits import (
    EXACT_COST_LIMIT,
    MATRIX_PEAK_FACTOR,
    available_memory,
    distance_problem,
    file_size_problem,
    format_bytes,
    matrix_memory_problem,
)
from ahd.problems.io import InstanceFormatError, read_instance


def test_available_memory_is_a_positive_number_of_bytes_here():
    found = available_memory()
    assert found is not None and found > 0


def test_format_bytes_uses_binary_units():
    assert format_bytes(1000) == "1000 B"
    assert format_bytes(8 * 1024**3) == "8 GiB"
    assert format_bytes(1.5 * 1024**4) == "1.5 TiB"


def test_matrix_memory_compares_the_build_peak_with_what_is_available():
    m = 1000
    peak = MATRIX_PEAK_FACTOR * 8 * m * m
    assert matrix_memory_problem(m, available=peak) is None
    problem = matrix_memory_problem(m, available=peak - 1)
    assert problem is not None and "\n" not in problem
    assert "the 1000 x 1000 distance matrix needs 7.63 MiB" in problem
    assert f"only {format_bytes(peak - 1)} of memory is available" in problem


def test_file_size_is_compared_with_available_memory():
    assert file_size_problem(10, available=10) is None
    assert file_size_problem(11, available=10) == (
        "file is 11 B, more than the 10 B of memory available to read it")


def test_distance_problems():
    ok = np.array([[0.0, 3.0], [3.0, 0.0]])
    assert distance_problem(ok) is None
    assert "overflow to infinity" in distance_problem(np.array([[0.0, np.inf], [np.inf, 0]]))
    assert "overflow to infinity" in distance_problem(np.array([[0.0, np.nan], [np.nan, 0]]))
    big = EXACT_COST_LIMIT / 2 + 1
    assert "past 2^53" in distance_problem(np.array([[0.0, big], [big, 0.0]]))
    assert distance_problem(np.array([[0.0, big - 2], [big - 2, 0.0]])) is None


def test_a_file_larger_than_memory_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.vrp"
    with open(path, "wb") as handle:  # sparse: no disk space used
        try:
            handle.truncate(2**43)
        except OSError:
            pytest.skip("this file system cannot hold an 8 TiB sparse file")
    available = available_memory()
    if available is None or available >= 2**43:
        pytest.skip("this machine has more than 8 TiB of memory available")
    with pytest.raises(InstanceFormatError, match=r"file is 8 TiB, more than the .* of memory"):
        read_instance(path)


def test_an_instance_whose_fixed_fleet_cannot_carry_the_demand_is_refused():
    from ahd.problems.instance import RoutingInstance

    dist = np.array([[0.0, 1, 1], [1, 0, 1], [1, 1, 0]])
    demand = np.array([0.0, 6, 6])
    with pytest.raises(ValueError, match="total demand 12 exceeds 1 vehicles x capacity 10"):
        RoutingInstance("tight", "cvrp", dist, demand, 10.0, max_routes=1)
    assert RoutingInstance("fits", "cvrp", dist, demand, 10.0, max_routes=2).max_routes == 2
    # Fleets only a search can prove too small stay allowed here (OR-Tools' capped fleets
    # are built this way); the file reader refuses a file that states one.
    square = np.ones((4, 4)) - np.eye(4)
    tight = RoutingInstance("tight", "cvrp", square, np.array([0.0, 6, 6, 6]), 10.0,
                            max_routes=2)
    assert tight.max_routes == 2
    assert RoutingInstance("free", "cvrp", dist, demand, 10.0).max_routes == 2  # n when unset
