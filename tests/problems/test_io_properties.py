"""Property tests of the VRPLIB/TSPLIB readers: random well-formed files read back exactly, and
random corruptions of them give :class:`InstanceFormatError` (one line naming the file) or a
valid instance, never another exception.

The examples are small (up to a dozen customers) and bounded in number, so each property runs in
a few seconds; hypothesis's own search (shrinking, boundary values) is what finds the files a
hand-written list would miss.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ahd.problems.instance import RoutingInstance
from ahd.problems.io import InstanceFormatError, read_instance, write_instance

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
#: Coordinate-based edge weight types that round to integers, and the unrounded one.
ROUNDED = ("EUC_2D", "CEIL_2D", "MAN_2D", "MAX_2D", "ATT")


@st.composite
def instances(draw) -> RoutingInstance:
    """A random valid instance of any variant, coordinate-based or with an explicit matrix."""
    from ahd.problems.distances import distance_matrix

    kind = draw(st.sampled_from(["cvrp", "ovrp", "tsp"]))
    n = draw(st.integers(2, 12))
    ewt = draw(st.sampled_from([*ROUNDED, "FLOAT_2D", "EXPLICIT"]))
    if ewt == "FLOAT_2D":
        values = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
    else:
        values = st.integers(-5000, 5000).map(float)
    coords = np.array(draw(st.lists(st.tuples(values, values), min_size=n + 1,
                                    max_size=n + 1)), dtype=np.float64)
    dist = distance_matrix(coords, "EUC_2D" if ewt == "EXPLICIT" else ewt)
    capacity = float(draw(st.integers(1, 100)))
    demand = np.array([0.0] + [float(draw(st.integers(0, int(capacity)))) for _ in range(n)])
    vehicles = 0
    # Vehicles the reader's bounds ask for: the total, and one per customer above half.
    need = max(1, int(np.ceil(demand.sum() / capacity)),
               int(np.count_nonzero(demand > capacity / 2)))
    if kind != "tsp" and need < n - 1 and draw(st.booleans()):
        # A fleet that can carry the demand, fewer than n (else the writer omits the line).
        vehicles = draw(st.integers(need, n - 1))
    if kind == "tsp":
        demand, capacity = np.zeros(n + 1), 1.0
    return RoutingInstance(
        name="inst", kind=kind, dist=dist, demand=demand, capacity=capacity,
        coords=None if ewt == "EXPLICIT" else coords, edge_weight_type=ewt,
        max_routes=vehicles,
    )


def _same(a: RoutingInstance, b: RoutingInstance) -> None:
    assert (a.kind, a.edge_weight_type, a.capacity, a.max_routes) == (
        b.kind, b.edge_weight_type, b.capacity, b.max_routes)
    assert np.array_equal(a.dist, b.dist)
    assert np.array_equal(a.demand, b.demand)
    if a.coords is None:
        assert b.coords is None
    else:
        assert np.array_equal(a.coords, b.coords)


def _written(inst: RoutingInstance, folder: Path) -> Path:
    path = folder / ("inst.tsp" if inst.kind == "tsp" else "inst.vrp")
    write_instance(inst, path)
    return path


@SETTINGS
@given(inst=instances())
def test_random_well_formed_files_round_trip(tmp_path, inst):
    _same(inst, read_instance(_written(inst, tmp_path)))


def _shuffle_section(lines: list[str], header: str, perm: list[int]) -> list[str]:
    start = lines.index(header) + 1
    end = start
    while end < len(lines) and re.match(r"^\d+\s", lines[end]):
        end += 1
    rows = lines[start:end]
    return lines[:start] + [rows[i] for i in perm] + lines[end:]


@SETTINGS
@given(inst=instances(), data=st.data())
def test_rows_are_read_by_node_id_not_position(tmp_path, inst, data):
    """TSPLIB keys rows by node id: a file listing them in another order is the same instance."""
    path = _written(inst, tmp_path)
    lines = path.read_text().splitlines()
    for header in ("NODE_COORD_SECTION", "DEMAND_SECTION"):
        if header in lines:
            perm = data.draw(st.permutations(range(inst.n + 1)), label=header)
            lines = _shuffle_section(lines, header, list(perm))
    path.write_text("\n".join(lines) + "\n")
    _same(inst, read_instance(path))


@st.composite
def corruptions(draw, text: str) -> bytes:
    """``text`` damaged by one to three random edits: truncation, byte flips, deleted,
    repeated or swapped lines, or an inserted token that readers trip over."""
    data = bytearray(text.encode())
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        kind = draw(st.sampled_from(["truncate", "flip", "delete", "repeat", "swap", "insert"]))
        if kind == "truncate":
            data = data[:draw(st.integers(0, len(data) - 1))]
        elif kind == "flip":
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        elif kind == "insert":
            at = draw(st.integers(0, len(data)))
            token = draw(st.sampled_from([
                b" ", b":", b"\n", b"-1", b"1e400", b"nan", b"-inf", b"1e200", b"_SECTION",
                b"EOF", b"0", b"9" * 30, b"\xff", b"\x00", b"VEHICLES : 1\n", b"DIMENSION : 9\n",
            ]))
            data[at:at] = token
        else:
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            if kind == "delete":
                del lines[i]
            elif kind == "repeat":
                lines.insert(i, lines[i])
            else:
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


@settings(max_examples=250, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inst=instances(), data=st.data())
def test_corrupted_files_give_one_clear_error_or_a_valid_instance(tmp_path, inst, data):
    path = _written(inst, tmp_path)
    damaged = data.draw(corruptions(path.read_text()), label="file")
    path.write_bytes(damaged)
    try:
        got = read_instance(path)
    except InstanceFormatError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: ") and "\n" not in message
        assert path.read_bytes() == damaged  # reading never touches the file
        return
    # Whatever was accepted is a usable instance: finite, symmetric, consistent.
    m = got.n + 1
    assert got.dist.shape == (m, m) and np.all(np.isfinite(got.dist))
    assert np.array_equal(got.dist, got.dist.T)
    assert got.demand.shape == (m,) and np.all(got.demand >= 0)
    if got.capacitated:
        assert np.all(got.demand <= got.capacity)
        assert got.demand.sum() <= got.max_routes * got.capacity
