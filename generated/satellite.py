# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-08 02:17 UTC.
# Run: /tmp/evo2/plan-satellite   Domain: satellite   Candidate: 68   Round: 19
# Held-out tasks solved: 32/32 (goal count 32/32); limits 20000 expansions, 2 s per task
# Evolved for the search of: ahd plan ... --lazy --preferred
# ahd-search: lazy-pref
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.0657 * relaxed(hff) + 0.447 * count(calibrated,-) + 1 * count(power_avail,+)
"""
# ahd-terms: [["relaxed(hff)", 0.0657], ["count(calibrated,-)", 0.447], ["count(power_avail,+)", 1.0]]
# ahd-features: {"relaxed(hff)": ["relaxed", ["hff"], []], "count(calibrated,-)": ["count", ["calibrated", "-"], []], "count(power_avail,+)": ["count", ["power_avail", "+"], []]}

from ahd.planners.features import relaxed_plan_length

W_RELAXED_HFF = 0.0657
W_COUNT_CALIBRATED = 0.447
W_COUNT_POWER_AVAIL = 1.0


def init(task):
    data = task.data
    data["f_count_calibrated"] = sum(1 for a in task.facts if a[0] == 'calibrated')


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_count_calibrated(state, task):
    """count(calibrated,-)"""
    return task.data["f_count_calibrated"] - sum(1 for a in state if a[0] == 'calibrated')


def f_count_power_avail(state, task):
    """count(power_avail,+)"""
    return sum(1 for a in state if a[0] == 'power_avail')


def h(state, task):
    return W_RELAXED_HFF * f_relaxed_hff(state, task) + W_COUNT_CALIBRATED * f_count_calibrated(state, task) + W_COUNT_POWER_AVAIL * f_count_power_avail(state, task)
