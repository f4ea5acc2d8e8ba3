# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-07 11:22 UTC.
# Run: /tmp/evo/plan-childsnack   Domain: childsnack   Candidate: 47   Round: 13
# Held-out tasks solved: 32/32 (goal count 22/32); limits 20000 expansions, 2 s per task
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.0198 * goals + 0.285 * relaxed(hadd) + 0.073 * relaxed(hff) + 1 * count(no_gluten_sandwich,-)
"""
# ahd-terms: [["goals", 0.0198], ["relaxed(hadd)", 0.285], ["relaxed(hff)", 0.073], ["count(no_gluten_sandwich,-)", 1.0]]
# ahd-features: {"goals": ["goals", [], []], "relaxed(hadd)": ["relaxed", ["hadd"], []], "relaxed(hff)": ["relaxed", ["hff"], []], "count(no_gluten_sandwich,-)": ["count", ["no_gluten_sandwich", "-"], []]}

from ahd.planners.features import relaxed_cost, relaxed_plan_length

W_GOALS = 0.0198
W_RELAXED_HADD = 0.285
W_RELAXED_HFF = 0.073
W_COUNT_NO_GLUTEN_SANDWICH = 1.0


def init(task):
    data = task.data
    data["f_count_no_gluten_sandwich"] = sum(1 for a in task.facts if a[0] == 'no_gluten_sandwich')


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_relaxed_hadd(state, task):
    """relaxed(hadd)"""
    return relaxed_cost(state, task)


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_count_no_gluten_sandwich(state, task):
    """count(no_gluten_sandwich,-)"""
    return task.data["f_count_no_gluten_sandwich"] - sum(1 for a in state if a[0] == 'no_gluten_sandwich')


def h(state, task):
    return W_GOALS * f_goals(state, task) + W_RELAXED_HADD * f_relaxed_hadd(state, task) + W_RELAXED_HFF * f_relaxed_hff(state, task) + W_COUNT_NO_GLUTEN_SANDWICH * f_count_no_gluten_sandwich(state, task)
