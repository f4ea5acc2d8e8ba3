"""Read a PDDL domain and problem into a :class:`~ahd.planners.lifted.LiftedTask`.

The ``pddl`` package does the parsing (it handled all 1,863 IPC 2023 learning-track files).
This module converts its formula trees into flat literal lists and refuses, with a
:class:`PlanningInputError` naming the file and the construct, everything beyond STRIPS with
typing, negative preconditions, equality, constants and action costs. The ``pddl`` package
accepts some input it should not (an undefined predicate in a precondition, a wrong arity), so
those are checked here too: a grounder fed such input would silently find no plan.

Supported action costs: effects ``(increase (total-cost) N)`` with a number or a function term
whose values are given in ``:init``; they count only under ``(:metric minimize (total-cost))``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .errors import PlanningInputError
from .lifted import EQUALITY, ROOT_TYPE, Atom, CostTerm, LiftedTask, Literal, Schema

TOTAL_COST = "total-cost"


def _syntax_error(path: Path, exc: Exception) -> PlanningInputError:
    """One-line message with ``file:line:column`` when lark tells us where."""
    inner = getattr(exc, "orig_exc", None) or exc  # lark's VisitError wraps transformer errors
    line = getattr(inner, "line", None) or getattr(exc, "line", None)
    column = getattr(inner, "column", None) or getattr(exc, "column", None)
    where = f"{path}:{line}:{column}" if line and line > 0 else str(path)
    text = " ".join(str(inner).split())
    if len(text) > 300:
        text = text[:300] + "..."
    kind = type(inner).__name__
    label = "PDDL syntax error" if type(inner).__module__.startswith("lark") else "invalid PDDL"
    return PlanningInputError(f"{where}: {label} ({kind}): {text}")


_PARSERS: dict[str, Any] = {}


def _parser(what: str) -> Any:
    """A cached ``pddl`` parser with fresh transformer state.

    Building the Lark grammar costs about 0.1 s, five times the parse of a typical task, so
    the parser is built once per process, from Lark's analysis saved beside this module
    (:func:`_cached_lark`). Its transformer keeps state from the previous file
    (requirements, constants), so that state is reset before every use.
    """
    if what not in _PARSERS:
        from pddl.parser.domain import DomainParser
        from pddl.parser.problem import ProblemParser

        cls = DomainParser if what == "domain" else ProblemParser
        _PARSERS[what] = _cached_lark(cls, what) or cls()
    parser = _PARSERS[what]
    parser._transformer.__init__()
    return parser


def _cached_lark(cls: Any, what: str) -> Any:
    """``cls()`` (a ``pddl`` parser) with its Lark grammar analysis cached in a file, or
    ``None`` if this ``pddl`` is not built as expected (the caller then builds it uncached).

    Every ``ahd:`` run of ``ahd plan-eval`` is a fresh process, and building the two grammars
    was about a sixth of a small task's run. Lark keys the file by the grammar and options
    and rebuilds (and rewrites) it when they change; a file that cannot be read or written
    costs only the rebuild. It sits in this package's ``__pycache__``, trusted as the
    bytecode there is (Lark's cache is a pickle).
    """
    try:
        import pddl
        from lark import Lark, Transformer
        from pddl.parser import GRAMMAR_FILE, PARSERS_DIRECTORY

        folder = Path(__file__).with_name("__pycache__")
        folder.mkdir(exist_ok=True)
        parser = cls.__new__(cls)
        Transformer.__init__(parser)
        parser._transformer = cls.transformer_cls()
        parser._parser = Lark(
            GRAMMAR_FILE.read_text(), parser="lalr", import_paths=[PARSERS_DIRECTORY],
            start=cls.start_symbol, transformer=parser._transformer,
            cache=str(folder / f"pddl-{what}-{pddl.__version__}.lark"))
    except Exception:  # noqa: BLE001 - any surprise: the uncached parser
        return None
    return parser


def read_pddl_text(path: str | Path, what: str = "PDDL") -> str:
    """The text of a PDDL file, or a one-line :class:`PlanningInputError` naming it.

    PDDL is ASCII in practice; the file is decoded as UTF-8 whatever the locale says, so a
    file reads the same on every machine, and a file that is not text (invalid UTF-8, NUL
    bytes: a binary or a file in another encoding) is refused as such instead of reaching the
    parser, whose error would quote unprintable bytes.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanningInputError(f"{path}: cannot read {what} file: {exc.strerror or exc}"
                                 ) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanningInputError(f"{path}: {what} file is not text (invalid UTF-8 at byte "
                                 f"{exc.start})") from None
    if "\x00" in text:
        raise PlanningInputError(f"{path}: {what} file is not text (it contains NUL bytes)")
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as text-mode reading does


def _parse(path: Path, what: str) -> Any:
    text = read_pddl_text(path, what)
    # pddl sets sys.tracebacklimit = 0 while parsing and leaves it there after an error.
    old_limit = getattr(sys, "tracebacklimit", None)
    try:
        return _parser(what)(text)
    except RecursionError as exc:
        raise PlanningInputError(f"{path}: {what} nested too deeply to parse") from exc
    except Exception as exc:  # lark and pddl raise many unrelated exception types
        raise _syntax_error(path, exc) from exc
    finally:
        if old_limit is None:
            if hasattr(sys, "tracebacklimit"):
                del sys.tracebacklimit
        else:
            sys.tracebacklimit = old_limit


def _name(obj: Any) -> str:
    return str(obj.name).lower()


def _term(term: Any) -> str:
    """Variable -> '?x', constant -> 'a' (both lower-case)."""
    from pddl.logic.terms import Variable

    return f"?{_name(term)}" if isinstance(term, Variable) else _name(term)


class _Converter:
    """Walks one file's formulas; knows the file name for error messages."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, what: str) -> PlanningInputError:
        return PlanningInputError(f"{self.path}: {where}: {what} not supported by this planner")

    def condition(self, formula: Any, where: str) -> list[Literal]:
        """A conjunction of (negated) atoms and (in)equalities, flattened."""
        from pddl.logic.base import And, ExistsCondition, ForallCondition, Imply, Not, OneOf, Or
        from pddl.logic.functions import BinaryFunction
        from pddl.logic.predicates import DerivedPredicate, EqualTo, Predicate

        if formula is None:
            return []
        if isinstance(formula, And):
            return [lit for op in formula.operands for lit in self.condition(op, where)]
        if isinstance(formula, Predicate):
            return [Literal(_name(formula), tuple(_term(t) for t in formula.terms))]
        if isinstance(formula, EqualTo):
            return [Literal(EQUALITY, (_term(formula.left), _term(formula.right)))]
        if isinstance(formula, Not):
            inner = self.condition(formula.argument, where)
            if len(inner) == 1 and isinstance(formula.argument, Predicate | EqualTo):
                return [Literal(inner[0].predicate, inner[0].args, positive=False)]
            raise self.fail(where, f"negation of a compound formula {formula}")
        named = {
            Or: "disjunctive conditions (or)",
            Imply: "implications (imply)",
            ForallCondition: "universal conditions (forall)",
            ExistsCondition: "existential conditions (exists)",
            OneOf: "non-deterministic conditions (oneof)",
            BinaryFunction: "numeric conditions",
            DerivedPredicate: "derived predicates",
        }
        for cls, label in named.items():
            if isinstance(formula, cls):
                raise self.fail(where, label)
        raise self.fail(where, f"the construct {formula}")

    def effect(
        self, formula: Any, where: str
    ) -> tuple[list[Literal], list[Literal], CostTerm | None]:
        """Add list, delete list and the total-cost increase of an action effect."""
        from pddl.logic.base import And, Not, OneOf
        from pddl.logic.effects import Forall, When
        from pddl.logic.functions import BinaryFunction, Increase, NumericFunction, NumericValue
        from pddl.logic.predicates import Predicate

        add: list[Literal] = []
        delete: list[Literal] = []
        cost: CostTerm | None = None
        todo = [formula] if formula is not None else []
        while todo:
            f = todo.pop(0)
            if isinstance(f, And):
                todo[:0] = list(f.operands)
            elif isinstance(f, Predicate):
                add.append(Literal(_name(f), tuple(_term(t) for t in f.terms)))
            elif isinstance(f, Not) and isinstance(f.argument, Predicate):
                a = f.argument
                delete.append(Literal(_name(a), tuple(_term(t) for t in a.terms), False))
            elif isinstance(f, When):
                raise self.fail(where, "conditional effects (when)")
            elif isinstance(f, Forall):
                raise self.fail(where, "universal effects (forall)")
            elif isinstance(f, OneOf):
                raise self.fail(where, "non-deterministic effects (oneof)")
            elif isinstance(f, Increase):
                target, amount = f.operands
                if not (isinstance(target, NumericFunction) and _name(target) == TOTAL_COST):
                    raise self.fail(where, f"numeric effect {f} (only total-cost increases)")
                if cost is not None:
                    raise self.fail(where, "two total-cost increases in one action")
                if isinstance(amount, NumericValue):
                    value = float(amount.value)
                    if value < 0:
                        raise self.fail(where, f"negative action cost {f}")
                    cost = CostTerm(value=value)
                elif isinstance(amount, NumericFunction):
                    cost = CostTerm(
                        function=_name(amount), args=tuple(_term(t) for t in amount.terms)
                    )
                else:
                    raise self.fail(where, f"cost expression {amount} (use a number or a function)")
            elif isinstance(f, BinaryFunction):
                raise self.fail(where, f"numeric effect {f} (numeric fluents)")
            else:
                raise self.fail(where, f"effect {f}")
        return add, delete, cost


def _types(domain: Any) -> dict[str, str | None]:
    types: dict[str, str | None] = {ROOT_TYPE: None}
    for t, parent in sorted((str(k).lower(), v) for k, v in domain.types.items()):
        if t == ROOT_TYPE:
            continue
        types[t] = str(parent).lower() if parent is not None else ROOT_TYPE
    for parent in list(types.values()):
        if parent is not None and parent not in types:
            types[parent] = ROOT_TYPE
    return types


def _type_tags(term: Any) -> tuple[str, ...]:
    tags = sorted(str(t).lower() for t in (term.type_tags or ()))
    return tuple(tags) or (ROOT_TYPE,)


def _check_atom(
    path: Path,
    where: str,
    lit: Literal,
    predicates: dict[str, tuple[str, ...]],
    known_terms: set[str] | None,
) -> None:
    """Undefined predicates, wrong arities and unknown objects are errors, not silent falses."""
    if lit.predicate == EQUALITY:
        arity = 2
    elif lit.predicate not in predicates:
        raise PlanningInputError(f"{path}: {where}: undefined predicate '{lit.predicate}' in {lit}")
    else:
        arity = len(predicates[lit.predicate])
    if len(lit.args) != arity:
        raise PlanningInputError(
            f"{path}: {where}: '{lit.predicate}' takes {arity} arguments, got {len(lit.args)} "
            f"in {lit}"
        )
    if known_terms is not None:
        for a in lit.args:
            if a not in known_terms:
                kind = "variable" if a.startswith("?") else "object"
                raise PlanningInputError(f"{path}: {where}: unknown {kind} '{a}' in {lit}")


def read_task(domain_file: str | Path, problem_file: str | Path) -> LiftedTask:
    """Parse and check a domain and a problem file.

    Parameters
    ----------
    domain_file, problem_file : path
        PDDL files (STRIPS with typing, negative preconditions, equality, constants, and
        optionally action costs).

    Returns
    -------
    LiftedTask
        Plain, deterministic data for the grounder and the plan simulator.

    Raises
    ------
    PlanningInputError
        Syntax errors (with line and column when known), unsupported constructs, undefined
        predicates/objects, arity mismatches, a problem written for another domain.
    """
    dpath, ppath = Path(domain_file), Path(problem_file)
    domain = _parse(dpath, "domain")
    problem = _parse(ppath, "problem")
    dconv, pconv = _Converter(dpath), _Converter(ppath)

    if domain.derived_predicates:
        raise dconv.fail("domain", "derived predicates (:derived)")
    types = _types(domain)
    objects: dict[str, tuple[str, ...]] = {}
    for c in sorted(domain.constants, key=_name):
        objects[_name(c)] = _type_tags(c)
    for o in sorted(problem.objects, key=_name):
        tags = _type_tags(o)
        objects[_name(o)] = tuple(sorted(set(objects.get(_name(o), ())) | set(tags)))
    for name, tags in objects.items():
        for t in tags:
            if t not in types:
                raise PlanningInputError(f"{ppath}: object '{name}' has undefined type '{t}'")

    predicates: dict[str, tuple[str, ...]] = {}
    for p in sorted(domain.predicates, key=_name):
        predicates[_name(p)] = tuple(_type_tags(t)[0] for t in p.terms)
    functions_declared = {_name(f) for f in domain.functions}

    schemas = []
    constants = {_name(c) for c in domain.constants}
    for action in sorted(domain.actions, key=_name):
        where = f"action '{_name(action)}'"
        params = tuple(f"?{_name(v)}" for v in action.parameters)
        if len(set(params)) != len(params):
            raise PlanningInputError(f"{dpath}: {where}: a parameter is declared twice")
        ptypes = tuple(_type_tags(v) for v in action.parameters)
        pre = dconv.condition(action.precondition, where)
        add, delete, cost = dconv.effect(action.effect, where)
        known = set(params) | constants
        for lit in (*pre, *add, *delete):
            _check_atom(dpath, where, lit, predicates, known)
        if cost is not None and cost.function is not None:
            if cost.function not in functions_declared:
                raise PlanningInputError(
                    f"{dpath}: {where}: undefined function '{cost.function}' in its cost"
                )
        schemas.append(
            Schema(_name(action), params, ptypes, tuple(pre), tuple(add), tuple(delete), cost)
        )

    if str(problem.domain_name).lower() != _name(domain):
        raise PlanningInputError(
            f"{ppath}: problem is for domain '{str(problem.domain_name).lower()}' but "
            f"{dpath} defines '{_name(domain)}'"
        )

    init: set[Atom] = set()
    values: dict[Atom, float] = {}
    init_where = "init"
    for fact in problem.init:
        lits = _init_fact(pconv, fact, values)
        for lit in lits:
            _check_atom(ppath, init_where, lit, predicates, set(objects))
            init.add((lit.predicate, *lit.args))
    goal = pconv.condition(problem.goal, "goal")
    for lit in goal:
        _check_atom(ppath, "goal", lit, predicates, set(objects))

    use_costs = False
    if problem.metric is not None:
        from pddl.logic.functions import NumericFunction

        expr = problem.metric.expression
        if (
            problem.metric.optimization == "minimize"
            and isinstance(expr, NumericFunction)
            and _name(expr) == TOTAL_COST
        ):
            use_costs = True
        else:
            raise pconv.fail("metric", f"the metric {problem.metric} (only minimize total-cost)")

    return LiftedTask(
        domain_name=_name(domain),
        problem_name=_name(problem),
        domain_file=str(dpath),
        problem_file=str(ppath),
        types=types,
        objects=objects,
        predicates=predicates,
        schemas=tuple(schemas),
        init=frozenset(init),
        goal=tuple(goal),
        functions=values,
        use_costs=use_costs,
    )


def _init_fact(conv: _Converter, fact: Any, values: dict[Atom, float]) -> list[Literal]:
    """One ``:init`` entry: an atom, or a numeric value recorded in ``values``."""
    from pddl.logic.functions import EqualTo as NumericEqualTo
    from pddl.logic.functions import NumericFunction, NumericValue
    from pddl.logic.predicates import Predicate

    if isinstance(fact, Predicate):
        return [Literal(_name(fact), tuple(_term(t) for t in fact.terms))]
    if isinstance(fact, NumericEqualTo):
        target, value = fact.operands
        if isinstance(target, NumericFunction) and isinstance(value, NumericValue):
            values[(_name(target), *(_term(t) for t in target.terms))] = float(value.value)
            return []
    raise conv.fail("init", f"the initial fact {fact}")
