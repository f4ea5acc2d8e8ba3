# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-03 18:16 UTC.
# Run: runs/plan-floortile   Domain: floortile   Candidate: 9   Round: 2
# Held-out tasks solved: 7/32 (goal count 5/32); limits 20000 expansions, 2 s per task
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.42 * goals + 1 * relaxed(hadd)
"""
# ahd-terms: [["goals", 0.42], ["relaxed(hadd)", 1.0]]

from ahd.planners.features import relaxed_cost

W_GOALS = 0.42
W_RELAXED_HADD = 1.0


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_relaxed_hadd(state, task):
    """relaxed(hadd)"""
    return relaxed_cost(state, task)


def h(state, task):
    return W_GOALS * f_goals(state, task) + W_RELAXED_HADD * f_relaxed_hadd(state, task)
