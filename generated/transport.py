# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-08 02:33 UTC.
# Run: /tmp/evo2/plan-transport   Domain: transport   Candidate: 46   Round: 13
# Held-out tasks solved: 32/32 (goal count 21/32); limits 20000 expansions, 2 s per task
# Evolved for the search of: ahd plan ... --lazy --preferred
# ahd-search: lazy-pref
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.0121 * relaxed(hff) + 0.0612 * relaxed(hadd) + 1 * misplaced(at)
"""
# ahd-terms: [["relaxed(hff)", 0.0121], ["relaxed(hadd)", 0.0612], ["misplaced(at)", 1.0]]
# ahd-features: {"relaxed(hff)": ["relaxed", ["hff"], []], "relaxed(hadd)": ["relaxed", ["hadd"], []], "misplaced(at)": ["misplaced", ["at"], []]}

from ahd.planners.features import relaxed_cost, relaxed_plan_length

W_RELAXED_HFF = 0.0121
W_RELAXED_HADD = 0.0612
W_MISPLACED_AT = 1.0


def init(task):
    data = task.data
    data["f_misplaced_at"] = {g[1]: g for g in task.goal if g[0] == 'at'}


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_relaxed_hadd(state, task):
    """relaxed(hadd)"""
    return relaxed_cost(state, task)


def f_misplaced_at(state, task):
    """misplaced(at)"""
    goal_of = task.data["f_misplaced_at"]
    n = 0
    for a in state:
        if a[0] == 'at':
            g = goal_of.get(a[1])
            if g is not None and g != a:
                n += 1
    return n


def h(state, task):
    return W_RELAXED_HFF * f_relaxed_hff(state, task) + W_RELAXED_HADD * f_relaxed_hadd(state, task) + W_MISPLACED_AT * f_misplaced_at(state, task)
