"""Plans: checking them on the lifted task, and reading/writing the IPC plan format.

:func:`simulate` is the trusted check. It works on the *lifted* task (schemas, objects, the
initial state and goal as parsed), not on the grounder's output, so a grounding bug cannot
make a wrong plan look valid: each step's action is looked up by name, its arguments are
type-checked, its precondition (including negative literals and equality, with static atoms)
is evaluated on the full state, and its effects are applied with PDDL semantics (deletes
first, then adds).

IPC plan format: one ``(action arg1 arg2)`` per line, optional ``;`` comment lines, and by
convention a last line ``; cost = N (unit cost)`` (or ``(general cost)``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .errors import InvalidPlan
from .lifted import EQUALITY, Atom, LiftedTask, Literal
from .task import Task


def parse_action(text: str) -> tuple[str, tuple[str, ...]]:
    """``'(move a b)'`` or ``'move a b'`` -> ``('move', ('a', 'b'))`` (lower-cased)."""
    s = text.strip()
    if s.startswith("(") and s.endswith(")"):
        s = s[1:-1]
    parts = s.lower().split()
    if not parts:
        raise ValueError(f"empty action {text!r}")
    return parts[0], tuple(parts[1:])


def _holds(lit: Literal, binding: dict[str, str], state: set[Atom] | frozenset[Atom]) -> bool:
    if lit.predicate == EQUALITY:
        a, b = (binding.get(x, x) for x in lit.args)
        return (a == b) == lit.positive
    return (lit.ground(binding) in state) == lit.positive


def simulate(task: Task | LiftedTask, plan: Iterable[str]) -> float:
    """Execute ``plan`` from the initial state and return its cost.

    Parameters
    ----------
    task : Task or LiftedTask
        A ground task (its ``lifted`` task is used) or the lifted task itself.
    plan : iterable of str
        Action strings, ``'(name arg ...)'``.

    Returns
    -------
    float
        Sum of action costs (the plan length for unit-cost tasks).

    Raises
    ------
    InvalidPlan
        With ``step`` set (1-based) for an unknown action, wrong arguments or an unsatisfied
        precondition, and ``step=None`` when the goal does not hold after the last step.
    """
    lifted = task.lifted if isinstance(task, Task) else task
    schemas = {s.name: s for s in lifted.schemas}
    subtypes = lifted.subtypes()
    state: set[Atom] = set(lifted.init)
    cost = 0.0
    for step, text in enumerate(plan, start=1):
        try:
            name, args = parse_action(text)
        except ValueError as exc:
            raise InvalidPlan(f"step {step}: {exc}", step) from None
        schema = schemas.get(name)
        if schema is None:
            raise InvalidPlan(f"step {step}: {text}: unknown action '{name}'", step)
        if len(args) != len(schema.params):
            raise InvalidPlan(
                f"step {step}: {text}: '{name}' takes {len(schema.params)} arguments, "
                f"got {len(args)}", step
            )
        for param, types, obj in zip(schema.params, schema.param_types, args, strict=True):
            if obj not in lifted.objects:
                raise InvalidPlan(f"step {step}: {text}: unknown object '{obj}'", step)
            allowed = set().union(*(subtypes.get(t, {t}) for t in types))
            if not any(t in allowed for t in lifted.objects[obj]):
                raise InvalidPlan(
                    f"step {step}: {text}: '{obj}' is not of type {'/'.join(types)} "
                    f"(parameter {param})", step
                )
        binding = dict(zip(schema.params, args, strict=True))
        for lit in schema.pre:
            if not _holds(lit, binding, state):
                raise InvalidPlan(
                    f"step {step}: {text}: precondition ({' '.join(lit.ground(binding))}) "
                    f"{'does not hold' if lit.positive else 'must be false but holds'}", step
                )
        dels = {lit.ground(binding) for lit in schema.delete}
        adds = {lit.ground(binding) for lit in schema.add}
        state -= dels
        state |= adds
        try:
            cost += lifted.action_cost(schema, binding)
        except KeyError as exc:
            raise InvalidPlan(f"step {step}: {text}: {exc.args[0]}", step) from None
    unmet = [str(lit) for lit in lifted.goal if not _holds(lit, {}, state)]
    if unmet:
        raise InvalidPlan(f"goal not reached after the plan: {' '.join(unmet[:5])}"
                          + (" ..." if len(unmet) > 5 else ""))
    return cost


def format_plan(plan: list[str], cost: float | None = None, unit_cost: bool = True) -> str:
    """IPC plan text: actions one per line and a final ``; cost = N (...)`` line."""
    lines = [a if a.startswith("(") else f"({a})" for a in plan]
    if cost is None:
        cost = float(len(plan))
    shown = int(cost) if float(cost).is_integer() else cost
    lines.append(f"; cost = {shown} ({'unit cost' if unit_cost else 'general cost'})")
    return "\n".join(lines) + "\n"


def write_plan(path: str | Path, plan: list[str], cost: float | None = None,
               unit_cost: bool = True) -> None:
    """Write :func:`format_plan` output to ``path``."""
    Path(path).write_text(format_plan(plan, cost, unit_cost))


def read_plan(path: str | Path) -> list[str]:
    """The action lines of an IPC plan file (comments and blank lines skipped)."""
    actions = []
    for line in Path(path).read_text().splitlines():
        s = line.split(";", 1)[0].strip()
        if s:
            actions.append(s if s.startswith("(") else f"({s})")
    return actions
