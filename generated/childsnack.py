# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-08 01:51 UTC.
# Run: /tmp/evo2/plan-childsnack   Domain: childsnack   Candidate: 102   Round: 28
# Held-out tasks solved: 32/32 (goal count 29/32); limits 20000 expansions, 2 s per task
# Evolved for the search of: ahd plan ... --lazy --preferred
# ahd-search: lazy-pref
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 1 * goals + 0.089 * relaxed(hadd) + 0.712 * count(at_kitchen_content,+)
"""
# ahd-terms: [["goals", 1.0], ["relaxed(hadd)", 0.089], ["count(at_kitchen_content,+)", 0.712]]
# ahd-features: {"goals": ["goals", [], []], "relaxed(hadd)": ["relaxed", ["hadd"], []], "count(at_kitchen_content,+)": ["count", ["at_kitchen_content", "+"], []]}

from ahd.planners.features import relaxed_cost

W_GOALS = 1.0
W_RELAXED_HADD = 0.089
W_COUNT_AT_KITCHEN_CONTENT = 0.712


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_relaxed_hadd(state, task):
    """relaxed(hadd)"""
    return relaxed_cost(state, task)


def f_count_at_kitchen_content(state, task):
    """count(at_kitchen_content,+)"""
    return sum(1 for a in state if a[0] == 'at_kitchen_content')


def h(state, task):
    return W_GOALS * f_goals(state, task) + W_RELAXED_HADD * f_relaxed_hadd(state, task) + W_COUNT_AT_KITCHEN_CONTENT * f_count_at_kitchen_content(state, task)
