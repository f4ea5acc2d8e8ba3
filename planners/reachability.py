"""The grounder's relaxed-reachability fixpoint: which fluent atoms and actions can occur.

Naive grounding (every schema with every tuple of typed objects) is what made pyperplan take
over two minutes on a Sokoban medium task. Here an action is instantiated only when its
positive preconditions are *relaxed reachable*: a fixpoint over atoms where each newly reached
atom triggers the schemas with a precondition it matches, and the remaining preconditions are
joined against atoms already processed (static predicates from the initial state, fluent ones
as they are reached), one literal at a time, most-bound literal first. Each binding is found
when its last precondition atom is processed, so the work is proportional to the bindings
that exist, not to the product of the parameter domains. Each join plan is compiled into a
small Python function (nested loops over dict lookups), which is several times faster than
interpreting the plans.

:class:`Grounder` is the fixpoint and its join compiler; :func:`ahd.planners.ground.ground`
turns what it reaches into a STRIPS task. Types, equalities and negated static atoms are
decided here, while the join binds parameters; everything else about operators is decided
there.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import SearchTimeout
from .lifted import EQUALITY, ROOT_TYPE, Atom, LiftedTask, Schema

__all__ = ["CHECK_EVERY", "Grounder"]

#: Check the deadline once every this many emitted bindings / processed atoms.
CHECK_EVERY = 2048


@dataclass
class _Step:
    """One literal of a join: look up atoms by the bound positions, bind the rest."""

    index: dict  # key tuple (values at bound positions) -> list of argument tuples
    key: tuple[tuple[int, str | None], ...]  # per bound position: (param index, or -1 + const)
    binds: tuple[tuple[int, int], ...]  # (position in atom, param index) first occurrences
    same: tuple[tuple[int, int], ...]  # (position, param index) repeated variables: must equal
    checks: tuple  # constraints ready after this step (see _Constraint)


@dataclass
class _Enum:
    """Bind a parameter that no positive precondition mentions: try every object of its type."""

    param: int
    values: tuple[str, ...]
    checks: tuple


@dataclass
class _Plan:
    """How to complete a binding for one schema given an initial partial binding."""

    schema: int
    trigger_pred: str | None
    trigger_const: tuple[tuple[int, str], ...] = ()  # (position, constant) that must match
    trigger_binds: tuple[tuple[int, int], ...] = ()
    trigger_same: tuple[tuple[int, int], ...] = ()
    first_checks: tuple = ()
    steps: list = field(default_factory=list)


class _Constraint:
    """A test on a fully bound subset of parameters: equality, negated static atom, type."""

    __slots__ = ("kind", "params", "consts", "payload", "positive")

    def __init__(self, kind: str, args: tuple, payload: object = None, positive: bool = True):
        self.kind = kind
        self.params = tuple(a for a in args if isinstance(a, int))
        self.consts = args
        self.payload = payload
        self.positive = positive


class Grounder:
    """Relaxed reachability of one lifted task (see the module docstring).

    Parameters
    ----------
    lifted : LiftedTask
        The task to ground.
    deadline : float or None
        ``time.monotonic()`` value after which :meth:`reach` raises :class:`SearchTimeout`.

    Attributes
    ----------
    fluent_preds : set of str
        Predicates some action adds or deletes.
    static_atoms : frozenset
        Initial atoms of the other predicates: true in every state.
    """

    def __init__(self, lifted: LiftedTask, deadline: float | None) -> None:
        self.lifted = lifted
        self.deadline = deadline
        self.fluent_preds = {
            lit.predicate for s in lifted.schemas for lit in (*s.add, *s.delete)
        }
        self.static_atoms = frozenset(a for a in lifted.init if a[0] not in self.fluent_preds)
        self.static_preds = {a[0] for a in self.static_atoms}
        type_objs = lifted.objects_of_type()
        self.param_domain: list[list[tuple[str, ...] | None]] = []
        for s in lifted.schemas:
            doms: list[tuple[str, ...] | None] = []
            for types in s.param_types:
                if ROOT_TYPE in types:
                    doms.append(None)  # any object: no check needed when bound by an atom
                else:
                    doms.append(tuple(sorted({o for t in types for o in type_objs.get(t, ())})))
            self.param_domain.append(doms)
        self.all_objects = type_objs[ROOT_TYPE]
        # index registry: (pred, bound positions) -> dict; per predicate the indexes to update
        self.indexes: dict[tuple[str, tuple[int, ...]], dict] = {}
        self.by_pred: dict[str, list[tuple[tuple[int, ...], dict]]] = {}

    # ---- indexes -------------------------------------------------------------------------
    def index(self, pred: str, positions: tuple[int, ...]) -> dict:
        key = (pred, positions)
        if key not in self.indexes:
            idx: dict = {}
            self.indexes[key] = idx
            self.by_pred.setdefault(pred, []).append((positions, idx))
            if pred not in self.fluent_preds:
                for atom in sorted(a for a in self.static_atoms if a[0] == pred):
                    self._insert(idx, positions, atom[1:])
        return self.indexes[key]

    @staticmethod
    def _insert(idx: dict, positions: tuple[int, ...], args: tuple[str, ...]) -> None:
        k = tuple(args[p] for p in positions)
        bucket = idx.get(k)
        if bucket is None:
            idx[k] = [args]
        else:
            bucket.append(args)

    def process(self, atom: Atom) -> None:
        """Make a reached fluent atom visible to joins."""
        for positions, idx in self.by_pred.get(atom[0], ()):
            self._insert(idx, positions, atom[1:])

    # ---- compilation ---------------------------------------------------------------------
    def compile(self, si: int, trigger: int | None) -> _Plan | None:
        """A join plan for schema ``si`` started by its positive literal ``trigger``."""
        schema = self.lifted.schemas[si]
        pidx = {p: i for i, p in enumerate(schema.params)}

        def arg(a: str) -> int | str:
            return pidx[a] if a.startswith("?") else a

        positives = [lit for lit in schema.pre if lit.positive and lit.predicate != EQUALITY]
        constraints: list[_Constraint] = []
        for lit in schema.pre:
            args = tuple(arg(a) for a in lit.args)
            if lit.predicate == EQUALITY:
                constraints.append(_Constraint("eq", args, positive=lit.positive))
            elif not lit.positive and lit.predicate not in self.fluent_preds:
                constraints.append(
                    _Constraint("neg", args, (lit.predicate, self.static_atoms))
                )
        for i, dom in enumerate(self.param_domain[si]):
            if dom is not None:
                constraints.append(_Constraint("type", (i,), frozenset(dom)))
        for lit in positives:
            if lit.predicate not in self.fluent_preds and lit.predicate not in self.static_preds:
                return None  # a static precondition with no true atom: never applicable

        bound: set[int] = set()
        plan = _Plan(si, None)
        rest = list(range(len(positives)))
        if trigger is not None:
            lit = positives[trigger]
            rest.remove(trigger)
            plan.trigger_pred = lit.predicate
            binds, same, consts = [], [], []
            for pos, a in enumerate(lit.args):
                v = arg(a)
                if isinstance(v, str):
                    consts.append((pos, v))
                elif v in bound:
                    same.append((pos, v))
                else:
                    bound.add(v)
                    binds.append((pos, v))
            plan.trigger_const, plan.trigger_binds = tuple(consts), tuple(binds)
            plan.trigger_same = tuple(same)

        def ready() -> tuple:
            out = tuple(c for c in constraints if set(c.params) <= bound)
            for c in out:
                constraints.remove(c)
            return out

        plan.first_checks = ready()
        while rest:
            def score(j: int) -> tuple[int, int, int]:
                lit = positives[j]
                unbound = {arg(a) for a in lit.args if isinstance(arg(a), int)} - bound
                return (len(unbound), lit.predicate in self.fluent_preds, j)

            j = min(rest, key=score)
            rest.remove(j)
            lit = positives[j]
            key, binds, same = [], [], []
            positions = []
            for pos, a in enumerate(lit.args):
                v = arg(a)
                if isinstance(v, str):
                    positions.append(pos)
                    key.append((-1, v))
                elif v in bound:
                    positions.append(pos)
                    key.append((v, None))
                elif any(b == v for _, b in binds):
                    same.append((pos, v))
                else:
                    binds.append((pos, v))
            bound.update(b for _, b in binds)
            idx = self.index(lit.predicate, tuple(positions))
            plan.steps.append(_Step(idx, tuple(key), tuple(binds), tuple(same), ready()))
        for i in range(len(schema.params)):
            if i not in bound:
                bound.add(i)
                values = self.param_domain[si][i] or self.all_objects
                plan.steps.append(_Enum(i, values, ready()))
        assert not constraints, constraints
        return plan

    # ---- code generation -----------------------------------------------------------------
    def codegen(self, plan: _Plan, ns: dict) -> Callable[..., None]:
        """Compile a join plan into nested Python loops (several times faster than
        interpreting the plan: no per-candidate dispatch, bindings live in local variables).

        The generated function takes the trigger atom's arguments, enumerates every binding
        completing it, and for each new binding records the action and queues its new add
        atoms (the names ``A``, ``R``, ``Q``, ``N``, ``TICK`` come from ``ns``).
        """
        schema = self.lifted.schemas[plan.schema]
        n = len(schema.params)
        lines = ["def join(args):"]
        depth = 1

        def put(text: str) -> None:
            lines.append("    " * depth + text)

        def val(a: int | str) -> str:
            return f"v{a}" if isinstance(a, int) else repr(a)

        def cond(c: _Constraint) -> str:
            args = [val(a) for a in c.consts]
            if c.kind == "eq":
                return f"{args[0]} {'==' if c.positive else '!='} {args[1]}"
            name = f"C{len(ns)}"
            if c.kind == "type":
                ns[name] = c.payload
                return f"{args[0]} in {name}"
            pred, atoms = c.payload  # type: ignore[misc]
            ns[name] = atoms
            return f"({pred!r}, {', '.join(args)}) not in {name}"

        def checks(cs: tuple, loop: bool) -> None:
            for c in cs:
                put(f"if not ({cond(c)}): {'continue' if loop else 'return'}")

        for pos, c in plan.trigger_const:
            put(f"if args[{pos}] != {c!r}: return")
        for pos, p in plan.trigger_binds:
            put(f"v{p} = args[{pos}]")
        for pos, p in plan.trigger_same:
            put(f"if args[{pos}] != v{p}: return")
        checks(plan.first_checks, False)
        for k, step in enumerate(plan.steps):
            if isinstance(step, _Enum):
                name = f"D{len(ns)}"
                ns[name] = step.values
                put(f"for v{step.param} in {name}:")
                depth += 1
            else:
                name = f"I{len(ns)}"
                ns[name] = step.index
                key = ", ".join(val(p if p >= 0 else c) for p, c in step.key)  # type: ignore
                put(f"for a{k} in {name}.get(({key}{',' if step.key else ''}), ()):")
                depth += 1
                for pos, p in step.binds:
                    put(f"v{p} = a{k}[{pos}]")
                for pos, p in step.same:
                    put(f"if a{k}[{pos}] != v{p}: continue")
            checks(step.checks, True)
        put(f"k = ({plan.schema}, {''.join(f'v{i}, ' for i in range(n))})")
        put("if k not in A:")
        depth += 1
        put("A[k] = None")
        put("N[0] += 1")
        put("if N[0] & 4095 == 0: TICK()")
        for lit in schema.add:
            args = ", ".join(val(self._argref(schema, a)) for a in lit.args)
            put(f"t = ({lit.predicate!r}, {args})")
            put("if t not in R:")
            put("    R[t] = None")
            put("    Q(t)")
        source = "\n".join(lines) + "\n"
        exec(compile(source, f"<join {schema.name}>", "exec"), ns)  # noqa: S102 - own code
        return ns.pop("join")

    def tick(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise SearchTimeout("time limit reached while grounding")

    # ---- fixpoint ------------------------------------------------------------------------
    def reach(self) -> tuple[dict[Atom, None], list[tuple]]:
        """Reachable fluent atoms (ordered dict) and reachable actions ``(schema, *args)``."""
        schemas = self.lifted.schemas
        reached: dict[Atom, None] = {}
        queue: deque[Atom] = deque()
        actions: dict[tuple, None] = {}
        counter = [0]
        ns_base = {"A": actions, "R": reached, "Q": queue.append, "N": counter,
                   "TICK": self.tick}
        triggers: dict[str, list[Callable[..., None]]] = {}
        static_only: list[Callable[..., None]] = []
        for si, s in enumerate(schemas):
            positives = [lit for lit in s.pre if lit.positive and lit.predicate != EQUALITY]
            fluent = [j for j, lit in enumerate(positives) if lit.predicate in self.fluent_preds]
            for j in fluent if fluent else [None]:
                plan = self.compile(si, j)
                if plan is None:
                    continue
                fn = self.codegen(plan, dict(ns_base))
                if j is None:
                    static_only.append(fn)
                else:
                    triggers.setdefault(positives[j].predicate, []).append(fn)

        for atom in sorted(self.lifted.init):
            if atom[0] in self.fluent_preds:
                reached[atom] = None
                queue.append(atom)
        for fn in static_only:
            fn(())
        n = 0
        while queue:
            atom = queue.popleft()
            self.process(atom)
            n += 1
            if n % CHECK_EVERY == 0:
                self.tick()
            args = atom[1:]
            for fn in triggers.get(atom[0], ()):
                fn(args)
        return reached, list(actions)

    @staticmethod
    def _argref(schema: Schema, a: str) -> int | str:
        return schema.params.index(a) if a.startswith("?") else a
