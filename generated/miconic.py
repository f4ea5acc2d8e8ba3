# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-08 02:07 UTC.
# Run: /tmp/evo2/plan-miconic   Domain: miconic   Candidate: 205   Round: 64
# Held-out tasks solved: 32/32 (goal count 32/32); limits 20000 expansions, 2 s per task
# Evolved for the search of: ahd plan ... --lazy --preferred
# ahd-search: lazy-pref
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.191 * relaxed(hadd) + 0.00077 * agent_dist(lift-at,above,d,sum) + 1 * count(lift-at,+)
"""
# ahd-terms: [["relaxed(hadd)", 0.191], ["agent_dist(lift-at,above,d,sum)", 0.00077], ["count(lift-at,+)", 1.0]]
# ahd-features: {"relaxed(hadd)": ["relaxed", ["hadd"], []], "agent_dist(lift-at,above,d,sum)": ["agent_dist", ["lift-at", "above", "d", "sum"], [["edges", [["above", 0, 1]]], ["mobile", null]]], "count(lift-at,+)": ["count", ["lift-at", "+"], []]}

from ahd.planners.features import relaxed_cost

W_RELAXED_HADD = 0.191
W_AGENT_DIST_LIFT_AT_ABOVE_D_SUM = 0.00077
W_COUNT_LIFT_AT = 1.0


def _distances(adj, memo, source):
    """Shortest edge counts from ``source`` in ``adj`` (breadth-first, memoised per task)."""
    dist = memo.get(source)
    if dist is None:
        dist = {source: 0}
        frontier = [source]
        while frontier:
            following = []
            for x in frontier:
                for y in adj.get(x, ()):
                    if y not in dist:
                        dist[y] = dist[x] + 1
                        following.append(y)
            frontier = following
        memo[source] = dist
    return dist


def init(task):
    data = task.data
    adj = {}
    for a in task.static_facts:
        if a[0] in ('above',):
            if a[0] == 'above' and len(a) > 2:
                adj.setdefault(a[1], set()).add(a[2])
    data["f_agent_dist_lift_at_above_d_sum_adj"] = adj
    data["f_agent_dist_lift_at_above_d_sum_memo"] = {}
    data["f_agent_dist_lift_at_above_d_sum_far"] = len(adj) + 1
    nodes = set(data["f_agent_dist_lift_at_above_d_sum_adj"])
    data["f_agent_dist_lift_at_above_d_sum_nodes"] = nodes
    static_at = {}
    for a in task.static_facts:
        if len(a) == 3 and a[2] in nodes:
            static_at.setdefault(a[1], set()).add(a[2])
    data["f_agent_dist_lift_at_above_d_sum_static"] = static_at
    data["f_agent_dist_lift_at_above_d_sum_objs"] = {x for g in task.goal for x in g[1:]} - nodes


def f_relaxed_hadd(state, task):
    """relaxed(hadd)"""
    return relaxed_cost(state, task)


def f_agent_dist_lift_at_above_d_sum(state, task):
    """agent_dist(lift-at,above,d,sum)"""
    data = task.data
    adj, memo, far = data["f_agent_dist_lift_at_above_d_sum_adj"], data["f_agent_dist_lift_at_above_d_sum_memo"], data["f_agent_dist_lift_at_above_d_sum_far"]
    nodes, objs = data["f_agent_dist_lift_at_above_d_sum_nodes"], data["f_agent_dist_lift_at_above_d_sum_objs"]
    starts, placed = [], {}
    for a in state:
        if a[0] == 'lift-at' and len(a) == 2:
            starts.append(a[1])
        elif len(a) == 3 and a[1] in objs and a[2] in nodes:
            placed.setdefault(a[1], []).append(a[2])
    if not starts:
        return 0
    targets = set()
    for g in task.goal:
        if g in state:
            continue
        for x in g[1:]:
            if x in nodes:
                targets.add(x)
            else:
                targets.update(placed.get(x, ()))
                targets.update(data["f_agent_dist_lift_at_above_d_sum_static"].get(x, ()))
    if not targets:
        return 0
    tables = [_distances(adj, memo, s) for s in starts]
    best = [min(t.get(x, far) for t in tables) for x in targets]
    return sum(best)


def f_count_lift_at(state, task):
    """count(lift-at,+)"""
    return sum(1 for a in state if a[0] == 'lift-at')


def h(state, task):
    return W_RELAXED_HADD * f_relaxed_hadd(state, task) + W_AGENT_DIST_LIFT_AT_ABOVE_D_SUM * f_agent_dist_lift_at_above_d_sum(state, task) + W_COUNT_LIFT_AT * f_count_lift_at(state, task)
