"""Generators are deterministic and match their documented parameters; instances are immutable."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ahd_binpacking.instances import (
    TRAIN_SEED_BASE,
    VALIDATION_SEED_BASE,
    WEIBULL_5K_SEEDS,
    Instance,
    lower_bound,
    orlib_uniform,
    smoke_instance,
    training_set,
    weibull_5k,
    weibull_instance,
    weibull_items,
)


def test_weibull_is_deterministic_and_documented():
    a, b = weibull_items(2000, 7), weibull_items(2000, 7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, weibull_items(2000, 8))
    # round(45 * Weibull(3)) clipped to [1, 100], from default_rng(seed)
    rng = np.random.default_rng(7)
    expected = np.clip(np.round(rng.weibull(3.0, 2000) * 45.0), 1, 100)
    assert np.array_equal(a, expected)
    assert np.all(a == np.round(a)) and a.min() >= 1 and a.max() <= 100
    assert 38 < a.mean() < 42  # 45 * Gamma(4/3) = 40.2


def test_weibull_5k_is_the_documented_test_set():
    test = weibull_5k()
    assert [i.name for i in test] == [f"weibull_5k_{k}" for k in range(1, 6)]
    assert all(i.n_items == 5000 and i.capacity == 100 for i in test)
    for inst, seed in zip(test, WEIBULL_5K_SEEDS, strict=True):
        assert np.array_equal(inst.items, weibull_items(5000, seed))
    assert test[0].lower_bound == int(np.ceil(test[0].items.sum() / 100))


def test_training_and_validation_never_use_test_seeds():
    train = training_set("train", 3, 100, seed=2)
    val = training_set("validation", 3, 100, seed=2)
    assert [i.name for i in train] == ["train_s2_0", "train_s2_1", "train_s2_2"]
    assert np.array_equal(train[1].items, weibull_items(100, TRAIN_SEED_BASE + 20_000 + 1))
    assert np.array_equal(val[0].items, weibull_items(100, VALIDATION_SEED_BASE + 20_000))
    with pytest.raises(ValueError, match="split"):
        training_set("test", 1, 10)
    with pytest.raises(ValueError, match="seed"):
        training_set("train", 1, 10, seed=100)
    assert smoke_instance(50).n_items == 50


def test_orlib_uniform_matches_binpack1_parameters():
    insts = orlib_uniform(120, count=3)
    assert [i.name for i in insts] == ["u120_00", "u120_01", "u120_02"]
    for inst in insts:
        assert inst.capacity == 150 and inst.n_items == 120
        assert inst.items.min() >= 20 and inst.items.max() <= 100
        assert np.all(inst.items == np.round(inst.items))
    again = orlib_uniform(120, count=3)
    assert all(np.array_equal(x.items, y.items) for x, y in zip(insts, again, strict=True))


def test_instances_are_immutable_and_validated():
    inst = weibull_instance(10, 1)
    with pytest.raises(ValueError):
        inst.items[0] = 5.0  # read-only array
    with pytest.raises(dataclasses.FrozenInstanceError):
        inst.capacity = 3.0  # type: ignore[misc]
    source = [3.0, 4.0]
    made = Instance("x", 10, source)
    source[0] = 9.0
    assert made.items[0] == 3.0  # a copy, not a view of the caller's data
    with pytest.raises(ValueError, match="exceeds the capacity"):
        Instance("x", 10, [11])
    with pytest.raises(ValueError, match="positive"):
        Instance("x", 10, [0, 1])
    with pytest.raises(ValueError, match="at least one item"):
        Instance("x", 10, [])
    with pytest.raises(ValueError, match="name"):
        Instance("a b", 10, [1])
    with pytest.raises(ValueError, match="below the lower bound"):
        Instance("x", 10, [6, 6], best_known=1)
    assert lower_bound(200.0, 100.0) == 2 and lower_bound(200.5, 100.0) == 3
    assert lower_bound(0.1 + 0.2 + 0.7 - 1e-16, 1.0) == 1
