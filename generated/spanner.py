# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-07 11:59 UTC.
# Run: /tmp/evo/plan-spanner   Domain: spanner   Candidate: 23   Round: 7
# Held-out tasks solved: 32/32 (goal count 32/32); limits 20000 expansions, 2 s per task
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 1 * goals + 0.377 * count(at,+) + 0.67 * count(usable,-)
"""
# ahd-terms: [["goals", 1.0], ["count(at,+)", 0.377], ["count(usable,-)", 0.67]]
# ahd-features: {"goals": ["goals", [], []], "count(at,+)": ["count", ["at", "+"], []], "count(usable,-)": ["count", ["usable", "-"], []]}

W_GOALS = 1.0
W_COUNT_AT = 0.377
W_COUNT_USABLE = 0.67


def init(task):
    data = task.data
    data["f_count_usable"] = sum(1 for a in task.facts if a[0] == 'usable')


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_count_at(state, task):
    """count(at,+)"""
    return sum(1 for a in state if a[0] == 'at')


def f_count_usable(state, task):
    """count(usable,-)"""
    return task.data["f_count_usable"] - sum(1 for a in state if a[0] == 'usable')


def h(state, task):
    return W_GOALS * f_goals(state, task) + W_COUNT_AT * f_count_at(state, task) + W_COUNT_USABLE * f_count_usable(state, task)
