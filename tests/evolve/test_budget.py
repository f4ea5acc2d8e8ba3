"""Budget validation and the reasons StopRule gives for stopping."""

from __future__ import annotations

import math

import pytest

from ahd.evolve.budget import Budget, Spent, StopRule

INT_LIMITS = ("max_calls", "max_tokens", "max_evaluations", "rounds")
REAL_LIMITS = ("max_cost", "time")


@pytest.mark.parametrize("name", INT_LIMITS + REAL_LIMITS)
def test_negative_limits_are_refused(name):
    with pytest.raises(ValueError, match=name):
        Budget(**{name: -1})


@pytest.mark.parametrize("name", REAL_LIMITS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_real_limits_are_refused(name, value):
    with pytest.raises(ValueError, match=name):
        Budget(**{name: value})


@pytest.mark.parametrize("name", INT_LIMITS + REAL_LIMITS)
def test_zero_and_none_are_valid(name):
    assert getattr(Budget(**{name: 0}), name) == 0
    assert getattr(Budget(), name) is None


def test_budget_is_frozen():
    budget = Budget(max_calls=3)
    with pytest.raises(AttributeError):
        budget.max_calls = 5  # type: ignore[misc]


def test_unlimited_budget_never_stops():
    rule = StopRule(Budget())
    spent = Spent(calls=10**9, tokens=10**12, cost=1e9, evaluations=10**9, seconds=1e9,
                  rounds=10**6, best=-1e300)
    assert rule(spent) is None


#: budget field, Spent field, words in the reason, limit
LIMITS = [
    ("max_calls", "calls", "LLM calls", 10),
    ("max_tokens", "tokens", "tokens", 5000),
    ("max_cost", "cost", "cost (USD)", 2.5),
    ("max_evaluations", "evaluations", "evaluations", 40),
    ("time", "seconds", "time (s)", 60.0),
    ("rounds", "rounds", "rounds", 7),
]


@pytest.mark.parametrize(("field", "used_field", "words", "limit"), LIMITS)
def test_each_limit_stops_at_and_after_it(field, used_field, words, limit):
    rule = StopRule(Budget(**{field: limit}))
    below = limit - 1 if isinstance(limit, int) else limit * 0.99
    assert rule(Spent(**{used_field: below})) is None
    at = rule(Spent(**{used_field: limit}))
    assert at is not None
    assert at.startswith("budget reached")
    assert words in at
    assert f"{limit:g}" in at
    over = rule(Spent(**{used_field: limit * 3}))
    assert over is not None and words in over


@pytest.mark.parametrize(("field", "used_field", "words", "limit"), LIMITS)
def test_a_limit_ignores_the_other_counters(field, used_field, words, limit):
    rule = StopRule(Budget(**{field: limit}))
    others = {f: 10**9 for _, f, _, _ in LIMITS if f != used_field}
    assert rule(Spent(**others)) is None


def test_zero_budget_stops_before_anything_is_spent():
    assert "evaluations" in StopRule(Budget(max_evaluations=0))(Spent())


def test_target_reached_when_best_at_or_below():
    rule = StopRule(Budget(target=100.0))
    assert rule(Spent()) is None  # best = inf before any evaluation
    assert rule(Spent(best=100.5)) is None
    at = rule(Spent(best=100.0))
    assert at is not None and at.startswith("target reached")
    below = rule(Spent(best=93.25))
    assert below is not None and "93.25" in below and "100" in below


def test_budget_and_target_together_stop_on_either():
    rule = StopRule(Budget(rounds=3, target=50.0))
    assert rule(Spent(rounds=2, best=60.0)) is None
    assert "rounds" in rule(Spent(rounds=3, best=60.0))
    assert "target" in rule(Spent(rounds=2, best=50.0))
