# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-03 18:24 UTC.
# Run: runs/plan-rovers   Domain: rovers   Candidate: 15   Round: 4
# Held-out tasks solved: 28/32 (goal count 25/32); limits 20000 expansions, 2 s per task
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.681 * goals + 1 * agent_dist(at,visible,u,min) + 1 * count(at_soil_sample,+)
"""
# ahd-terms: [["goals", 0.681], ["agent_dist(at,visible,u,min)", 1.0], ["count(at_soil_sample,+)", 1.0]]

W_GOALS = 0.681
W_AGENT_DIST_AT_VISIBLE_U_MIN = 1.0
W_COUNT_AT_SOIL_SAMPLE = 1.0


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
        if a[0] in ('visible',):
            if a[0] == 'visible' and len(a) > 2:
                adj.setdefault(a[1], set()).add(a[2])
                adj.setdefault(a[2], set()).add(a[1])
    data["f_agent_dist_at_visible_u_min_adj"] = adj
    data["f_agent_dist_at_visible_u_min_memo"] = {}
    data["f_agent_dist_at_visible_u_min_far"] = len(adj) + 1
    nodes = set(data["f_agent_dist_at_visible_u_min_adj"])
    data["f_agent_dist_at_visible_u_min_nodes"] = nodes
    static_at = {}
    for a in task.static_facts:
        if len(a) == 3 and a[2] in nodes:
            static_at.setdefault(a[1], set()).add(a[2])
    data["f_agent_dist_at_visible_u_min_static"] = static_at
    data["f_agent_dist_at_visible_u_min_objs"] = {x for g in task.goal for x in g[1:]} - nodes
    data["f_agent_dist_at_visible_u_min_agents"] = set(task.objects_of('rover'))


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_agent_dist_at_visible_u_min(state, task):
    """agent_dist(at,visible,u,min)"""
    data = task.data
    adj, memo, far = data["f_agent_dist_at_visible_u_min_adj"], data["f_agent_dist_at_visible_u_min_memo"], data["f_agent_dist_at_visible_u_min_far"]
    nodes, objs = data["f_agent_dist_at_visible_u_min_nodes"], data["f_agent_dist_at_visible_u_min_objs"]
    agents = data["f_agent_dist_at_visible_u_min_agents"]
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
                targets.update(data["f_agent_dist_at_visible_u_min_static"].get(x, ()))
    if not targets:
        return 0
    tables = [_distances(adj, memo, s) for s in starts]
    best = [min(t.get(x, far) for t in tables) for x in targets]
    return min(best)


def f_count_at_soil_sample(state, task):
    """count(at_soil_sample,+)"""
    return sum(1 for a in state if a[0] == 'at_soil_sample')


def h(state, task):
    return W_GOALS * f_goals(state, task) + W_AGENT_DIST_AT_VISIBLE_U_MIN * f_agent_dist_at_visible_u_min(state, task) + W_COUNT_AT_SOIL_SAMPLE * f_count_at_soil_sample(state, task)
