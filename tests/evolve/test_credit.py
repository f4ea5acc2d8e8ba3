"""Credit assignment in a cooperative team: hand-computed cases of ``credits`` and ``synergy``.

Usage rows are per-instance ``(uses, gain)`` pairs, as ``TeamOutcome.usage`` holds them.
"""

from __future__ import annotations

import pytest

from ahd.evolve.credit import PRIOR_USES, credits, synergy


def _shrunk(uses: float, gain: float, mean: float) -> float:
    """The credit formula written out by hand for one instance."""
    return (gain + PRIOR_USES * mean) / (uses + PRIOR_USES) / mean


def test_prior_is_twenty_uses():
    # The hand computations below are written for this prior.
    assert PRIOR_USES == 20.0


def test_twice_the_gain_per_use_gets_the_higher_credit():
    usage = {1: [(100.0, 200.0)], 2: [(100.0, 100.0)]}
    out = credits(usage, [1, 2])
    # pool mean: 300 gain / 200 uses = 1.5 per use
    assert out[1] == pytest.approx((200 + 20 * 1.5) / 120 / 1.5)  # 230 / 180
    assert out[2] == pytest.approx((100 + 20 * 1.5) / 120 / 1.5)  # 130 / 180
    assert out[1] > 1.0 > out[2]


def test_credit_is_relative_to_the_pool_mean_so_scale_free():
    usage = {1: [(40.0, 120.0)], 2: [(60.0, 30.0)]}
    scaled = {m: [(u, g * 1000.0) for u, g in rows] for m, rows in usage.items()}
    a, b = credits(usage, [1, 2]), credits(scaled, [1, 2])
    assert a == pytest.approx(b)


def test_few_uses_are_shrunk_towards_average():
    # Operator 1 gains three times the pool mean per use in both cases; with 2 uses its
    # credit must stay much closer to 1.0 than with 200 uses.
    few = credits({1: [(2.0, 6.0)], 2: [(98.0, 94.0)]}, [1, 2])
    many = credits({1: [(200.0, 600.0)], 2: [(9800.0, 9400.0)]}, [1, 2])
    assert few[1] == pytest.approx(_shrunk(2.0, 6.0, 1.0))  # 26 / 22
    assert 1.0 < few[1] < 1.25
    assert many[1] == pytest.approx(_shrunk(200.0, 600.0, 1.0))  # 640 / 220
    assert many[1] > 2.8
    assert abs(few[1] - 1.0) < abs(many[1] - 1.0)


def test_often_chosen_but_useless_scores_below_one():
    # G-LNS's accumulated reward would favour operator 1 (chosen 100x more often); the
    # per-use credit must not.
    usage = {1: [(1000.0, 0.0)], 2: [(10.0, 50.0)]}
    out = credits(usage, [1, 2])
    mean = 50.0 / 1010.0
    assert out[1] == pytest.approx(_shrunk(1000.0, 0.0, mean))  # 20 / 1020
    assert out[1] < 0.05
    assert out[2] > 1.0


def test_credits_average_over_instances_and_skip_instances_without_gain():
    usage = {
        1: [(10.0, 30.0), (10.0, 0.0), (5.0, 5.0)],
        2: [(10.0, 10.0), (10.0, 0.0), (15.0, 35.0)],
    }
    out = credits(usage, [1, 2])
    # instance 0: mean 2.0; instance 1: mean 0 (skipped); instance 2: mean 2.0
    expect1 = (_shrunk(10.0, 30.0, 2.0) + _shrunk(5.0, 5.0, 2.0)) / 2
    expect2 = (_shrunk(10.0, 10.0, 2.0) + _shrunk(15.0, 35.0, 2.0)) / 2
    assert out[1] == pytest.approx(expect1)
    assert out[2] == pytest.approx(expect2)


def test_member_without_usage_is_average():
    out = credits({1: [(10.0, 5.0)]}, [1, 2])
    assert out[2] == 1.0
    assert credits({}, [7]) == {7: 1.0}


def test_equal_operators_score_exactly_one():
    usage = {1: [(50.0, 25.0)], 2: [(50.0, 25.0)], 3: [(50.0, 25.0)]}
    assert credits(usage, [1, 2, 3]) == pytest.approx({1: 1.0, 2: 1.0, 3: 1.0})


# --------------------------------------------------------------------------- synergy

#: Two destroys, two repairs, 100 iterations, each pair used 25 times. Mean gain per use 2.0;
#: destroy 10 gains 3.0 and 11 gains 1.0 per use; repair 20 gains 2.5 and 21 gains 1.5.
USAGE = {10: [(50.0, 150.0)], 11: [(50.0, 50.0)], 20: [(50.0, 125.0)], 21: [(50.0, 75.0)]}
DESTROY, REPAIR = [10, 11], [20, 21]


def _pairs(per_use: dict[tuple[int, int], float]) -> dict:
    return {pair: [(25.0, 25.0 * g)] for pair, g in per_use.items()}


def test_exactly_additive_pairs_have_no_synergy():
    # g(d, r) = g(d) + g(r) - g for every pair; marginals match USAGE.
    additive = {(10, 20): 3.5, (10, 21): 2.5, (11, 20): 1.5, (11, 21): 0.5}
    out = synergy(_pairs(additive), USAGE, DESTROY, REPAIR)
    assert out == pytest.approx({pair: 0.0 for pair in additive}, abs=1e-12)


def test_extra_joint_gain_is_positive_and_its_mirror_negative():
    # +1 on (10, 20) and (11, 21), -1 on the others: the marginals stay those of USAGE.
    inter = {(10, 20): 4.5, (10, 21): 1.5, (11, 20): 0.5, (11, 21): 1.5}
    out = synergy(_pairs(inter), USAGE, DESTROY, REPAIR)
    shrink = 25.0 / (25.0 + PRIOR_USES)
    assert out[(10, 20)] == pytest.approx(1.0 / 2.0 * shrink)
    assert out[(11, 21)] == pytest.approx(1.0 / 2.0 * shrink)
    assert out[(10, 21)] == pytest.approx(-1.0 / 2.0 * shrink)
    assert out[(11, 20)] == pytest.approx(-1.0 / 2.0 * shrink)


def test_synergy_does_not_reward_frequency():
    # An additive pair used 1000x has the same (zero) synergy as one used 10x: accumulated
    # joint reward would rank it far higher.
    often = {(10, 20): [(1000.0, 3500.0)], (11, 21): [(10.0, 5.0)]}
    out = synergy(often, USAGE, DESTROY, REPAIR)
    assert out[(10, 20)] == pytest.approx(0.0, abs=1e-12)
    assert out[(11, 21)] == pytest.approx(0.0, abs=1e-12)


def test_synergy_skips_unused_pairs_and_gainless_instances():
    usage = {10: [(50.0, 100.0), (50.0, 0.0)], 20: [(50.0, 100.0), (50.0, 0.0)]}
    pairs = {(10, 20): [(0.0, 0.0), (50.0, 0.0)]}
    assert synergy(pairs, usage, [10], [20]) == {(10, 20): 0.0}
