"""Cheap static checks of candidate source, with messages written to be sent back to the LLM.

A candidate that cannot work (does not parse, lacks its entry point, has the wrong arity,
imports something it may not use) is rejected here in well under a millisecond, before it
costs a sandbox start and a numba compilation. Every message names the line and says exactly
what is wrong, because the proposer reads it and tries again.

This is feedback, **not a security boundary**: Python offers many ways around a syntactic
deny-list (attribute chains on allowed modules, numpy's C interfaces, ...). Isolation of
untrusted code is the sandbox's job; this check only catches honest mistakes and the obvious
attempts early, where they are cheap to explain.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ahd import syntax

#: Modules candidate code may import unless the task says otherwise (a listed module also
#: permits its submodules); a task adds its own (routing: its engine's state primitives).
DEFAULT_ALLOWED_IMPORTS = frozenset({"math", "numba", "numpy"})

#: Builtins with the reason they are refused, shown to the proposer.
FORBIDDEN_BUILTINS: dict[str, str] = {
    **dict.fromkeys(("exec", "eval", "compile", "__import__"), "dynamic code execution"),
    **dict.fromkeys(
        ("globals", "locals", "vars", "getattr", "setattr", "delattr"), "reflection"
    ),
    **dict.fromkeys(("open", "input", "breakpoint"), "file, terminal or debugger access"),
}

#: Modules that reach the system, processes or threads; refused as imports and as names.
FORBIDDEN_NAMES = frozenset({
    "os", "sys", "subprocess", "socket", "ctypes", "importlib", "builtins", "shutil",
    "pathlib", "signal", "threading", "multiprocessing",
})

#: numpy attributes that read or write files or reach C memory directly.
FORBIDDEN_ATTRIBUTES = frozenset({
    "tofile", "fromfile", "memmap", "loadtxt", "savetxt", "genfromtxt", "savez",
    "savez_compressed", "ctypeslib",
})

#: A sensible ``allowed_names`` for numba operator code: builtins that are harmless and that
#: numba supports (or that fail clearly at compile time), plus common exceptions.
SAFE_BUILTINS = frozenset({
    "abs", "all", "any", "bool", "divmod", "enumerate", "float", "int", "isinstance", "len",
    "list", "max", "min", "pow", "print", "range", "reversed", "round", "sorted", "sum",
    "tuple", "zip", "dict", "set", "frozenset", "str", "map", "filter", "iter", "next",
    "Exception", "ValueError", "IndexError", "RuntimeError", "AssertionError", "KeyError",
    "TypeError", "ZeroDivisionError", "NotImplementedError",
})

#: At most this many messages are returned; the proposer gains nothing from a hundred.
MAX_MESSAGES = 20


@dataclass(frozen=True)
class RoleSpec:
    """What one role requires of the source: a top-level function of a fixed arity.

    Parameters
    ----------
    role
        Role name (``"destroy"``, ``"heuristic"`` ...).
    params
        Parameter names, used in messages; their number is the required arity.
    entry_point
        Name of the function; defaults to the role name.
    """

    role: str
    params: tuple[str, ...]
    entry_point: str = ""

    def __post_init__(self) -> None:
        if not self.role.isidentifier():
            raise ValueError(f"role must be an identifier, got {self.role!r}")
        object.__setattr__(self, "params", tuple(self.params))
        if not all(isinstance(p, str) and p.isidentifier() for p in self.params):
            raise ValueError(f"params must be identifiers, got {self.params!r}")
        if not self.entry_point:
            object.__setattr__(self, "entry_point", self.role)
        if not self.entry_point.isidentifier():
            raise ValueError(f"entry_point must be an identifier, got {self.entry_point!r}")

    @property
    def arity(self) -> int:
        """Number of positional parameters the entry point must take."""
        return len(self.params)


def role_specs(roles, entry_points: Mapping[str, str] | None = None) -> list[RoleSpec]:
    """Normalize the accepted ways of naming roles to a list of :class:`RoleSpec`.

    ``roles`` may be a mapping role -> arity (parameters are then named ``arg0`` ...), a
    :class:`RoleSpec`, or an iterable of specs. ``entry_points`` overrides the function name
    per role. A bare role name is refused: its arity belongs to the task that defines the role.
    """
    entry = dict(entry_points or {})
    if isinstance(roles, (RoleSpec, str)):
        roles = [roles]
    if isinstance(roles, Mapping):
        specs = []
        for role, arity in roles.items():
            if int(arity) < 0:
                raise ValueError(f"arity of {role!r} must be >= 0, got {arity}")
            params = tuple(f"arg{i}" for i in range(int(arity)))
            specs.append(RoleSpec(role, params, entry.get(role, "")))
        return specs
    specs = []
    for item in roles:
        if not isinstance(item, RoleSpec):
            raise TypeError(f"role {item!r}: give a RoleSpec (the task's role, with its "
                            "parameters) or a mapping role -> arity")
        spec = item
        if item.role in entry:
            spec = RoleSpec(item.role, item.params, entry[item.role])
        specs.append(spec)
    return specs


@dataclass
class _Facts:
    """Everything the checks need, gathered in one walk over the tree."""

    imports: list[tuple[int, ast.AST]] = field(default_factory=list)
    loads: list[tuple[int, str]] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)
    attributes: list[tuple[int, str]] = field(default_factory=list)


_NAMED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_OPTIONAL_NAMED = (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)


def _gather(tree: ast.Module) -> _Facts:
    # Dispatch on the exact node type: this loop is most of the check's cost.
    facts = _Facts()
    bound = facts.bound
    loads = facts.loads
    attributes = facts.attributes
    name_t, attribute_t, load_t, arg_t = ast.Name, ast.Attribute, ast.Load, ast.arg
    for node in ast.walk(tree):
        kind = type(node)
        if kind is name_t:
            if type(node.ctx) is load_t:
                loads.append((node.lineno, node.id))
            else:
                bound.add(node.id)
        elif kind is attribute_t:
            attributes.append((node.lineno, node.attr))
        elif kind is arg_t:
            bound.add(node.arg)
        elif kind is ast.Import or kind is ast.ImportFrom:
            facts.imports.append((node.lineno, node))
            for alias in node.names:
                bound.add(alias.asname or alias.name.split(".")[0])
        elif kind in _NAMED:
            bound.add(node.name)
        elif kind is ast.Global or kind is ast.Nonlocal:
            bound.update(node.names)
        elif kind in _OPTIONAL_NAMED and node.name:
            bound.add(node.name)
        elif kind is ast.MatchMapping and node.rest:
            bound.add(node.rest)
    return facts


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _module_allowed(module: str, allowed: Iterable[str]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


def _check_imports(facts: _Facts, allowed: frozenset[str]) -> list[tuple[int, str]]:
    listed = ", ".join(sorted(allowed)) or "nothing"
    out = []
    for line, node in facts.imports:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _module_allowed(alias.name, allowed):
                    out.append(
                        (line, f"import of '{alias.name}' is not allowed; allowed: {listed}")
                    )
            continue
        module = node.module or ""
        if module == "__future__" and not node.level:
            continue  # compiler directives, harmless
        if node.level:
            dots = "." * node.level
            out.append((line, f"relative import 'from {dots}{module} import ...' is not allowed; "
                              f"import by absolute module name (allowed: {listed})"))
            continue
        if any(alias.name == "*" for alias in node.names):
            out.append((line, f"wildcard import 'from {module} import *' is not allowed; "
                              f"import the names you use"))
            continue
        if not _module_allowed(module, allowed) and not all(
            _module_allowed(f"{module}.{alias.name}", allowed) for alias in node.names
        ):
            out.append((line, f"import from '{module}' is not allowed; allowed: {listed}"))
    return out


def _check_names(facts: _Facts, allowed_names: frozenset[str] | None) -> list[tuple[int, str]]:
    out = []
    for line, node in facts.imports:
        for alias in node.names:
            for name in (alias.name.split(".")[-1], alias.asname):
                if name and _is_dunder(name):
                    out.append((line, f"dunder name '{name}' is not allowed"))
    for line, name in facts.loads:
        if name in FORBIDDEN_BUILTINS:
            out.append((line, f"'{name}' is not allowed ({FORBIDDEN_BUILTINS[name]})"))
        elif name in FORBIDDEN_NAMES:
            out.append((line, f"name '{name}' is not allowed (operator code must not reach the "
                              f"system, processes or threads)"))
        elif _is_dunder(name):
            out.append((line, f"dunder name '{name}' is not allowed"))
        elif allowed_names is not None and name not in facts.bound and name not in allowed_names:
            out.append((line, f"name '{name}' is not defined; import or define it "
                              f"(only allowed builtins can be used without that)"))
    for line, attr in facts.attributes:
        if _is_dunder(attr):
            out.append((line, f"dunder attribute '.{attr}' is not allowed"))
        elif attr in FORBIDDEN_ATTRIBUTES:
            out.append((line, f"attribute '.{attr}' is not allowed (file or raw memory access)"))
    return out


def _describe(spec: RoleSpec) -> str:
    return f"def {spec.entry_point}({', '.join(spec.params)})"


def _check_roles(tree: ast.Module, specs: list[RoleSpec]) -> list[tuple[int, str]]:
    top: dict[str, list[ast.stmt]] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            top.setdefault(stmt.name, []).append(stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    top.setdefault(target.id, []).append(stmt)
    out = []
    for spec in specs:
        name = spec.entry_point
        defs = top.get(name, [])
        if not defs:
            nested = [
                n.lineno for n in ast.walk(tree)
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name
            ]
            hint = ""
            if nested:
                hint = f"; found one nested at line {nested[0]}, move it to module level"
            out.append((0, f"missing entry point: the {spec.role} role needs a top-level "
                           f"'{_describe(spec)}'{hint}"))
            continue
        if len(defs) > 1:
            lines = ", ".join(str(d.lineno) for d in defs)
            out.append((defs[1].lineno, f"'{name}' is defined {len(defs)} times (lines {lines}); "
                                        f"keep one definition"))
        node = defs[-1]
        if isinstance(node, ast.AsyncFunctionDef):
            out.append((node.lineno, f"'{name}' must be a plain def, not async def"))
        elif not isinstance(node, ast.FunctionDef):
            what = "a class" if isinstance(node, ast.ClassDef) else "an assignment"
            out.append((node.lineno, f"'{name}' is {what}; the {spec.role} role needs "
                                     f"'{_describe(spec)}'"))
            continue
        args = node.args
        positional = len(args.posonlyargs) + len(args.args)
        if args.vararg or args.kwarg or args.kwonlyargs:
            out.append((node.lineno, f"'{name}' must take exactly {spec.arity} positional "
                                     f"parameters, without *args, **kwargs or keyword-only "
                                     f"parameters: '{_describe(spec)}'"))
        elif positional != spec.arity:
            out.append((node.lineno, f"'{name}' takes {positional} parameter"
                                     f"{'' if positional == 1 else 's'} but the {spec.role} role "
                                     f"needs {spec.arity}: '{_describe(spec)}'"))
    return out


def _syntax_message(exc: SyntaxError) -> str:
    where = f"line {exc.lineno}" if exc.lineno else "line ?"
    if exc.offset:
        where += f", col {exc.offset}"
    text = (exc.text or "").strip()
    context = f" in `{text}`" if text else ""
    return f"{where}: syntax error: {exc.msg}{context}"


def parse_source(source: str) -> tuple[ast.Module | None, str | None]:
    """Parse ``source``; return ``(tree, None)`` or ``(None, message)``."""
    try:
        return syntax.parse(source), None
    except syntax.SourceTooLarge as exc:
        return None, str(exc)
    except SyntaxError as exc:
        return None, _syntax_message(exc)
    except ValueError as exc:  # null bytes (a SyntaxError from Python 3.12 on)
        return None, f"line ?: source cannot be parsed: {exc}"
    except (RecursionError, MemoryError):
        return None, "line ?: source is nested too deeply to parse; simplify the expressions"


def static_check(
    source: str,
    roles,
    allowed_imports: Iterable[str] = DEFAULT_ALLOWED_IMPORTS,
    allowed_names: Iterable[str] | None = None,
    entry_points: Mapping[str, str] | None = None,
    max_messages: int = MAX_MESSAGES,
) -> list[str]:
    """Problems found in ``source``; an empty list means it passed.

    Parameters
    ----------
    source
        Candidate Python source.
    roles
        Which functions it must define: a mapping role -> arity, a :class:`RoleSpec`, or an
        iterable of specs (see :func:`role_specs`).
    allowed_imports
        Module names it may import; each also permits its submodules.
    allowed_names
        When given, names the code may use without binding them (imports, defs, assignments,
        parameters); any other free name is reported as undefined. ``SAFE_BUILTINS`` is a good
        value. ``None`` skips this check.
    entry_points
        Function name per role when it differs from the role name.
    max_messages
        Cap on the messages returned; the last one then says how many were left out.

    Returns
    -------
    list of str
        One message per problem, ``"line N: ..."`` in line order, then missing entry points.
    """
    specs = role_specs(roles, entry_points)
    tree, error = parse_source(source)
    if tree is None:
        return [error]
    allowed = frozenset(allowed_imports)
    names = None if allowed_names is None else frozenset(allowed_names)
    facts = _gather(tree)
    found = _check_imports(facts, allowed) + _check_names(facts, names) + _check_roles(tree, specs)
    found.sort(key=lambda item: (item[0] == 0, item[0]))
    messages: list[str] = []
    seen = set()
    for line, text in found:
        message = f"line {line}: {text}" if line else text
        if message not in seen:
            seen.add(message)
            messages.append(message)
    if len(messages) > max_messages:
        extra = len(messages) - (max_messages - 1)
        messages = messages[: max_messages - 1] + [f"... and {extra} more problems"]
    return messages


def free_names(source: str) -> set[str]:
    """Names ``source`` reads but never binds (imports, defs, assignments, parameters).

    Used by the exporter to add the imports a candidate relies on from the evaluator's
    preamble. Raises ``SyntaxError`` when the source does not parse.
    """
    facts = _gather(syntax.parse(source))
    return {name for _, name in facts.loads if name not in facts.bound}
