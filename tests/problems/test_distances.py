"""TSPLIB95 distance functions against values worked out by hand from the specification."""

import math

import numpy as np
import pytest

from ahd.problems.distances import SUPPORTED_EDGE_WEIGHT_TYPES, distance_matrix


def _d(kind, a, b):
    return distance_matrix(np.array([a, b], dtype=float), kind)[0, 1]


def test_euc_2d_rounds_half_up_not_to_even():
    assert _d("EUC_2D", (0, 0), (3, 4)) == 5
    assert _d("EUC_2D", (0, 0), (1, 1.5)) == 2  # 1.803
    assert _d("EUC_2D", (0, 0), (1, 1)) == 1  # 1.414
    # nint(2.5) is 3 in TSPLIB; np.round would give 2.
    assert _d("EUC_2D", (0, 0), (2.5, 0)) == 3


def test_ceil_man_max_2d():
    assert _d("CEIL_2D", (0, 0), (1, 1)) == 2
    assert _d("CEIL_2D", (0, 0), (3, 4)) == 5
    assert _d("MAN_2D", (0, 0), (1.2, 2.4)) == 4  # nint(3.6)
    assert _d("MAX_2D", (0, 0), (1.2, 2.4)) == 2  # max(nint(1.2), nint(2.4))


def test_att_pseudo_euclidean():
    # att48 cities 1 and 3: r = sqrt((1204^2 + 29^2) / 10) = 380.85, nint 381 >= r -> 381.
    assert _d("ATT", (6734, 1453), (5530, 1424)) == 381
    # r = sqrt(100 / 10) = 3.162: nint gives 3 < r, so the spec adds one -> 4.
    assert _d("ATT", (0, 0), (10, 0)) == 4
    # r = sqrt(1000 / 10) = 10 exactly -> 10.
    assert _d("ATT", (0, 0), (30, 10)) == 10


def _geo_by_hand(a, b):
    pi, rrr = 3.141592, 6378.388

    def rad(v):
        deg = int(v)  # C cast: truncation toward zero, also for negative values
        return pi * (deg + 5.0 * (v - deg) / 3.0) / 180.0

    lat_a, lon_a, lat_b, lon_b = rad(a[0]), rad(a[1]), rad(b[0]), rad(b[1])
    q1 = math.cos(lon_a - lon_b)
    q2 = math.cos(lat_a - lat_b)
    q3 = math.cos(lat_a + lat_b)
    return int(rrr * math.acos(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3)) + 1.0)


def test_geo_matches_spec_formula_and_published_matrix():
    # burma14 cities 1 and 2; TSPLIB's explicit matrix of burma14 lists d(1, 2) = 153.
    a, b = (16.47, 96.10), (16.47, 94.44)
    assert _geo_by_hand(a, b) == 153
    assert _d("GEO", a, b) == 153
    # gr96 cities 1 and 2: negative longitudes, where truncation and floor differ.
    a, b = (14.55, -23.31), (28.06, -15.24)
    assert _d("GEO", a, b) == _geo_by_hand(a, b) == 1690


def test_float_2d_and_exact_are_unrounded():
    assert _d("FLOAT_2D", (0, 0), (1, 1)) == math.sqrt(2)
    assert _d("EXACT", (0, 0), (0.3, 0.4)) == math.sqrt(0.3 * 0.3 + 0.4 * 0.4)
    assert _d("FLOAT_2D", (0, 0), (2.5, 0)) == 2.5


@pytest.mark.parametrize("kind", SUPPORTED_EDGE_WEIGHT_TYPES)
def test_symmetric_zero_diagonal_float64(kind):
    rng = np.random.default_rng(0)
    xy = rng.uniform(-50, 90, size=(30, 2))
    d = distance_matrix(xy, kind)
    assert d.dtype == np.float64 and d.shape == (30, 30)
    assert np.array_equal(d, d.T)
    assert not np.any(np.diag(d))
    assert np.all(d[~np.eye(30, dtype=bool)] >= 0)


def test_case_insensitive():
    xy = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert np.array_equal(distance_matrix(xy, "euc_2d"), distance_matrix(xy, "EUC_2D"))


def test_unsupported_type_is_named():
    with pytest.raises(ValueError, match="XRAY1"):
        distance_matrix(np.zeros((3, 2)), "XRAY1")


@pytest.mark.parametrize("xy", [np.zeros((3, 3)), np.zeros(4), np.array([[0, np.nan], [1, 1]])])
def test_bad_coordinates(xy):
    with pytest.raises(ValueError, match="coordinates"):
        distance_matrix(xy, "EUC_2D")
