"""Ground a lifted task into a STRIPS :class:`~ahd.planners.task.Task` by relaxed reachability.

The reachable atoms and actions come from the relaxed-reachability fixpoint of
:mod:`ahd.planners.reachability` (actions are instantiated only when their positive
preconditions can all be reached, so the work follows the bindings that exist). This module
turns them into operators: each schema's operator builder is compiled into a small Python
function that maps a binding to fact ids.

Semantics kept exactly:

* types restrict parameters (checked as soon as a parameter is bound);
* ``(= ?x ?y)``, ``(not (= ?x ?y))`` and negated static atoms are decided at grounding;
* negated fluent atoms stay as negative preconditions (dropped when the atom can never be true);
* a delete of an atom the same action adds is dropped (add wins, as in PDDL);
* operators that cannot change any state (all adds already required, no deletes) are dropped.
* operators that cannot help reach the goal are dropped (relevance analysis, see ``_relevant``).

Orders are deterministic (sorted objects, schemas in name order, atoms in discovery order), so
fact and operator numbering, and with them search tie-breaking, never depend on string hashing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from .errors import PlanningInputError, SearchTimeout
from .lifted import EQUALITY, LiftedTask, Literal, Schema
from .reachability import CHECK_EVERY, Grounder
from .task import Task

__all__ = ["ground", "reachable_actions"]


def reachable_actions(lifted: LiftedTask) -> list[tuple[str, tuple[str, ...]]]:
    """Every relaxed-reachable ground action as ``(schema name, args)``, in discovery order.

    This is the grounder's raw output, before operators that can never apply or never change
    anything are dropped; useful to compare against other grounders.
    """
    _, actions = Grounder(lifted, None).reach()
    return [(lifted.schemas[a[0]].name, a[1:]) for a in actions]


def ground(lifted: LiftedTask, deadline: float | None = None, *,
           relevant_only: bool = True) -> Task:
    """Relaxed-reachable STRIPS grounding of ``lifted``.

    Parameters
    ----------
    lifted : LiftedTask
        Output of :func:`ahd.planners.pddl_io.read_task`.
    deadline : float, optional
        ``time.monotonic()`` value after which grounding stops with :class:`SearchTimeout`.
    relevant_only : bool
        Drop the operators that cannot help reach the goal (see ``_relevant``); ``False``
        keeps every reachable operator (for studying a task's whole state space, dead ends
        included).

    Returns
    -------
    Task
        Facts are the reachable fluent atoms; ``task.unsolvable`` is set when a goal atom is
        unreachable (the search then needs no expansion to answer "unsolvable").
    """
    t0 = time.perf_counter()
    g = Grounder(lifted, deadline)
    reached, actions = g.reach()
    atoms = list(reached)
    fid = {a: i for i, a in enumerate(atoms)}
    builders = [_op_builder(s, g.fluent_preds) for s in lifted.schemas]

    ops: list[tuple] = []  # (pre, neg, add, dele, schema, binding, cost)
    for i, act in enumerate(actions):
        if i % CHECK_EVERY == 0 and deadline is not None and time.monotonic() > deadline:
            raise SearchTimeout("time limit reached while grounding")
        si = act[0]
        binding = act[1:]
        pre, neg, add, dele = builders[si](binding, fid)
        if len(pre) > 1:
            pre = sorted(set(pre))
        if len(add) > 1:
            add = sorted(set(add))
        if neg:
            neg = sorted(set(neg))
            if not set(pre).isdisjoint(neg):
                continue  # requires an atom to be both true and false
        if dele:
            dele = sorted(set(dele).difference(add))
        if not dele and set(add).issubset(pre):
            continue  # changes nothing
        cost = _cost(lifted, si, binding) if lifted.use_costs else 1
        ops.append((pre, neg, add, dele, si, binding, cost))

    unsolvable = None
    goal, goal_neg = [], []
    for lit in lifted.goal:
        atom = (lit.predicate, *lit.args)
        if lit.predicate == EQUALITY:
            if (lit.args[0] == lit.args[1]) != lit.positive:
                unsolvable = f"goal {lit} is false"
        elif lit.predicate not in g.fluent_preds:
            if (atom in lifted.init) != lit.positive:
                unsolvable = f"static goal {lit} is false in every state"
        elif lit.positive:
            if atom in fid:
                goal.append(fid[atom])
            else:
                unsolvable = f"goal {lit} is unreachable"
        elif atom in fid:
            goal_neg.append(fid[atom])

    init = [fid[a] for a in sorted(lifted.init) if a in fid]
    relevant = (_relevant(ops, goal, goal_neg, len(atoms)) if relevant_only
                else range(len(ops)))

    def flat(k: int) -> tuple[np.ndarray, np.ndarray]:
        rows = [ops[o][k] for o in relevant]
        ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(r) for r in rows])
        return ptr, np.array([x for r in rows for x in r], dtype=np.int32)

    (pre_ptr, pre), (neg_ptr, neg), (add_ptr, add), (del_ptr, dele) = map(flat, range(4))
    task = Task(
        lifted=lifted,
        atoms=atoms,
        op_schema=np.array([ops[o][4] for o in relevant], dtype=np.int32),
        op_args=[ops[o][5] for o in relevant],
        pre_ptr=pre_ptr, pre=pre, neg_ptr=neg_ptr, neg=neg,
        add_ptr=add_ptr, add=add, del_ptr=del_ptr, dele=dele,
        cost=np.array([ops[o][6] for o in relevant], dtype=np.int64),
        init=np.array(init, dtype=np.int32),
        goal=np.array(sorted(set(goal)), dtype=np.int32),
        goal_neg=np.array(sorted(set(goal_neg)), dtype=np.int32),
        static_atoms=g.static_atoms,
        unsolvable=unsolvable,
    )
    task.stats.update(
        ground_time=time.perf_counter() - t0,
        reachable_actions=len(actions),
        operators=len(relevant),
        irrelevant_operators=len(ops) - len(relevant),
        facts=len(atoms),
    )
    return task


def _relevant(ops: list[tuple], goal: list[int], goal_neg: list[int],
              n_facts: int) -> list[int]:
    """Indices of the operators that can matter for reaching the goal (Fast Downward's
    relevance analysis, on facts).

    A fact is relevant true if the goal or a relevant operator's precondition needs it true,
    relevant false if one needs it false; an operator is relevant if it adds a fact relevant
    true or deletes one relevant false. Dropping the others keeps every plan: the remaining
    operators' preconditions and the goal only get easier without them (they never add a
    fact needed true nor delete one needed false), so a plan minus its irrelevant steps is
    still a plan, and no more expensive. States keep every fact, so any heuristic sees the
    same states; only successors that cannot help are gone (Rovers and Satellite lose a
    third of their operators and of their successors).
    """
    need_true = np.zeros(n_facts, dtype=bool)
    need_false = np.zeros(n_facts, dtype=bool)
    need_true[goal] = True
    need_false[goal_neg] = True
    adders: dict[int, list[int]] = {}
    deleters: dict[int, list[int]] = {}
    for o, (_, _, add, dele, *_rest) in enumerate(ops):
        for f in add:
            adders.setdefault(f, []).append(o)
        for f in dele:
            deleters.setdefault(f, []).append(o)
    keep = np.zeros(len(ops), dtype=bool)
    stack = [(f, True) for f in goal] + [(f, False) for f in goal_neg]
    while stack:
        f, true = stack.pop()
        for o in (adders if true else deleters).get(f, ()):
            if keep[o]:
                continue
            keep[o] = True
            pre, neg = ops[o][0], ops[o][1]
            for p in pre:
                if not need_true[p]:
                    need_true[p] = True
                    stack.append((p, True))
            for p in neg:
                if not need_false[p]:
                    need_false[p] = True
                    stack.append((p, False))
    return [o for o in range(len(ops)) if keep[o]]


def _op_builder(schema: Schema, fluent: set[str]) -> Callable[[tuple, dict], tuple]:
    """Compiled ``binding, fid -> (pre, neg, add, del)`` fact-id lists for one schema.

    Negative preconditions and deletes of atoms that are never reachable are left out
    (such an atom is always false). Lists may hold duplicates; the caller dedupes.
    """
    pidx = {p: i for i, p in enumerate(schema.params)}

    def atom(lit: Literal) -> str:
        parts = [repr(lit.predicate)]
        parts += [f"b[{pidx[a]}]" if a in pidx else repr(a) for a in lit.args]
        return "(" + ", ".join(parts) + ",)"

    pre = [atom(x) for x in schema.pre if x.positive and x.predicate in fluent]
    neg = [atom(x) for x in schema.pre if not x.positive and x.predicate in fluent]
    add = [atom(x) for x in schema.add]
    dele = [atom(x) for x in schema.delete]
    lines = [
        "def build(b, fid):",
        f"    pre = [{', '.join(f'fid[{a}]' for a in pre)}]",
        f"    add = [{', '.join(f'fid[{a}]' for a in add)}]",
        "    g = fid.get",
        f"    neg = [x for x in ({''.join(f'g({a}), ' for a in neg)}) if x is not None]",
        f"    dele = [x for x in ({''.join(f'g({a}), ' for a in dele)}) if x is not None]",
        "    return pre, neg, add, dele",
    ]
    ns: dict = {}
    exec(compile("\n".join(lines) + "\n", f"<build {schema.name}>", "exec"), ns)  # noqa: S102
    return ns["build"]


def _cost(lifted: LiftedTask, si: int, binding: tuple) -> int:
    """Integer cost of a ground action under a total-cost metric (else an input error)."""
    schema = lifted.schemas[si]
    try:
        c = lifted.action_cost(schema, dict(zip(schema.params, binding, strict=True)))
    except KeyError as exc:
        raise PlanningInputError(
            f"{lifted.problem_file}: action '{schema.name}': {exc.args[0]}"
        ) from None
    if c != int(c) or c < 0:
        raise PlanningInputError(
            f"{lifted.problem_file}: action '{schema.name}': cost {c} is not a "
            "non-negative integer (only integer action costs are supported)"
        )
    return int(c)
