"""Writing a heuristic in plain Python for ``ahd.planners``.

This module's docstring is the complete contract for heuristic authors (human or LLM); it
assumes no knowledge of the planner's internals.

What to write
-------------
A Python file (a module) that defines::

    def h(state, task):          # required
        ...                      # return an estimate of the cost to reach the goal

    def init(task):              # optional: called once per task, before the first h()
        task.data["..."] = ...   # precompute whatever h needs

The planner runs greedy best-first search: it always expands the state with the smallest
``h`` (ties: the state generated first). ``h`` is called once for every new state, possibly
hundreds of thousands of times, so it must be fast: do per-task work in ``init``.

Return value
------------
An ``int`` or ``float`` >= 0 that estimates the number of actions (all actions cost 1 in the
IPC learning-track domains) still needed. Return ``0`` for goal states, and ``float('inf')``
only for states from which the goal is certainly unreachable (they are discarded). Anything
else (``None``, a string, NaN) or an exception stops the search with status ``"error"``.

``state``
---------
A ``frozenset`` of the atoms true in the state. An atom is a tuple of lower-case strings:
the predicate name followed by its arguments, e.g. ``('on', 'a', 'b')``, ``('handempty',)``,
``('at', 'truck1', 'loc3')``. Only atoms that can change are included; atoms that hold in every
state (e.g. ``('adjacent', 'loc_1_1', 'loc_1_2', 'right')``) are in ``task.static_facts``.
Everything not in ``state`` (or in ``task.static_facts``) is false. Do not modify ``state``.

``task``
--------
One object per planning task, shared by every call:

``task.goal``
    ``frozenset`` of atoms that must be true in a goal state (goal atoms that never change
    are left out, since they already hold). A state is a goal state iff
    ``task.goal <= state`` and no atom of ``task.goal_negative`` is in ``state``.
``task.goal_negative``
    ``frozenset`` of atoms that must be false at the goal (empty in most domains).
``task.init``
    The initial state (same representation as ``state``).
``task.static_facts``
    ``frozenset`` of atoms true in every state (road maps, adjacency, types of objects...).
``task.facts``
    ``frozenset`` of every atom that can ever be true in a state of this task.
``task.objects``
    ``dict`` object name -> its type, e.g. ``{'a': 'block', 'truck1': 'truck'}``
    (``'object'`` when the domain is untyped).
``task.types``
    ``dict`` type -> its supertype (``'object'`` -> ``None``).
``task.objects_of(type_name)``
    ``tuple`` of the objects of that type or any subtype, sorted by name.
``task.predicates``
    ``dict`` predicate name -> tuple of its parameter types.
``task.actions``
    ``dict`` action name -> :class:`ActionSchema` with ``parameters`` (tuple of
    ``(variable, type)``), ``precondition`` (tuple of PDDL literals as strings, e.g.
    ``'(on ?x ?y)'``, ``'(not (= ?x ?y))'``), ``add_effects`` and ``del_effects`` (tuples of
    the atoms added / deleted, e.g. ``'(clear ?y)'``).
``task.operators``
    ``list`` of every ground action that the planner considers (built on first access, may be
    large): :class:`Operator` with ``name`` (``'(move a b c)'``), ``preconditions``,
    ``negative_preconditions``, ``add_effects``, ``del_effects`` (``frozenset`` of atoms)
    and ``cost``.
``task.is_goal(state)``
    ``True`` iff ``state`` satisfies the goal.
``task.name``, ``task.domain_name``
    Problem and domain names.
``task.data``
    A ``dict`` for your own precomputed data (filled in ``init``).

Example
-------
::

    def init(task):
        # goal position of every block, for quick lookups
        task.data["goal_on"] = {g[1]: g[2] for g in task.goal if g[0] == "on"}

    def h(state, task):
        goal_on = task.data["goal_on"]
        misplaced = 0
        for atom in state:
            if atom[0] == "on" and goal_on.get(atom[1]) != atom[2]:
                misplaced += 1
        unmet = len(task.goal - state)
        return unmet + misplaced

Pitfalls
--------
* Atoms are tuples of strings, never strings like ``'(on a b)'``; names are lower-case.
* Static atoms are not in ``state``: look them up in ``task.static_facts``.
* Return ``0`` at goal states; a heuristic that is never ``0`` still works but searches blind
  near the goal.
* Avoid returning ``float('inf')`` unless you are sure: it prunes the state.
* Do not keep per-state data in ``task.data`` between calls (memory grows without bound).

Speed
-----
A heuristic written this way runs as Python: each state costs a ``frozenset`` and the calls,
several times a compiled heuristic's cost. The built-ins and the weighted feature sums the
offline proposer renders run compiled (:mod:`ahd.planners.heuristics.genome`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..lifted import EQUALITY, ROOT_TYPE, Atom, Literal

if TYPE_CHECKING:
    from ..task import Task


@dataclass(frozen=True)
class ActionSchema:
    """A lifted action as written in the domain file (literals as PDDL strings)."""

    name: str
    parameters: tuple[tuple[str, str], ...]
    precondition: tuple[str, ...]
    add_effects: tuple[str, ...]
    del_effects: tuple[str, ...]


@dataclass(frozen=True)
class Operator:
    """A ground action: applicable iff ``preconditions <= state`` and no negative one holds."""

    name: str
    preconditions: frozenset[Atom]
    negative_preconditions: frozenset[Atom]
    add_effects: frozenset[Atom]
    del_effects: frozenset[Atom]
    cost: int = 1

    def applicable(self, state: frozenset[Atom]) -> bool:
        return self.preconditions <= state and not (self.negative_preconditions & state)

    def apply(self, state: frozenset[Atom]) -> frozenset[Atom]:
        return (state - self.del_effects) | self.add_effects


@dataclass(eq=False)
class HeuristicTask:
    """The task as a Python heuristic sees it (see the module docstring for the contract)."""

    name: str
    domain_name: str
    goal: frozenset[Atom]
    goal_negative: frozenset[Atom]
    init: frozenset[Atom]
    static_facts: frozenset[Atom]
    facts: frozenset[Atom]
    objects: dict[str, str]
    types: dict[str, str | None]
    predicates: dict[str, tuple[str, ...]]
    actions: dict[str, ActionSchema]
    data: dict[str, Any] = field(default_factory=dict)
    _task: Any = field(default=None, repr=False)
    _objects_of: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    @property
    def ground_task(self) -> Task:
        """The ground STRIPS task this view was built from (for the planner's compiled
        helpers, such as :func:`ahd.planners.features.relaxed_plan_length`)."""
        return self._task

    def objects_of(self, type_name: str) -> tuple[str, ...]:
        """Objects of ``type_name`` or of any of its subtypes, sorted."""
        return self._objects_of.get(type_name.lower(), ())

    def is_goal(self, state: frozenset[Atom]) -> bool:
        return self.goal <= state and not (self.goal_negative & state)

    @cached_property
    def operators(self) -> list[Operator]:
        task = self._task
        atoms = task.atoms
        ops = []
        for o in range(task.n_ops):
            facts = task.op_facts(o)
            ops.append(Operator(
                name=task.op_name(o),
                preconditions=frozenset(atoms[f] for f in facts["pre"]),
                negative_preconditions=frozenset(atoms[f] for f in facts["neg"]),
                add_effects=frozenset(atoms[f] for f in facts["add"]),
                del_effects=frozenset(atoms[f] for f in facts["del"]),
                cost=int(task.cost[o]),
            ))
        return ops


def heuristic_task(task: Task) -> HeuristicTask:
    """Build the Python heuristics' view of a ground task."""
    lifted = task.lifted
    atoms = task.atoms
    actions = {}
    for s in lifted.schemas:
        actions[s.name] = ActionSchema(
            name=s.name,
            parameters=tuple(zip(s.params, (t[0] for t in s.param_types), strict=True)),
            precondition=tuple(str(lit) for lit in s.pre),
            add_effects=tuple(str(lit) for lit in s.add),
            del_effects=tuple(str(Literal(lit.predicate, lit.args)) for lit in s.delete),
        )
    goal = frozenset(
        (lit.predicate, *lit.args) for lit in lifted.goal
        if lit.positive and lit.predicate != EQUALITY
        and (lit.predicate, *lit.args) not in task.static_atoms
    )
    goal_negative = frozenset(atoms[f] for f in task.goal_neg.tolist())
    return HeuristicTask(
        name=lifted.problem_name,
        domain_name=lifted.domain_name,
        goal=goal,
        goal_negative=goal_negative,
        init=frozenset(atoms[f] for f in task.init.tolist()),
        static_facts=task.static_atoms,
        facts=frozenset(atoms),
        objects={o: ts[0] for o, ts in lifted.objects.items()},
        types={t: (None if t == ROOT_TYPE else p) for t, p in lifted.types.items()},
        predicates=dict(lifted.predicates),
        actions=actions,
        _task=task,
        _objects_of=lifted.objects_of_type(),
    )
