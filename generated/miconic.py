# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-03 18:19 UTC.
# Run: runs/plan-miconic   Domain: miconic   Candidate: 29   Round: 8
# Held-out tasks solved: 32/32 (goal count 32/32); limits 20000 expansions, 2 s per task
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.101 * goals + 1 * relaxed(hff) + 0.65 * relaxed(hadd)
"""
# ahd-terms: [["goals", 0.101], ["relaxed(hff)", 1.0], ["relaxed(hadd)", 0.65]]

from ahd.planners.features import relaxed_cost, relaxed_plan_length

W_GOALS = 0.101
W_RELAXED_HFF = 1.0
W_RELAXED_HADD = 0.65


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_relaxed_hadd(state, task):
    """relaxed(hadd)"""
    return relaxed_cost(state, task)


def h(state, task):
    return W_GOALS * f_goals(state, task) + W_RELAXED_HFF * f_relaxed_hff(state, task) + W_RELAXED_HADD * f_relaxed_hadd(state, task)
