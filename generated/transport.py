# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-07 12:05 UTC.
# Run: /tmp/evo/plan-transport   Domain: transport   Candidate: 100   Round: 28
# Held-out tasks solved: 32/32 (goal count 21/32); limits 20000 expansions, 2 s per task
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.0683 * goals + 0.0643 * relaxed(hff) + 0.154 * relaxed(hadd) + 0.188 * count(in,-) + 0.107 * agent_dist(at,road,u,sum) + 1 * agent_dist(at,road,u,min)
"""
# ahd-terms: [["goals", 0.0683], ["relaxed(hff)", 0.0643], ["relaxed(hadd)", 0.154], ["count(in,-)", 0.188], ["agent_dist(at,road,u,sum)", 0.107], ["agent_dist(at,road,u,min)", 1.0]]
# ahd-features: {"goals": ["goals", [], []], "relaxed(hff)": ["relaxed", ["hff"], []], "relaxed(hadd)": ["relaxed", ["hadd"], []], "count(in,-)": ["count", ["in", "-"], []], "agent_dist(at,road,u,sum)": ["agent_dist", ["at", "road", "u", "sum"], [["edges", [["road", 0, 1]]], ["mobile", "vehicle"]]], "agent_dist(at,road,u,min)": ["agent_dist", ["at", "road", "u", "min"], [["edges", [["road", 0, 1]]], ["mobile", "vehicle"]]]}

from ahd.planners.features import relaxed_cost, relaxed_plan_length

W_GOALS = 0.0683
W_RELAXED_HFF = 0.0643
W_RELAXED_HADD = 0.154
W_COUNT_IN = 0.188
W_AGENT_DIST_AT_ROAD_U_SUM = 0.107
W_AGENT_DIST_AT_ROAD_U_MIN = 1.0


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
    data["f_count_in"] = sum(1 for a in task.facts if a[0] == 'in')
    adj = {}
    for a in task.static_facts:
        if a[0] in ('road',):
            if a[0] == 'road' and len(a) > 2:
                adj.setdefault(a[1], set()).add(a[2])
                adj.setdefault(a[2], set()).add(a[1])
    data["f_agent_dist_at_road_u_sum_adj"] = adj
    data["f_agent_dist_at_road_u_sum_memo"] = {}
    data["f_agent_dist_at_road_u_sum_far"] = len(adj) + 1
    nodes = set(data["f_agent_dist_at_road_u_sum_adj"])
    data["f_agent_dist_at_road_u_sum_nodes"] = nodes
    static_at = {}
    for a in task.static_facts:
        if len(a) == 3 and a[2] in nodes:
            static_at.setdefault(a[1], set()).add(a[2])
    data["f_agent_dist_at_road_u_sum_static"] = static_at
    data["f_agent_dist_at_road_u_sum_objs"] = {x for g in task.goal for x in g[1:]} - nodes
    data["f_agent_dist_at_road_u_sum_agents"] = set(task.objects_of('vehicle'))
    adj = {}
    for a in task.static_facts:
        if a[0] in ('road',):
            if a[0] == 'road' and len(a) > 2:
                adj.setdefault(a[1], set()).add(a[2])
                adj.setdefault(a[2], set()).add(a[1])
    data["f_agent_dist_at_road_u_min_adj"] = adj
    data["f_agent_dist_at_road_u_min_memo"] = {}
    data["f_agent_dist_at_road_u_min_far"] = len(adj) + 1
    nodes = set(data["f_agent_dist_at_road_u_min_adj"])
    data["f_agent_dist_at_road_u_min_nodes"] = nodes
    static_at = {}
    for a in task.static_facts:
        if len(a) == 3 and a[2] in nodes:
            static_at.setdefault(a[1], set()).add(a[2])
    data["f_agent_dist_at_road_u_min_static"] = static_at
    data["f_agent_dist_at_road_u_min_objs"] = {x for g in task.goal for x in g[1:]} - nodes
    data["f_agent_dist_at_road_u_min_agents"] = set(task.objects_of('vehicle'))


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_relaxed_hadd(state, task):
    """relaxed(hadd)"""
    return relaxed_cost(state, task)


def f_count_in(state, task):
    """count(in,-)"""
    return task.data["f_count_in"] - sum(1 for a in state if a[0] == 'in')


def f_agent_dist_at_road_u_sum(state, task):
    """agent_dist(at,road,u,sum)"""
    data = task.data
    adj, memo, far = data["f_agent_dist_at_road_u_sum_adj"], data["f_agent_dist_at_road_u_sum_memo"], data["f_agent_dist_at_road_u_sum_far"]
    nodes, objs = data["f_agent_dist_at_road_u_sum_nodes"], data["f_agent_dist_at_road_u_sum_objs"]
    agents = data["f_agent_dist_at_road_u_sum_agents"]
    starts, placed = [], {}
    for a in state:
        if a[0] == 'at' and len(a) == 3 and a[1] in agents:
            starts.append(a[2])
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
                targets.update(data["f_agent_dist_at_road_u_sum_static"].get(x, ()))
    if not targets:
        return 0
    tables = [_distances(adj, memo, s) for s in starts]
    best = [min(t.get(x, far) for t in tables) for x in targets]
    return sum(best)


def f_agent_dist_at_road_u_min(state, task):
    """agent_dist(at,road,u,min)"""
    data = task.data
    adj, memo, far = data["f_agent_dist_at_road_u_min_adj"], data["f_agent_dist_at_road_u_min_memo"], data["f_agent_dist_at_road_u_min_far"]
    nodes, objs = data["f_agent_dist_at_road_u_min_nodes"], data["f_agent_dist_at_road_u_min_objs"]
    agents = data["f_agent_dist_at_road_u_min_agents"]
    starts, placed = [], {}
    for a in state:
        if a[0] == 'at' and len(a) == 3 and a[1] in agents:
            starts.append(a[2])
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
                targets.update(data["f_agent_dist_at_road_u_min_static"].get(x, ()))
    if not targets:
        return 0
    tables = [_distances(adj, memo, s) for s in starts]
    best = [min(t.get(x, far) for t in tables) for x in targets]
    return min(best)


def h(state, task):
    return W_GOALS * f_goals(state, task) + W_RELAXED_HFF * f_relaxed_hff(state, task) + W_RELAXED_HADD * f_relaxed_hadd(state, task) + W_COUNT_IN * f_count_in(state, task) + W_AGENT_DIST_AT_ROAD_U_SUM * f_agent_dist_at_road_u_sum(state, task) + W_AGENT_DIST_AT_ROAD_U_MIN * f_agent_dist_at_road_u_min(state, task)
