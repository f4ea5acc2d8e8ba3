# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-03 18:07 UTC.
# Run: runs/plan-childsnack   Domain: childsnack   Candidate: 3   Round: 1
# Held-out tasks solved: 12/32 (goal count 10/32); limits 20000 expansions, 2 s per task
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.818 * goals + 1 * relaxed(hff)
"""
# ahd-terms: [["goals", 0.818], ["relaxed(hff)", 1.0]]

from ahd.planners.features import relaxed_plan_length

W_GOALS = 0.818
W_RELAXED_HFF = 1.0


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def h(state, task):
    return W_GOALS * f_goals(state, task) + W_RELAXED_HFF * f_relaxed_hff(state, task)
