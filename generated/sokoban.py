# --------------------------------------------------------------------------------------------------
# Exported by ahd evolve on 2026-12-08 02:22 UTC.
# Run: /tmp/evo2/plan-sokoban   Domain: sokoban   Candidate: 462   Round: 132
# Held-out tasks solved: 31/32 (goal count 31/32); limits 20000 expansions, 2 s per task
# ahd-search: eager
# Usage:
#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py
#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')
# --------------------------------------------------------------------------------------------------

"""Weighted sum of domain features (ahd offline planning proposer).

h = 1 * goals + 0.118 * relaxed(hff) + 0.295 * goal_dist(at,adjacent,u) + 0.0444 * agent_dist(at-robot,adjacent,u,sum) + 0.679 * misplaced(at)
"""
# ahd-terms: [["goals", 1.0], ["relaxed(hff)", 0.118], ["goal_dist(at,adjacent,u)", 0.295], ["agent_dist(at-robot,adjacent,u,sum)", 0.0444], ["misplaced(at)", 0.679]]
# ahd-features: {"goals": ["goals", [], []], "relaxed(hff)": ["relaxed", ["hff"], []], "goal_dist(at,adjacent,u)": ["goal_dist", ["at", "adjacent", "u"], [["edges", [["adjacent", 0, 1]]], ["carriers", []], ["unary", ["at-robot", "clear"]]]], "agent_dist(at-robot,adjacent,u,sum)": ["agent_dist", ["at-robot", "adjacent", "u", "sum"], [["edges", [["adjacent", 0, 1]]], ["mobile", null]]], "misplaced(at)": ["misplaced", ["at"], []]}

from ahd.planners.features import relaxed_plan_length

W_GOALS = 1.0
W_RELAXED_HFF = 0.118
W_GOAL_DIST_AT_ADJACENT_U = 0.295
W_AGENT_DIST_AT_ROBOT_ADJACENT_U_SUM = 0.0444
W_MISPLACED_AT = 0.679


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
        if a[0] in ('adjacent',):
            if a[0] == 'adjacent' and len(a) > 2:
                adj.setdefault(a[1], set()).add(a[2])
                adj.setdefault(a[2], set()).add(a[1])
    data["f_goal_dist_at_adjacent_u_adj"] = adj
    data["f_goal_dist_at_adjacent_u_memo"] = {}
    data["f_goal_dist_at_adjacent_u_far"] = len(adj) + 1
    data["f_goal_dist_at_adjacent_u_goals"] = [(g[1], g[2]) for g in task.goal if g[0] == 'at']
    adj = {}
    for a in task.static_facts:
        if a[0] in ('adjacent',):
            if a[0] == 'adjacent' and len(a) > 2:
                adj.setdefault(a[1], set()).add(a[2])
                adj.setdefault(a[2], set()).add(a[1])
    data["f_agent_dist_at_robot_adjacent_u_sum_adj"] = adj
    data["f_agent_dist_at_robot_adjacent_u_sum_memo"] = {}
    data["f_agent_dist_at_robot_adjacent_u_sum_far"] = len(adj) + 1
    nodes = set(data["f_agent_dist_at_robot_adjacent_u_sum_adj"])
    data["f_agent_dist_at_robot_adjacent_u_sum_nodes"] = nodes
    static_at = {}
    for a in task.static_facts:
        if len(a) == 3 and a[2] in nodes:
            static_at.setdefault(a[1], set()).add(a[2])
    data["f_agent_dist_at_robot_adjacent_u_sum_static"] = static_at
    data["f_agent_dist_at_robot_adjacent_u_sum_objs"] = {x for g in task.goal for x in g[1:]} - nodes
    data["f_misplaced_at"] = {g[1]: g for g in task.goal if g[0] == 'at'}


def f_goals(state, task):
    """goals"""
    return len(task.goal - state) + len(task.goal_negative & state)


def f_relaxed_hff(state, task):
    """relaxed(hff)"""
    return relaxed_plan_length(state, task)


def f_goal_dist_at_adjacent_u(state, task):
    """goal_dist(at,adjacent,u)"""
    data = task.data
    adj, memo, far = data["f_goal_dist_at_adjacent_u_adj"], data["f_goal_dist_at_adjacent_u_memo"], data["f_goal_dist_at_adjacent_u_far"]
    where, held, agent_at = {}, {}, None
    for a in state:
        if a[0] == 'at' and len(a) == 3:
            where[a[1]] = a[2]
        elif a[0] == 'at-robot' and len(a) == 2:
            agent_at = a[1]
        elif a[0] == 'clear' and len(a) == 2:
            agent_at = a[1]
    total = 0
    for obj, target in data["f_goal_dist_at_adjacent_u_goals"]:
        node = where.get(obj)
        if node == target:
            continue
        extra = 0
        if node is None and obj in held:
            carrier = held[obj]
            node = agent_at if carrier is None else where.get(carrier)
            extra = 1
        if node is None:
            total += 1
            continue
        total += _distances(adj, memo, node).get(target, far) + extra
    return total


def f_agent_dist_at_robot_adjacent_u_sum(state, task):
    """agent_dist(at-robot,adjacent,u,sum)"""
    data = task.data
    adj, memo, far = data["f_agent_dist_at_robot_adjacent_u_sum_adj"], data["f_agent_dist_at_robot_adjacent_u_sum_memo"], data["f_agent_dist_at_robot_adjacent_u_sum_far"]
    nodes, objs = data["f_agent_dist_at_robot_adjacent_u_sum_nodes"], data["f_agent_dist_at_robot_adjacent_u_sum_objs"]
    starts, placed = [], {}
    for a in state:
        if a[0] == 'at-robot' and len(a) == 2:
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
                targets.update(data["f_agent_dist_at_robot_adjacent_u_sum_static"].get(x, ()))
    if not targets:
        return 0
    tables = [_distances(adj, memo, s) for s in starts]
    best = [min(t.get(x, far) for t in tables) for x in targets]
    return sum(best)


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
    return W_GOALS * f_goals(state, task) + W_RELAXED_HFF * f_relaxed_hff(state, task) + W_GOAL_DIST_AT_ADJACENT_U * f_goal_dist_at_adjacent_u(state, task) + W_AGENT_DIST_AT_ROBOT_ADJACENT_U_SUM * f_agent_dist_at_robot_adjacent_u_sum(state, task) + W_MISPLACED_AT * f_misplaced_at(state, task)
