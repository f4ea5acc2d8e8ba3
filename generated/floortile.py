# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-08 02:02 UTC.
# Run: /tmp/evo2/plan-floortile   Domain: floortile   Candidate: 26   Round: 7
# Held-out tasks solved: 9/32 (goal count 5/32); limits 20000 expansions, 2 s per task
# ahd-search: eager
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 1 * relaxed(hff) + 0.725 * agent_dist(robot-at,down|left|right|up,u,sum)
"""
# ahd-terms: [["relaxed(hff)", 1.0], ["agent_dist(robot-at,down|left|right|up,u,sum)", 0.725]]
# ahd-features: {"relaxed(hff)": ["relaxed", ["hff"], []], "agent_dist(robot-at,down|left|right|up,u,sum)": ["agent_dist", ["robot-at", "down|left|right|up", "u", "sum"], [["edges", [["down", 0, 1], ["left", 0, 1], ["right", 0, 1], ["up", 0, 1]]], ["mobile", "robot"]]]}

from ahd.planners.features import relaxed_plan_length

W_RELAXED_HFF = 1.0
W_AGENT_DIST_ROBOT_AT_DOWN_LEFT_RIGHT_UP_U_SUM = 0.725


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
    data["f_agent_dist_robot_at_down_left_right_up_u_sum_adj"] = adj
    data["f_agent_dist_robot_at_down_left_right_up_u_sum_memo"] = {}
    data["f_agent_dist_robot_at_down_left_right_up_u_sum_far"] = len(adj) + 1
    nodes = set(data["f_agent_dist_robot_at_down_left_right_up_u_sum_adj"])
    data["f_agent_dist_robot_at_down_left_right_up_u_sum_nodes"] = nodes
    static_at = {}
    for a in task.static_facts:
        if len(a) == 3 and a[2] in nodes:
            static_at.setdefault(a[1], set()).add(a[2])
    data["f_agent_dist_robot_at_down_left_right_up_u_sum_static"] = static_at
    data["f_agent_dist_robot_at_down_left_right_up_u_sum_objs"] = {x for g in task.goal for x in g[1:]} - nodes
    data["f_agent_dist_robot_at_down_left_right_up_u_sum_agents"] = set(task.objects_of('robot'))


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_agent_dist_robot_at_down_left_right_up_u_sum(state, task):
    """agent_dist(robot-at,down|left|right|up,u,sum)"""
    data = task.data
    adj, memo, far = data["f_agent_dist_robot_at_down_left_right_up_u_sum_adj"], data["f_agent_dist_robot_at_down_left_right_up_u_sum_memo"], data["f_agent_dist_robot_at_down_left_right_up_u_sum_far"]
    nodes, objs = data["f_agent_dist_robot_at_down_left_right_up_u_sum_nodes"], data["f_agent_dist_robot_at_down_left_right_up_u_sum_objs"]
    agents = data["f_agent_dist_robot_at_down_left_right_up_u_sum_agents"]
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
                targets.update(data["f_agent_dist_robot_at_down_left_right_up_u_sum_static"].get(x, ()))
    if not targets:
        return 0
    tables = [_distances(adj, memo, s) for s in starts]
    best = [min(t.get(x, far) for t in tables) for x in targets]
    return sum(best)


def h(state, task):
    return W_RELAXED_HFF * f_relaxed_hff(state, task) + W_AGENT_DIST_ROBOT_AT_DOWN_LEFT_RIGHT_UP_U_SUM * f_agent_dist_robot_at_down_left_right_up_u_sum(state, task)
