"""A proposed heuristic: its source code, the roles it fills, and where it came from.

Candidates are identified by the hash of their *normalized* code, so a proposer that only
reformats an existing candidate, or changes its comments or docstrings, produces a duplicate the
store recognises and never evaluates again.

The normalized text comes from ``ast.unparse``, whose output can change between Python
versions; hashes are compared within one run (one interpreter), never across installations.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ahd import syntax

#: Canonical order of the routing roles; other (planning) roles sort after them by name.
ROLE_ORDER = ("destroy", "repair", "improve")


def _role_key(role: str) -> tuple[int, str]:
    return (ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER), role)


def canonical_roles(roles) -> tuple[str, ...]:
    """The roles in canonical order, so ``("repair", "destroy")`` and its reverse are one key."""
    return tuple(sorted(roles, key=_role_key))


class _StripDocstrings(ast.NodeTransformer):
    """Drop the docstring of the module, of every class and of every function."""

    def _strip(self, node):
        self.generic_visit(node)
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
        return node

    visit_Module = _strip
    visit_ClassDef = _strip
    visit_FunctionDef = _strip
    visit_AsyncFunctionDef = _strip


def normalize_code(source: str) -> str:
    """Canonical text of ``source``: parsed and unparsed, without docstrings or comments.

    Two sources that differ only in formatting, comments or docstrings normalize to the same
    text, which is what makes :func:`code_hash` a good deduplication key.

    Raises
    ------
    SyntaxError
        When ``source`` does not parse (``ValueError`` for null bytes is turned into one too).
    """
    try:
        tree = syntax.parse(source)
    except ValueError as exc:  # e.g. "source code string cannot contain null bytes"
        raise SyntaxError(str(exc)) from exc
    return ast.unparse(_StripDocstrings().visit(tree))


def code_hash(source: str) -> str:
    """SHA-256 (hex) of :func:`normalize_code` of ``source``.

    Code that does not parse still needs an identity (the store records failed proposals too);
    it is hashed from its text with trailing whitespace and blank lines removed, prefixed so it
    can never collide with the hash of parsable code.
    """
    try:
        text = normalize_code(source)
    except (SyntaxError, RecursionError, MemoryError):
        lines = [line.rstrip() for line in source.splitlines()]
        text = "unparsable:\n" + "\n".join(line for line in lines if line)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Origin:
    """Who proposed a candidate and what it cost.

    Parameters
    ----------
    proposer
        Name of the proposer (``"llm"``, ``"offline"``, ``"seed"`` ...).
    strategy
        How it was made (``"mutation"``, ``"crossover"``, ``"fresh"`` ...).
    template
        Name of the prompt template, empty for proposers that use none.
    model
        LLM model name, empty for offline proposers.
    tokens_in, tokens_out
        Prompt and completion tokens spent on this candidate.
    cost_usd
        Money spent on this candidate.
    """

    proposer: str = "unknown"
    strategy: str = ""
    template: str = ""
    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0

    def __post_init__(self) -> None:
        if not self.proposer:
            raise ValueError("Origin.proposer must not be empty")
        if self.tokens_in < 0 or self.tokens_out < 0:
            raise ValueError("Origin token counts must be >= 0")
        if not math.isfinite(self.cost_usd) or self.cost_usd < 0:
            raise ValueError(f"Origin.cost_usd must be finite and >= 0, got {self.cost_usd}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON storage."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Origin:
        """Inverse of :meth:`to_dict`; unknown keys (from newer versions) are ignored."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass(frozen=True)
class Candidate:
    """One proposed heuristic.

    Parameters
    ----------
    source
        Python source defining one top-level function per role.
    roles
        Role names the source fills, e.g. ``("destroy",)`` or ``("destroy", "repair")`` for a
        joint proposal. Stored in canonical order (see :func:`canonical_roles`).
    problem
        Problem the candidate was made for (``"cvrp"`` ...).
    parents
        Store ids of the candidates it was derived from.
    origin
        Proposer, strategy, template, model and cost.
    generation
        Evolution generation (0 for seeds and fresh proposals).
    entry_points
        Function name per role; defaults to the role name itself. Treat it as read-only.
    id
        Store id, ``None`` until the store assigns one.

    Attributes
    ----------
    code_hash
        SHA-256 of the normalized source (see :func:`code_hash`), computed here so that every
        holder of a candidate agrees on its identity.
    """

    source: str
    roles: tuple[str, ...]
    problem: str
    parents: tuple[int, ...] = ()
    origin: Origin = field(default_factory=Origin)
    generation: int = 0
    entry_points: Mapping[str, str] | None = field(default=None, hash=False)
    id: int | None = None
    code_hash: str = field(init=False, default="")

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source.strip():
            raise ValueError("Candidate.source must be non-empty text")
        roles = (self.roles,) if isinstance(self.roles, str) else tuple(self.roles)
        if not roles:
            raise ValueError("Candidate.roles must name at least one role")
        for role in roles:
            if not isinstance(role, str) or not role.isidentifier():
                raise ValueError(f"role names must be identifiers, got {role!r}")
        if len(set(roles)) != len(roles):
            raise ValueError(f"Candidate.roles has duplicates: {roles}")
        if not self.problem:
            raise ValueError("Candidate.problem must not be empty")
        parents = tuple(int(p) for p in self.parents)
        if any(p < 0 for p in parents):
            raise ValueError(f"parent ids must be >= 0, got {parents}")
        if self.generation < 0:
            raise ValueError(f"generation must be >= 0, got {self.generation}")
        if self.id is not None and self.id < 0:
            raise ValueError(f"id must be >= 0, got {self.id}")
        if not isinstance(self.origin, Origin):
            raise TypeError("Candidate.origin must be an Origin")
        entry = dict(self.entry_points) if self.entry_points else {}
        unknown = set(entry) - set(roles)
        if unknown:
            raise ValueError(f"entry_points name roles the candidate lacks: {sorted(unknown)}")
        for role in roles:
            name = entry.setdefault(role, role)
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"entry point of {role!r} must be an identifier, got {name!r}")
        ordered = canonical_roles(roles)
        object.__setattr__(self, "roles", ordered)
        object.__setattr__(self, "parents", parents)
        # A plain dict (not a read-only proxy) so candidates pickle to worker processes.
        object.__setattr__(self, "entry_points", {r: entry[r] for r in ordered})
        object.__setattr__(self, "code_hash", code_hash(self.source))

    def with_id(self, candidate_id: int) -> Candidate:
        """A copy carrying the store id (the candidate itself is immutable).

        The copy keeps the checked fields and the code hash as they are: hashing parses the
        source again, which for a large candidate costs milliseconds and megabytes."""
        if int(candidate_id) < 0:
            raise ValueError(f"id must be >= 0, got {candidate_id}")
        out = copy.copy(self)
        object.__setattr__(out, "entry_points", dict(self.entry_points))
        object.__setattr__(out, "id", int(candidate_id))
        return out
