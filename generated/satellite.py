# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-07 11:49 UTC.
# Run: /tmp/evo/plan-satellite   Domain: satellite   Candidate: 74   Round: 21
# Held-out tasks solved: 32/32 (goal count 32/32); limits 20000 expansions, 2 s per task
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 1 * goals + 0.317 * relaxed(hff) + 1 * count(calibrated,-)
"""
# ahd-terms: [["goals", 1.0], ["relaxed(hff)", 0.317], ["count(calibrated,-)", 1.0]]
# ahd-features: {"goals": ["goals", [], []], "relaxed(hff)": ["relaxed", ["hff"], []], "count(calibrated,-)": ["count", ["calibrated", "-"], []]}

from ahd.planners.features import relaxed_plan_length

W_GOALS = 1.0
W_RELAXED_HFF = 0.317
W_COUNT_CALIBRATED = 1.0


def init(task):
    data = task.data
    data["f_count_calibrated"] = sum(1 for a in task.facts if a[0] == 'calibrated')


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_count_calibrated(state, task):
    """count(calibrated,-)"""
    return task.data["f_count_calibrated"] - sum(1 for a in state if a[0] == 'calibrated')


def h(state, task):
    return W_GOALS * f_goals(state, task) + W_RELAXED_HFF * f_relaxed_hff(state, task) + W_COUNT_CALIBRATED * f_count_calibrated(state, task)
