# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-03 18:02 UTC.
# Run: runs/plan-blocksworld   Domain: blocksworld   Candidate: 22   Round: 6
# Held-out tasks solved: 32/32 (goal count 24/32); limits 20000 expansions, 2 s per task
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 1 * goals + 0.292 * count(clear,-)
"""
# ahd-terms: [["goals", 1.0], ["count(clear,-)", 0.292]]

W_GOALS = 1.0
W_COUNT_CLEAR = 0.292


def init(task):
    data = task.data
    data["f_count_clear"] = sum(1 for a in task.facts if a[0] == 'clear')


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_count_clear(state, task):
    """count(clear,-)"""
    return task.data["f_count_clear"] - sum(1 for a in state if a[0] == 'clear')


def h(state, task):
    return W_GOALS * f_goals(state, task) + W_COUNT_CLEAR * f_count_clear(state, task)
