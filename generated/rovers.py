# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-08 02:12 UTC.
# Run: /tmp/evo2/plan-rovers   Domain: rovers   Candidate: 243   Round: 66
# Held-out tasks solved: 32/32 (goal count 32/32); limits 20000 expansions, 2 s per task
# Evolved for the search of: ahd plan ... --lazy --preferred
# ahd-search: lazy-pref
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.0409 * relaxed(hff) + 0.0513 * count(at_soil_sample,+) + 0.0708 * count(have_rock_analysis,-) + 0.0386 * count(full,+) + 0.663 * count(have_image,-) + 1 * count(communicated_rock_data,-)
"""
# ahd-terms: [["relaxed(hff)", 0.0409], ["count(at_soil_sample,+)", 0.0513], ["count(have_rock_analysis,-)", 0.0708], ["count(full,+)", 0.0386], ["count(have_image,-)", 0.663], ["count(communicated_rock_data,-)", 1.0]]
# ahd-features: {"relaxed(hff)": ["relaxed", ["hff"], []], "count(at_soil_sample,+)": ["count", ["at_soil_sample", "+"], []], "count(have_rock_analysis,-)": ["count", ["have_rock_analysis", "-"], []], "count(full,+)": ["count", ["full", "+"], []], "count(have_image,-)": ["count", ["have_image", "-"], []], "count(communicated_rock_data,-)": ["count", ["communicated_rock_data", "-"], []]}

from ahd.planners.features import relaxed_plan_length

W_RELAXED_HFF = 0.0409
W_COUNT_AT_SOIL_SAMPLE = 0.0513
W_COUNT_HAVE_ROCK_ANALYSIS = 0.0708
W_COUNT_FULL = 0.0386
W_COUNT_HAVE_IMAGE = 0.663
W_COUNT_COMMUNICATED_ROCK_DATA = 1.0


def init(task):
    data = task.data
    data["f_count_have_rock_analysis"] = sum(1 for a in task.facts if a[0] == 'have_rock_analysis')
    data["f_count_have_image"] = sum(1 for a in task.facts if a[0] == 'have_image')
    data["f_count_communicated_rock_data"] = sum(1 for a in task.facts if a[0] == 'communicated_rock_data')


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_count_at_soil_sample(state, task):
    """count(at_soil_sample,+)"""
    return sum(1 for a in state if a[0] == 'at_soil_sample')


def f_count_have_rock_analysis(state, task):
    """count(have_rock_analysis,-)"""
    return task.data["f_count_have_rock_analysis"] - sum(1 for a in state if a[0] == 'have_rock_analysis')


def f_count_full(state, task):
    """count(full,+)"""
    return sum(1 for a in state if a[0] == 'full')


def f_count_have_image(state, task):
    """count(have_image,-)"""
    return task.data["f_count_have_image"] - sum(1 for a in state if a[0] == 'have_image')


def f_count_communicated_rock_data(state, task):
    """count(communicated_rock_data,-)"""
    return task.data["f_count_communicated_rock_data"] - sum(1 for a in state if a[0] == 'communicated_rock_data')


def h(state, task):
    return W_RELAXED_HFF * f_relaxed_hff(state, task) + W_COUNT_AT_SOIL_SAMPLE * f_count_at_soil_sample(state, task) + W_COUNT_HAVE_ROCK_ANALYSIS * f_count_have_rock_analysis(state, task) + W_COUNT_FULL * f_count_full(state, task) + W_COUNT_HAVE_IMAGE * f_count_have_image(state, task) + W_COUNT_COMMUNICATED_ROCK_DATA * f_count_communicated_rock_data(state, task)
