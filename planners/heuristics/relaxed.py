"""Delete-relaxation heuristics h_max, h_add and h_FF, compiled.

One generalised Dijkstra over facts (Bonet & Geffner's h_add/h_max; Hoffmann & Nebel's h_FF
extracts a relaxed plan from h_add's best supporters, as Fast Downward does). Each operator
keeps a counter of unreached preconditions; when it drops to zero the operator fires with cost
``max`` (h_max) or ``sum`` (h_add) of its precondition costs plus its own cost. Negative
preconditions are ignored, as usual for the delete relaxation. The exploration stops as soon
as every goal fact is settled.

Among supporters of equal cost, the one with more add effects wins: it does more of the
relaxed plan's work. Where one way of making a thing also makes a second thing the plan needs
(Childsnack's gluten-free sandwich is a sandwich too), the first-come supporter would put
both ways in the relaxed plan, and the lesser one, often a dead end (a plain sandwich from
the only gluten-free bread), among the helpful actions. On testing/easy of the IPC 2023
learning track this took lazy h_FF search with preferred operators from 22 to 26 Childsnack
tasks, with the same expansions elsewhere.

Among supporters that still tie, the lowest operator number wins, not the first to fire. The
order in which equal-cost facts leave the heap is arbitrary, and first-come let each goal pick
its own object: with three trays, each at one child's table, the relaxed plan made a sandwich
per tray (h_FF 9 where one sandwich on every tray gives 7), and its helpful actions started
three sandwiches at once. Operator numbers are fixed for the task (the grounder's discovery
order), so the rule picks the same object for every goal it can serve, and the same one from
state to state.

Scratch arrays (one set per task, reused for every evaluation) come from :func:`scratch`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..state import ADD, ADD_PTR, COST, FPRE_OPS, FPRE_PTR, GOAL, PRE, PRE_PTR, has, op_applicable

HMAX, HADD, HFF = 0, 1, 2

#: "Unreached" fact cost (large but safe to add op costs to).
UNREACHED = np.int64(1) << np.int64(60)

# indices into the scratch tuple
(S_COST, S_CLOSED, S_SUPP, S_UNSAT, S_VAL, S_HKEY, S_HVAL, S_MARK, S_STACK,
 S_GOALMARK, S_MARKED, S_MINCOST, S_NPLAN) = range(13)


def scratch(task: object, empty: bool = False, genome: tuple | None = None) -> tuple:
    """Per-task work arrays for the relaxed heuristics (tiny dummies when ``empty``).

    The seven slots after them hold a compiled genome's tables (``genome``, from
    :func:`ahd.planners.heuristics.genome.genome_tables`), or one-element placeholders, so
    every search passes a tuple of one type and the kernel compiles once.
    """
    nf = 1 if empty else max(1, task.n_facts)  # type: ignore[attr-defined]
    no = 1 if empty else max(1, task.n_ops)  # type: ignore[attr-defined]
    nadd = 1 if empty else int(task.add.shape[0])  # type: ignore[attr-defined]
    goal_mark = np.zeros(nf, dtype=np.uint8)
    if not empty:
        goal_mark[task.goal] = 1  # type: ignore[attr-defined]
    costs = task.cost  # type: ignore[attr-defined]
    min_cost = np.array([int(costs.min()) if costs.shape[0] else 1], dtype=np.int64)
    return (
        np.empty(nf, dtype=np.int64),  # fact cost
        np.empty(nf, dtype=np.uint8),  # settled
        np.empty(nf, dtype=np.int32),  # best supporter
        np.empty(no, dtype=np.int32),  # unreached preconditions
        np.empty(no, dtype=np.int64),  # accumulated precondition cost
        np.empty(nf + nadd + 1, dtype=np.int64),  # heap keys
        np.empty(nf + nadd + 1, dtype=np.int32),  # heap facts
        np.zeros(no, dtype=np.uint8),  # op in relaxed plan
        np.empty(nf + 1, dtype=np.int32),  # stack
        goal_mark,
        np.empty(no, dtype=np.int32),  # marked op list: the last relaxed plan's operators
        min_cost,
        np.zeros(1, dtype=np.int64),  # how many operators that relaxed plan has
    ) + (genome if genome is not None else _NO_GENOME)


_NO_GENOME = (
    np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64), np.zeros(1, dtype=np.int64),
    np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int32), np.zeros(1, dtype=np.uint8),
    np.zeros(4, dtype=np.int64),
)


@njit(cache=True, _nrt=False, inline="always")
def _push(keys: np.ndarray, vals: np.ndarray, n: int, key: int, val: int) -> int:
    i = n
    keys[i] = key
    vals[i] = val
    while i > 0:
        p = (i - 1) >> 1
        if keys[p] <= keys[i]:
            break
        keys[p], keys[i] = keys[i], keys[p]
        vals[p], vals[i] = vals[i], vals[p]
        i = p
    return n + 1


@njit(cache=True, _nrt=False, inline="always")
def _pop(keys: np.ndarray, vals: np.ndarray, n: int) -> int:
    """Remove the minimum (moved to index ``n - 1``); return the new size."""
    n -= 1
    keys[0], keys[n] = keys[n], keys[0]
    vals[0], vals[n] = vals[n], vals[0]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and keys[c + 1] < keys[c]:
            c += 1
        if keys[i] <= keys[c]:
            break
        keys[c], keys[i] = keys[i], keys[c]
        vals[c], vals[i] = vals[i], vals[c]
        i = c
    return n


@njit(cache=True, _nrt=False)
def explore(bits: np.ndarray, T: tuple, S: tuple, mode: int) -> float:
    """h_max, h_add or h_FF (``mode``) of the packed state ``bits``; ``inf`` if unreachable."""
    pre_ptr, add_ptr, add, cost = T[PRE_PTR], T[ADD_PTR], T[ADD], T[COST]
    fpre_ptr, fpre_ops, goal = T[FPRE_PTR], T[FPRE_OPS], T[GOAL]
    fcost, closed, supp, unsat, val = S[S_COST], S[S_CLOSED], S[S_SUPP], S[S_UNSAT], S[S_VAL]
    hkey, hval, goal_mark = S[S_HKEY], S[S_HVAL], S[S_GOALMARK]
    n_facts = fpre_ptr.shape[0] - 1
    n_ops = pre_ptr.shape[0] - 1
    n_goals = goal.shape[0]
    S[S_NPLAN][0] = 0  # no relaxed plan (helpful actions) unless h_FF extracts one below
    if n_goals == 0:
        return 0.0
    n = 0
    for f in range(n_facts):
        closed[f] = 0
        supp[f] = -1
        if has(bits, f):
            fcost[f] = 0
            n = _push(hkey, hval, n, 0, f)
        else:
            fcost[f] = UNREACHED
    for o in range(n_ops):
        k = pre_ptr[o + 1] - pre_ptr[o]
        unsat[o] = k
        val[o] = 0
        if k == 0:  # fires immediately
            c = cost[o]
            for j in range(add_ptr[o], add_ptr[o + 1]):
                g = add[j]
                if c < fcost[g]:
                    fcost[g] = c
                    supp[g] = o
                    n = _push(hkey, hval, n, c, g)
    left = n_goals
    while n > 0:
        n = _pop(hkey, hval, n)
        c = hkey[n]
        f = hval[n]
        if closed[f] or c > fcost[f]:
            continue
        closed[f] = 1
        if goal_mark[f]:
            left -= 1
            if left == 0:
                break
        for j in range(fpre_ptr[f], fpre_ptr[f + 1]):
            o = fpre_ops[j]
            if mode == HMAX:
                val[o] = c  # settled in cost order: the last precondition is the max
            else:
                val[o] += c
            unsat[o] -= 1
            if unsat[o] == 0:
                oc = val[o] + cost[o]
                for a in range(add_ptr[o], add_ptr[o + 1]):
                    g = add[a]
                    if oc < fcost[g]:
                        fcost[g] = oc
                        supp[g] = o
                        n = _push(hkey, hval, n, oc, g)
                    elif oc == fcost[g]:  # ties: more adds, then the lower number wins
                        na = add_ptr[o + 1] - add_ptr[o]
                        nb = add_ptr[supp[g] + 1] - add_ptr[supp[g]]
                        if na > nb or (na == nb and o < supp[g]):
                            supp[g] = o
    if left > 0:
        return np.inf
    if mode == HMAX:
        h = 0
        for i in range(n_goals):
            h = max(h, fcost[goal[i]])
        return float(h)
    if mode == HADD:
        h = 0
        for i in range(n_goals):
            h += fcost[goal[i]]
        return float(h)
    return float(_relaxed_plan_cost(T, S))


@njit(cache=True, _nrt=False)
def _relaxed_plan_cost(T: tuple, S: tuple) -> int:
    """Cost of the relaxed plan read off the best supporters (each operator counted once)."""
    pre_ptr, pre, cost, goal = T[PRE_PTR], T[PRE], T[COST], T[GOAL]
    fcost, supp, mark, stack, marked = S[S_COST], S[S_SUPP], S[S_MARK], S[S_STACK], S[S_MARKED]
    closed = S[S_CLOSED]  # reused as "already pushed" marks: 1 = settled, 2 = visited
    top = 0
    n_marked = 0
    h = 0
    for i in range(goal.shape[0]):
        g = goal[i]
        if fcost[g] > 0 and closed[g] != 2:
            closed[g] = 2
            stack[top] = g
            top += 1
    while top > 0:
        top -= 1
        f = stack[top]
        o = supp[f]
        if o < 0 or mark[o]:
            continue
        mark[o] = 1
        marked[n_marked] = o
        n_marked += 1
        h += cost[o]
        for j in range(pre_ptr[o], pre_ptr[o + 1]):
            p = pre[j]
            if fcost[p] > 0 and closed[p] != 2:
                closed[p] = 2
                stack[top] = p
                top += 1
    for i in range(n_marked):
        mark[marked[i]] = 0
    S[S_NPLAN][0] = n_marked
    return h


@njit(cache=True, _nrt=False)
def mark_helpful(bits: np.ndarray, T: tuple, S: tuple) -> int:
    """Set ``S[S_MARK][o] = 1`` for the helpful actions of the state h_FF last evaluated
    (``bits``): the operators of its relaxed plan that are applicable there (Hoffmann &
    Nebel; Fast Downward's preferred operators of ``ff()``). Returns how many; clear them
    with :func:`clear_helpful`."""
    marked, mark = S[S_MARKED], S[S_MARK]
    k = 0
    for i in range(S[S_NPLAN][0]):
        o = marked[i]
        if op_applicable(bits, T, o):
            mark[o] = 1
            k += 1
    return k


@njit(cache=True, _nrt=False)
def clear_helpful(S: tuple) -> None:
    marked, mark = S[S_MARKED], S[S_MARK]
    for i in range(S[S_NPLAN][0]):
        mark[marked[i]] = 0
