# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-08 01:56 UTC.
# Run: /tmp/evo2/plan-ferry   Domain: ferry   Candidate: 9   Round: 3
# Held-out tasks solved: 32/32 (goal count 32/32); limits 20000 expansions, 2 s per task
# Evolved for the search of: ahd plan ... --lazy --preferred
# ahd-search: lazy-pref
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.719 * goals + 0.0842 * count(on,-) + 1 * relaxed(hff)
"""
# ahd-terms: [["goals", 0.719], ["count(on,-)", 0.0842], ["relaxed(hff)", 1.0]]
# ahd-features: {"goals": ["goals", [], []], "count(on,-)": ["count", ["on", "-"], []], "relaxed(hff)": ["relaxed", ["hff"], []]}

from ahd.planners.features import relaxed_plan_length

W_GOALS = 0.719
W_COUNT_ON = 0.0842
W_RELAXED_HFF = 1.0


def init(task):
    data = task.data
    data["f_count_on"] = sum(1 for a in task.facts if a[0] == 'on')


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_count_on(state, task):
    """count(on,-)"""
    return task.data["f_count_on"] - sum(1 for a in state if a[0] == 'on')


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def h(state, task):
    return W_GOALS * f_goals(state, task) + W_COUNT_ON * f_count_on(state, task) + W_RELAXED_HFF * f_relaxed_hff(state, task)
