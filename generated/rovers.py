# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-07 11:44 UTC.
# Run: /tmp/evo/plan-rovers   Domain: rovers   Candidate: 224   Round: 60
# Held-out tasks solved: 32/32 (goal count 32/32); limits 20000 expansions, 2 s per task
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.152 * relaxed(hff) + 0.33 * count(have_rock_analysis,-) + 0.0381 * count(calibrated,+) + 1 * count(have_image,-) + 0.0872 * count(full,-) + 0.336 * goal_pred(communicated_rock_data)
"""
# ahd-terms: [["relaxed(hff)", 0.152], ["count(have_rock_analysis,-)", 0.33], ["count(calibrated,+)", 0.0381], ["count(have_image,-)", 1.0], ["count(full,-)", 0.0872], ["goal_pred(communicated_rock_data)", 0.336]]
# ahd-features: {"relaxed(hff)": ["relaxed", ["hff"], []], "count(have_rock_analysis,-)": ["count", ["have_rock_analysis", "-"], []], "count(calibrated,+)": ["count", ["calibrated", "+"], []], "count(have_image,-)": ["count", ["have_image", "-"], []], "count(full,-)": ["count", ["full", "-"], []], "goal_pred(communicated_rock_data)": ["goal_pred", ["communicated_rock_data"], []]}

from ahd.planners.features import relaxed_plan_length

W_RELAXED_HFF = 0.152
W_COUNT_HAVE_ROCK_ANALYSIS = 0.33
W_COUNT_CALIBRATED = 0.0381
W_COUNT_HAVE_IMAGE = 1.0
W_COUNT_FULL = 0.0872
W_GOAL_PRED_COMMUNICATED_ROCK_DATA = 0.336


def init(task):
    data = task.data
    data["f_count_have_rock_analysis"] = sum(1 for a in task.facts if a[0] == 'have_rock_analysis')
    data["f_count_have_image"] = sum(1 for a in task.facts if a[0] == 'have_image')
    data["f_count_full"] = sum(1 for a in task.facts if a[0] == 'full')
    data["f_goal_pred_communicated_rock_data"] = [g for g in task.goal if g[0] == 'communicated_rock_data']


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_count_have_rock_analysis(state, task):
    """count(have_rock_analysis,-)"""
    return task.data["f_count_have_rock_analysis"] - sum(1 for a in state if a[0] == 'have_rock_analysis')


def f_count_calibrated(state, task):
    """count(calibrated,+)"""
    return sum(1 for a in state if a[0] == 'calibrated')


def f_count_have_image(state, task):
    """count(have_image,-)"""
    return task.data["f_count_have_image"] - sum(1 for a in state if a[0] == 'have_image')


def f_count_full(state, task):
    """count(full,-)"""
    return task.data["f_count_full"] - sum(1 for a in state if a[0] == 'full')


def f_goal_pred_communicated_rock_data(state, task):
    """goal_pred(communicated_rock_data)"""
    return sum(1 for g in task.data["f_goal_pred_communicated_rock_data"] if g not in state)


def h(state, task):
    return W_RELAXED_HFF * f_relaxed_hff(state, task) + W_COUNT_HAVE_ROCK_ANALYSIS * f_count_have_rock_analysis(state, task) + W_COUNT_CALIBRATED * f_count_calibrated(state, task) + W_COUNT_HAVE_IMAGE * f_count_have_image(state, task) + W_COUNT_FULL * f_count_full(state, task) + W_GOAL_PRED_COMMUNICATED_ROCK_DATA * f_goal_pred_communicated_rock_data(state, task)
