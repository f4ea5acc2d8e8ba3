# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-08 01:46 UTC.
# Run: /tmp/evo2/plan-blocksworld   Domain: blocksworld   Candidate: 42   Round: 12
# Held-out tasks solved: 32/32 (goal count 32/32); limits 20000 expansions, 2 s per task
# Evolved for the search of: ahd plan ... --lazy --preferred
# ahd-search: lazy-pref
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.144 * chain(on) + 0.867 * count(arm-empty,+) + 0.407 * count(arm-empty,-) + 0.928 * count(holding,-) + 0.824 * relaxed(hff) + 1 * count(clear,-)
"""
# ahd-terms: [["chain(on)", 0.144], ["count(arm-empty,+)", 0.867], ["count(arm-empty,-)", 0.407], ["count(holding,-)", 0.928], ["relaxed(hff)", 0.824], ["count(clear,-)", 1.0]]
# ahd-features: {"chain(on)": ["chain", ["on"], []], "count(arm-empty,+)": ["count", ["arm-empty", "+"], []], "count(arm-empty,-)": ["count", ["arm-empty", "-"], []], "count(holding,-)": ["count", ["holding", "-"], []], "relaxed(hff)": ["relaxed", ["hff"], []], "count(clear,-)": ["count", ["clear", "-"], []]}

from ahd.planners.features import relaxed_plan_length

W_CHAIN_ON = 0.144
W_COUNT_ARM_EMPTY = 0.867
W_COUNT_ARM_EMPTY_2 = 0.407
W_COUNT_HOLDING = 0.928
W_RELAXED_HFF = 0.824
W_COUNT_CLEAR = 1.0


def init(task):
    data = task.data
    data["f_chain_on"] = {g[1]: g[2] for g in task.goal if g[0] == 'on'}
    data["f_count_arm_empty_2"] = sum(1 for a in task.facts if a[0] == 'arm-empty')
    data["f_count_holding"] = sum(1 for a in task.facts if a[0] == 'holding')
    data["f_count_clear"] = sum(1 for a in task.facts if a[0] == 'clear')


def f_chain_on(state, task):
    """chain(on)"""
    goal_below = task.data["f_chain_on"]
    below = {}
    for a in state:
        if a[0] == 'on':
            below[a[1]] = a[2]
    ok = {}
    n = 0
    for x in set(below) | set(goal_below):
        path, seen, y = [], set(), x
        while y is not None and y not in ok and y not in seen:
            path.append(y)
            seen.add(y)
            y = below.get(y)
        good = ok.get(y, y is None)
        for z in reversed(path):
            want = goal_below.get(z)
            good = good and (want is None or below.get(z) == want)
            ok[z] = good
        n += not ok[x]
    return n


def f_count_arm_empty(state, task):
    """count(arm-empty,+)"""
    return sum(1 for a in state if a[0] == 'arm-empty')


def f_count_arm_empty_2(state, task):
    """count(arm-empty,-)"""
    return task.data["f_count_arm_empty_2"] - sum(1 for a in state if a[0] == 'arm-empty')


def f_count_holding(state, task):
    """count(holding,-)"""
    return task.data["f_count_holding"] - sum(1 for a in state if a[0] == 'holding')


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_count_clear(state, task):
    """count(clear,-)"""
    return task.data["f_count_clear"] - sum(1 for a in state if a[0] == 'clear')


def h(state, task):
    return W_CHAIN_ON * f_chain_on(state, task) + W_COUNT_ARM_EMPTY * f_count_arm_empty(state, task) + W_COUNT_ARM_EMPTY_2 * f_count_arm_empty_2(state, task) + W_COUNT_HOLDING * f_count_holding(state, task) + W_RELAXED_HFF * f_relaxed_hff(state, task) + W_COUNT_CLEAR * f_count_clear(state, task)
