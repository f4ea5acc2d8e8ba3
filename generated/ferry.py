# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-03 18:10 UTC.
# Run: runs/plan-ferry   Domain: ferry   Candidate: 30   Round: 8
# Held-out tasks solved: 32/32 (goal count 32/32); limits 20000 expansions, 2 s per task
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.719 * goals + 0.0727 * count(at-ferry,+) + 1 * relaxed(hff) + 0.105 * count(on,-)
"""
# ahd-terms: [["goals", 0.719], ["count(at-ferry,+)", 0.0727], ["relaxed(hff)", 1.0], ["count(on,-)", 0.105]]

from ahd.planners.features import relaxed_plan_length

W_GOALS = 0.719
W_COUNT_AT_FERRY = 0.0727
W_RELAXED_HFF = 1.0
W_COUNT_ON = 0.105


def init(task):
    data = task.data
    data["f_count_on"] = sum(1 for a in task.facts if a[0] == 'on')


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_count_at_ferry(state, task):
    """count(at-ferry,+)"""
    return sum(1 for a in state if a[0] == 'at-ferry')


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_count_on(state, task):
    """count(on,-)"""
    return task.data["f_count_on"] - sum(1 for a in state if a[0] == 'on')


def h(state, task):
    return W_GOALS * f_goals(state, task) + W_COUNT_AT_FERRY * f_count_at_ferry(state, task) + W_RELAXED_HFF * f_relaxed_hff(state, task) + W_COUNT_ON * f_count_on(state, task)
