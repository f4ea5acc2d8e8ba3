# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-03 18:27 UTC.
# Run: runs/plan-satellite   Domain: satellite   Candidate: 20   Round: 5
# Held-out tasks solved: 32/32 (goal count 27/32); limits 20000 expansions, 2 s per task
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.34 * relaxed(hff) + 1 * count(calibrated,-)
"""
# ahd-terms: [["relaxed(hff)", 0.34], ["count(calibrated,-)", 1.0]]

from ahd.planners.features import relaxed_plan_length

W_RELAXED_HFF = 0.34
W_COUNT_CALIBRATED = 1.0


def init(task):
    data = task.data
    data["f_count_calibrated"] = sum(1 for a in task.facts if a[0] == 'calibrated')


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_count_calibrated(state, task):
    """count(calibrated,-)"""
    return task.data["f_count_calibrated"] - sum(1 for a in state if a[0] == 'calibrated')


def h(state, task):
    return W_RELAXED_HFF * f_relaxed_hff(state, task) + W_COUNT_CALIBRATED * f_count_calibrated(state, task)
