# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-07 11:33 UTC.
# Run: /tmp/evo/plan-floortile   Domain: floortile   Candidate: 46   Round: 13
# Held-out tasks solved: 7/32 (goal count 6/32); limits 20000 expansions, 2 s per task
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 0.0904 * goals + 0.0779 * agent_dist(robot-at,down|left|right|up,u,min) + 1 * relaxed(hadd)
"""
# ahd-terms: [["goals", 0.0904], ["agent_dist(robot-at,down|left|right|up,u,min)", 0.0779], ["relaxed(hadd)", 1.0]]
# ahd-features: {"goals": ["goals", [], []], "agent_dist(robot-at,down|left|right|up,u,min)": ["agent_dist", ["robot-at", "down|left|right|up", "u", "min"], [["edges", [["down", 0, 1], ["left", 0, 1], ["right", 0, 1], ["up", 0, 1]]], ["mobile", "robot"]]], "relaxed(hadd)": ["relaxed", ["hadd"], []]}

from ahd.planners.features import relaxed_cost

W_GOALS = 0.0904
W_AGENT_DIST_ROBOT_AT_DOWN_LEFT_RIGHT_UP_U_MIN = 0.0779
W_RELAXED_HADD = 1.0


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
        if a[0] in ('down', 'left', 'right', 'up'):
            if a[0] == 'down' and len(a) > 2:
                adj.setdefault(a[1], set()).add(a[2])
                adj.setdefault(a[2], set()).add(a[1])
            if a[0] == 'left' and len(a) > 2:
                adj.setdefault(a[1], set()).add(a[2])
                adj.setdefault(a[2], set()).add(a[1])
            if a[0] == 'right' and len(a) > 2:
                adj.setdefault(a[1], set()).add(a[2])
                adj.setdefault(a[2], set()).add(a[1])
            if a[0] == 'up' and len(a) > 2:
                adj.setdefault(a[1], set()).add(a[2])
                adj.setdefault(a[2], set()).add(a[1])
    data["f_agent_dist_robot_at_down_left_right_up_u_min_adj"] = adj
    data["f_agent_dist_robot_at_down_left_right_up_u_min_memo"] = {}
    data["f_agent_dist_robot_at_down_left_right_up_u_min_far"] = len(adj) + 1
    nodes = set(data["f_agent_dist_robot_at_down_left_right_up_u_min_adj"])
    data["f_agent_dist_robot_at_down_left_right_up_u_min_nodes"] = nodes
    static_at = {}
    for a in task.static_facts:
        if len(a) == 3 and a[2] in nodes:
            static_at.setdefault(a[1], set()).add(a[2])
    data["f_agent_dist_robot_at_down_left_right_up_u_min_static"] = static_at
    data["f_agent_dist_robot_at_down_left_right_up_u_min_objs"] = {x for g in task.goal for x in g[1:]} - nodes
    data["f_agent_dist_robot_at_down_left_right_up_u_min_agents"] = set(task.objects_of('robot'))


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_agent_dist_robot_at_down_left_right_up_u_min(state, task):
    """agent_dist(robot-at,down|left|right|up,u,min)"""
    data = task.data
    adj, memo, far = data["f_agent_dist_robot_at_down_left_right_up_u_min_adj"], data["f_agent_dist_robot_at_down_left_right_up_u_min_memo"], data["f_agent_dist_robot_at_down_left_right_up_u_min_far"]
    nodes, objs = data["f_agent_dist_robot_at_down_left_right_up_u_min_nodes"], data["f_agent_dist_robot_at_down_left_right_up_u_min_objs"]
    agents = data["f_agent_dist_robot_at_down_left_right_up_u_min_agents"]
    starts, placed = [], {}
    for a in state:
        if a[0] == 'robot-at' and len(a) == 3 and a[1] in agents:
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
                targets.update(data["f_agent_dist_robot_at_down_left_right_up_u_min_static"].get(x, ()))
    if not targets:
        return 0
    tables = [_distances(adj, memo, s) for s in starts]
    best = [min(t.get(x, far) for t in tables) for x in targets]
    return min(best)


def f_relaxed_hadd(state, task):
    """relaxed(hadd)"""
    return relaxed_cost(state, task)


def h(state, task):
    return W_GOALS * f_goals(state, task) + W_AGENT_DIST_ROBOT_AT_DOWN_LEFT_RIGHT_UP_U_MIN * f_agent_dist_robot_at_down_left_right_up_u_min(state, task) + W_RELAXED_HADD * f_relaxed_hadd(state, task)
