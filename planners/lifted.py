"""The lifted (first-order) task: the planner's own copy of what the PDDL files say.

The ``pddl`` package's objects are rich, immutable formula trees; grounding and plan checking
only need flat literal lists. Converting once into these small frozen dataclasses keeps the
grounder and the simulator independent of the parser's API and of its (hash-randomised) set
ordering: every collection here is a tuple in a deterministic order.

Names are lower-cased (PDDL is case-insensitive). Variables keep their ``?`` prefix, so an
argument is a variable exactly when it starts with ``?``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: A ground atom: predicate name followed by object names, e.g. ``('on', 'a', 'b')``.
Atom = tuple[str, ...]

#: The implicit root of every PDDL type hierarchy.
ROOT_TYPE = "object"

#: Predicate name used for (in)equality literals ``(= ?x ?y)``.
EQUALITY = "="


@dataclass(frozen=True)
class Literal:
    """An atom over variables/constants, possibly negated. ``predicate == '='`` is equality."""

    predicate: str
    args: tuple[str, ...]
    positive: bool = True

    def ground(self, binding: dict[str, str]) -> Atom:
        """The atom with every variable replaced by its object in ``binding``."""
        return (self.predicate, *(binding.get(a, a) for a in self.args))

    def __str__(self) -> str:
        atom = f"({' '.join((self.predicate, *self.args))})"
        return atom if self.positive else f"(not {atom})"


@dataclass(frozen=True)
class CostTerm:
    """What an action adds to ``total-cost``: a constant, or a function looked up in ``:init``.

    ``function`` is ``None`` for a constant ``value``; otherwise the cost is the value of
    ``(function *args)`` (args may be variables) in the problem's initial numeric state.
    """

    value: float = 1.0
    function: str | None = None
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schema:
    """An action schema with a conjunctive precondition and STRIPS (add/delete) effects."""

    name: str
    params: tuple[str, ...]
    param_types: tuple[tuple[str, ...], ...]  # per parameter: allowed types ("either" = several)
    pre: tuple[Literal, ...]
    add: tuple[Literal, ...]
    delete: tuple[Literal, ...]
    cost: CostTerm | None = None  # None: no total-cost effect (cost 0 under a metric, else 1)


@dataclass(frozen=True)
class LiftedTask:
    """Domain and problem together, as plain data.

    Attributes
    ----------
    types : dict
        type -> supertype (``'object'`` is the root and maps to ``None``).
    objects : dict
        object or constant name -> its declared types (usually one).
    predicates : dict
        predicate name -> parameter types (first type of an ``either``).
    init : frozenset
        atoms true initially (closed-world: everything else is false).
    goal : tuple of Literal
        ground goal literals (conjunction).
    functions : dict
        ground numeric function -> initial value, e.g. ``('road-length', 'a', 'b') -> 5``.
    use_costs : bool
        true when the problem says ``(:metric minimize (total-cost))``; otherwise every action
        costs 1 and cost effects are ignored (as Fast Downward does).
    """

    domain_name: str
    problem_name: str
    domain_file: str
    problem_file: str
    types: dict[str, str | None]
    objects: dict[str, tuple[str, ...]]
    predicates: dict[str, tuple[str, ...]]
    schemas: tuple[Schema, ...]
    init: frozenset[Atom]
    goal: tuple[Literal, ...]
    functions: dict[Atom, float] = field(default_factory=dict)
    use_costs: bool = False

    def subtypes(self) -> dict[str, set[str]]:
        """type -> the set of itself and all its (transitive) subtypes."""
        result: dict[str, set[str]] = {t: {t} for t in self.types}
        result.setdefault(ROOT_TYPE, {ROOT_TYPE})
        for t in self.types:
            parent = self.types.get(t)
            seen = {t}
            while parent is not None and parent not in seen:
                result.setdefault(parent, {parent}).add(t)
                seen.add(parent)
                parent = self.types.get(parent)
            if t != ROOT_TYPE:
                result[ROOT_TYPE].add(t)
        return result

    def objects_of_type(self) -> dict[str, tuple[str, ...]]:
        """type -> sorted objects of that type or a subtype (the domain of a parameter)."""
        subs = self.subtypes()
        out: dict[str, tuple[str, ...]] = {}
        for t, ts in subs.items():
            out[t] = tuple(
                sorted(o for o, otypes in self.objects.items() if any(x in ts for x in otypes))
            )
        out[ROOT_TYPE] = tuple(sorted(self.objects))
        return out

    def schema(self, name: str) -> Schema:
        """The schema called ``name`` (``KeyError`` if none)."""
        for s in self.schemas:
            if s.name == name:
                return s
        raise KeyError(name)

    def action_cost(self, schema: Schema, binding: dict[str, str]) -> float:
        """Cost of one ground action: 1 without a metric, else its total-cost increase."""
        if not self.use_costs:
            return 1.0
        if schema.cost is None:
            return 0.0
        if schema.cost.function is None:
            return schema.cost.value
        key = (schema.cost.function, *(binding.get(a, a) for a in schema.cost.args))
        if key not in self.functions:
            raise KeyError(f"no initial value for ({' '.join(key)})")
        return self.functions[key]
