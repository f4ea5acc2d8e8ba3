"""The paired comparison that says whether a validated winner beats the seeds beyond noise."""

from __future__ import annotations

import math

import pytest

from ahd.evolve.loop import paired_gain


def test_gain_and_standard_error_of_per_instance_differences():
    seed = {"a": 10.0, "b": 20.0, "c": 40.0, "only-seed": 1.0}
    other = {"a": 9.0, "b": 19.0, "c": 40.0, "only-other": 5.0}
    gain, se, n = paired_gain(seed, other)
    gains = [10.0, 5.0, 0.0]  # percent better than the seeds, on the shared instances only
    assert n == 3
    assert gain == pytest.approx(5.0)
    mean = sum(gains) / 3
    sd = math.sqrt(sum((g - mean) ** 2 for g in gains) / 2)
    assert se == pytest.approx(sd / math.sqrt(3))


def test_worse_teams_have_negative_gain_and_too_few_instances_give_none():
    gain, _, _ = paired_gain({"a": 10.0, "b": 10.0}, {"a": 11.0, "b": 12.0})
    assert gain == pytest.approx(-15.0)
    assert paired_gain({"a": 1.0}, {"a": 2.0}) is None
    assert paired_gain(None, {"a": 2.0}) is None
