"""The directness check against hand-made heuristics whose answer is known."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest

from ahd.planners import ground, read_task
from ahd.planners.directness import (
    ProbeError,
    check_directness,
    probe_states,
    probe_values,
    report_from_values,
    sample_states,
)
from ahd.planners.domains import blocksworld
from ahd.planners.heuristics import state_function
from ahd.planners.state import applicable_ops, apply_op, is_goal

ONE_WAY_DOMAIN = """(define (domain oneway)
  (:requirements :strips)
  (:predicates (at-a) (at-b) (at-c))
  (:action to-b :parameters () :precondition (at-a) :effect (and (at-b) (not (at-a))))
  (:action to-c :parameters () :precondition (at-a) :effect (and (at-c) (not (at-a)))))
"""
ONE_WAY_PROBLEM = """(define (problem p) (:domain oneway) (:init (at-a)) (:goal (at-c)))
"""


def _task(tmp_path, domain: str, problem: str):
    (tmp_path / "domain.pddl").write_text(domain)
    (tmp_path / "p.pddl").write_text(problem)
    # Every operator kept: the dead ends here are reached by moves that cannot help the goal.
    return ground(read_task(tmp_path / "domain.pddl", tmp_path / "p.pddl"), relevant_only=False)


@pytest.fixture
def blocks(tmp_path):
    return _task(tmp_path, blocksworld.DOMAIN, blocksworld.generate(4, 3))


def _perfect(task) -> dict[bytes, float]:
    """h* by breadth-first search over the whole (small) state space: unit costs."""
    arrays = task.arrays()
    buf = np.empty(task.n_ops, dtype=np.int32)
    start = task.init_bits
    states, parents = {start.tobytes(): start}, {}
    queue = deque([start])
    while queue:
        s = queue.popleft()
        for o in buf[:applicable_ops(s, arrays, buf)]:
            t = np.empty_like(s)
            apply_op(s, arrays, int(o), t)
            parents.setdefault(t.tobytes(), set()).add(s.tobytes())
            if t.tobytes() not in states:
                states[t.tobytes()] = t
                queue.append(t)
    dist = {k: 0.0 for k, s in states.items() if is_goal(s, arrays)}
    queue = deque(dist)
    while queue:
        k = queue.popleft()
        for p in parents.get(k, ()):
            if p not in dist:
                dist[p] = dist[k] + 1
                queue.append(p)
    return dist


def test_the_perfect_heuristic_is_direct(blocks):
    hstar = _perfect(blocks)
    states = sample_states(blocks, np.random.default_rng(0), walks=10, length=15)
    report = check_directness(lambda bits: hstar.get(bits.tobytes(), math.inf), blocks, states)
    assert report.checked > 10 and report.rate == 1.0 and report.counterexamples == ()


def test_a_constant_heuristic_is_never_direct_and_says_where(blocks):
    states = sample_states(blocks, np.random.default_rng(1), walks=5, length=10)
    report = check_directness(lambda bits: 0.0, blocks, states, max_counterexamples=2)
    assert report.checked > 5 and report.direct == 0 and report.rate == 0.0
    assert len(report.counterexamples) == 2
    text = report.counterexamples[0].text()
    assert text.startswith("state with h = 0: (") and "successors: " in text
    assert "-> 0" in text  # each successor with its value


def test_goal_count_is_direct_on_some_states_only(blocks):
    states = sample_states(blocks, np.random.default_rng(2), walks=20, length=20)
    report = check_directness("goalcount", blocks, states)
    assert 0.0 < report.rate < 1.0 and report.counterexamples


def test_dead_ends_are_counted_and_recognised(tmp_path):
    task = _task(tmp_path, ONE_WAY_DOMAIN, ONE_WAY_PROBLEM)
    states = sample_states(task, np.random.default_rng(0), walks=20, length=3)
    assert len(states) == 3  # at-a, at-b (dead), at-c (goal)
    hadd = check_directness("hadd", task, states)
    assert (hadd.dead_ends, hadd.recognised, hadd.checked, hadd.rate) == (1, 1, 1, 1.0)
    goals = check_directness("goalcount", task, states)
    assert goals.dead_ends == 1 and goals.recognised == 0 and goals.dead_end_rate == 0.0


def test_states_along_a_plan_are_sampled_first(blocks):
    fn = state_function("hff", blocks)
    plan, state = [], blocks.init_bits
    arrays, buf = blocks.arrays(), np.empty(blocks.n_ops, dtype=np.int32)
    for _ in range(3):  # three steps of any applicable operator
        o = int(buf[0]) if applicable_ops(state, arrays, buf) else None
        nxt = np.empty_like(state)
        apply_op(state, arrays, o, nxt)
        plan.append(o)
        state = nxt
    states = sample_states(blocks, np.random.default_rng(0), walks=0, plan=plan)
    assert 2 <= len(states) <= 4 and np.array_equal(states[0], blocks.init_bits)
    assert math.isfinite(fn(states[-1]))


def test_the_parent_rejects_probe_values_that_do_not_fit_the_states(blocks):
    task = blocks
    states, dead = probe_states(task, sample_states(task, np.random.default_rng(0), walks=4))
    values = probe_values(state_function("goalcount", task), task, states, dead)
    report = report_from_values(task, states, dead, values)
    assert report.checked + report.dead_ends == len(states)
    for bad in (values + [[1.0]], [values[0] + [0.0]] + values[1:], [[]] + values[1:],
                [[float("nan")] + values[0][1:]]):
        with pytest.raises(ProbeError):
            report_from_values(task, states, dead, bad)
