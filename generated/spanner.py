# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-08 02:27 UTC.
# Run: /tmp/evo2/plan-spanner   Domain: spanner   Candidate: 58   Round: 17
# Held-out tasks solved: 32/32 (goal count 26/32); limits 20000 expansions, 2 s per task
# ahd-search: eager
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.405 * relaxed(hff) + 1 * count(at,+)
"""
# ahd-terms: [["relaxed(hff)", 0.405], ["count(at,+)", 1.0]]
# ahd-features: {"relaxed(hff)": ["relaxed", ["hff"], []], "count(at,+)": ["count", ["at", "+"], []]}

from ahd.planners.features import relaxed_plan_length

W_RELAXED_HFF = 0.405
W_COUNT_AT = 1.0


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_count_at(state, task):
    """count(at,+)"""
    return sum(1 for a in state if a[0] == 'at')


def h(state, task):
    return W_RELAXED_HFF * f_relaxed_hff(state, task) + W_COUNT_AT * f_count_at(state, task)
