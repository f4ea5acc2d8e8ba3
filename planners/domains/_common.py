"""Shared pieces of the domain modules: seeded rngs, PDDL rendering and a small problem reader.

The reader exists so that :func:`reference_plan` functions can work from the same PDDL text a
planner sees (a generated string or a file of an IPC-style suite) instead of from generator
internals; that keeps a reference plan an independent witness of solvability.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RngLike = np.random.Generator | int

Atom = tuple[str, ...]


def as_rng(rng: RngLike) -> np.random.Generator:
    """The generator to draw from; integers are accepted as seeds for convenience.

    Parameters
    ----------
    rng : numpy.random.Generator or int
        Explicit source of randomness. Global numpy state is never used, so a task is a pure
        function of ``(size, rng state)``.

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy Generator or an integer seed, got {rng!r}")


def check_size(size: object, minimum: int, unit: str) -> int:
    """``size`` as an int, refusing values that would make a trivial or malformed task."""
    if isinstance(size, bool) or not isinstance(size, int | np.integer):
        raise TypeError(f"size must be an integer number of {unit}, got {size!r}")
    if size < minimum:
        raise ValueError(f"size must be >= {minimum} {unit}, got {size}")
    return int(size)


def atom(*parts: object) -> str:
    """A ground PDDL atom, e.g. ``atom("on", "b1", "b2") == "(on b1 b2)"``."""
    return "(" + " ".join(str(p) for p in parts) + ")"


def _wrap(names: Sequence[str], width: int = 90) -> list[str]:
    """Object names packed onto lines so large :objects sections stay readable."""
    lines: list[str] = []
    line = ""
    for name in names:
        if line and len(line) + 1 + len(name) > width:
            lines.append(line)
            line = name
        else:
            line = f"{line} {name}" if line else name
    if line:
        lines.append(line)
    return lines


def render_problem(
    name: str,
    domain: str,
    objects: Sequence[tuple[Sequence[str], str | None]],
    init: Iterable[str],
    goal: Iterable[str],
    comment: str = "",
) -> str:
    """Problem PDDL text in the layout of the IPC 2023 learning-track files.

    Parameters
    ----------
    name, domain : str
        Problem and domain names.
    objects : sequence of (names, type)
        Object groups; ``type`` None writes untyped objects.
    init, goal : iterable of str
        Ground atoms (see :func:`atom`); the goal is written as a conjunction.
    comment : str
        First-line comment (``;;``) recording how the task was generated.
    """
    out: list[str] = []
    if comment:
        out.extend(f";; {line}" for line in comment.splitlines())
        out.append("")
    out.append(f"(define (problem {name})")
    out.append(f" (:domain {domain})")
    out.append(" (:objects")
    for names, typ in objects:
        if not names:
            continue
        suffix = f" - {typ}" if typ else ""
        wrapped = _wrap(list(names))
        for i, line in enumerate(wrapped):
            out.append(f"    {line}" + (suffix if i == len(wrapped) - 1 else ""))
    out.append(" )")
    out.append(" (:init")
    out.extend(f"    {a}" for a in init)
    out.append(" )")
    out.append(" (:goal (and")
    out.extend(f"    {a}" for a in goal)
    out.append(" ))")
    out.append(")")
    return "\n".join(out) + "\n"


# --- reading problems back --------------------------------------------------------------------

_TOKEN = re.compile(r"\(|\)|[^\s()]+")


def _tokens(text: str) -> list[str]:
    """PDDL tokens, lower-cased (PDDL is case-insensitive) with ``;`` comments removed."""
    text = re.sub(r";[^\n]*", " ", text)
    return [t.lower() for t in _TOKEN.findall(text)]


def _sexpr(tokens: list[str]) -> list:
    """The nested-list form of one parenthesised expression."""
    stack: list[list] = [[]]
    for tok in tokens:
        if tok == "(":
            stack.append([])
        elif tok == ")":
            if len(stack) < 2:
                raise ValueError("unbalanced ')' in PDDL text")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(tok)
    if len(stack) != 1 or len(stack[0]) != 1:
        raise ValueError("expected exactly one balanced (define ...) expression")
    return stack[0][0]


@dataclass(frozen=True)
class ProblemFacts:
    """What a reference plan needs from a problem file, lower-cased.

    Attributes
    ----------
    name, domain : str
        Problem and domain names.
    objects : dict[str, str]
        Object name to type name (``"object"`` when untyped).
    init : frozenset of tuple[str, ...]
        Initial atoms as ``(predicate, arg, ...)``.
    goal : tuple of tuple[str, ...]
        Goal atoms; only positive conjunctive goals are supported, as in all project domains.
    """

    name: str
    domain: str
    objects: dict[str, str]
    init: frozenset[Atom]
    goal: tuple[Atom, ...]

    def of_type(self, typ: str) -> list[str]:
        """Objects of one type, in file order."""
        return [o for o, t in self.objects.items() if t == typ]

    def init_with(self, predicate: str) -> list[Atom]:
        """Initial atoms of one predicate, sorted for deterministic plans."""
        return sorted(a for a in self.init if a[0] == predicate)


def _typed_list(items: list) -> dict[str, str]:
    """``a b - t c`` as ``{a: t, b: t, c: object}``."""
    out: dict[str, str] = {}
    pending: list[str] = []
    i = 0
    while i < len(items):
        item = items[i]
        if item == "-":
            typ = items[i + 1]
            out.update(dict.fromkeys(pending, typ))
            pending = []
            i += 2
            continue
        pending.append(item)
        i += 1
    out.update(dict.fromkeys(pending, "object"))
    return out


def _goal_atoms(expr: list) -> tuple[Atom, ...]:
    if expr and expr[0] == "and":
        atoms: list[Atom] = []
        for sub in expr[1:]:
            atoms.extend(_goal_atoms(sub))
        return tuple(atoms)
    if not expr or not isinstance(expr[0], str) or expr[0] in {"not", "or", "imply"}:
        raise ValueError(f"only conjunctions of positive atoms are supported, got {expr!r}")
    return (tuple(expr),)


def read_problem(problem: str | os.PathLike[str]) -> ProblemFacts:
    """Objects, initial state and goal of a STRIPS problem given as PDDL text or a file path.

    Parameters
    ----------
    problem : str or os.PathLike
        Problem PDDL text (any string containing ``(define``) or a path to a problem file.

    Returns
    -------
    ProblemFacts
    """
    if isinstance(problem, os.PathLike) or "(define" not in problem.lower():
        text = Path(problem).read_text(encoding="utf-8-sig")
    else:
        text = problem
    tree = _sexpr(_tokens(text))
    if not tree or tree[0] != "define":
        raise ValueError("problem text does not start with (define ...)")
    name, domain, objects, init, goal = "", "", {}, frozenset(), ()
    for part in tree[1:]:
        head = part[0] if part else None
        if head == "problem":
            name = part[1]
        elif head == ":domain":
            domain = part[1]
        elif head == ":objects":
            objects = _typed_list(part[1:])
        elif head == ":init":
            init = frozenset(tuple(a) for a in part[1:])
        elif head == ":goal":
            goal = _goal_atoms(part[1])
    return ProblemFacts(name=name, domain=domain, objects=objects, init=init, goal=goal)


def step(*parts: str) -> str:
    """One IPC-format plan line, e.g. ``step("stack", "b1", "b2") == "(stack b1 b2)"``."""
    return "(" + " ".join(parts) + ")"
