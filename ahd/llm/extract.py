"""Pull the candidate's Python code out of an LLM reply.

Models wrap code in Markdown fences, split it over several blocks (imports, a helper, the
operator), add usage examples, think aloud in ``<think>`` tags, and sometimes answer with bare
code. :func:`extract_code` keeps exactly the blocks the candidate needs: the blocks that define
the entry points, plus blocks defining helpers, constants or imports those use. Syntax is not
judged here: a block that plainly contains ``def destroy(`` is returned even if it does not parse,
so the static check can tell the model *which* line is wrong, which is far better feedback than
"no code found".

When nothing usable is found, :class:`NoCodeError`'s message is written to be sent back to the
model as is.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from ahd import syntax
from ahd.static_check import free_names

__all__ = ["NoCodeError", "extract_code", "strip_fences", "strip_think"]

#: Fence languages taken as Python. An unlabelled fence counts too.
_PYTHON_LANGS = frozenset({"", "python", "py", "python3", "py3", "numba"})
_FENCE = re.compile(r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")
_THINK_BLOCK = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN = re.compile(r"<think(?:ing)?>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think(?:ing)?>", re.IGNORECASE)
_IDENT = re.compile(r"[A-Za-z_]\w*")


class NoCodeError(ValueError):
    """The reply holds no code defining any entry point; the message is meant for the model."""


# -- text cleanup -----------------------------------------------------------------------------


def strip_think(text: str) -> str:
    """Remove reasoning sections (``<think>...</think>``, also ``<thinking>``).

    Reasoning often contains draft code that must not be mistaken for the answer. A closing tag
    without an opening one (some chat templates put the opening tag in the prompt) drops
    everything before it; an opening tag never closed (reply cut off while thinking) drops
    everything after it.
    """
    text = _THINK_BLOCK.sub("", text)
    closing = list(_THINK_CLOSE.finditer(text))
    if closing:
        text = text[closing[-1].end():]
    opening = _THINK_OPEN.search(text)
    if opening:
        text = text[: opening.start()]
    return text


@dataclass(frozen=True)
class _Block:
    """A fenced block: its info-string language and its (dedented) code."""

    lang: str
    code: str


def _fenced_blocks(text: str) -> list[_Block]:
    """All fenced blocks in order. A fence left open (reply cut off) runs to the end."""
    blocks: list[_Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match.group("fence")
        info = match.group("info").strip()
        lang = info.split()[0].lower() if info else ""
        body: list[str] = []
        i += 1
        while i < len(lines):
            close = _FENCE.match(lines[i])
            if close and close.group("fence").startswith(fence) and not close.group("info"):
                break
            body.append(lines[i])
            i += 1
        i += 1  # past the closing fence
        blocks.append(_Block(lang, textwrap.dedent("\n".join(body)).strip("\n")))
    return blocks


def strip_fences(text: str) -> str:
    """The contents of all fenced blocks joined by a blank line, or ``text`` if it has none.

    For replies that are known to be code (a repair prompt that asked for "only the code"),
    where picking blocks by what they define is unnecessary.
    """
    blocks = _fenced_blocks(text)
    if not blocks:
        return text.strip("\n")
    return "\n\n".join(block.code for block in blocks if block.code.strip())


# -- what a block defines and uses ------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """Top-level names a block binds, names it reads without binding, and whether it parsed."""

    defines: frozenset[str]
    functions: frozenset[str]
    uses: frozenset[str]
    parses: bool


def _facts(code: str) -> _Facts:
    try:
        tree = syntax.parse(code)
    except (SyntaxError, ValueError):
        return _facts_by_regex(code)
    defines: set[str] = set()
    functions: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.add(node.name)
            defines.add(node.name)
        elif isinstance(node, ast.ClassDef):
            defines.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defines.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                defines.update(
                    n.id for n in ast.walk(target) if isinstance(n, ast.Name)
                )
    # Free names only: a usage example's ``inst = ...`` must not be pulled in because the
    # operator has a parameter called ``inst``.
    return _Facts(frozenset(defines), frozenset(functions), frozenset(free_names(code)), True)


_DEF_LINE = re.compile(r"^(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)[ \t]*\(", re.MULTILINE)
_CLASS_LINE = re.compile(r"^class[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
_ASSIGN_LINE = re.compile(r"^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)", re.MULTILINE)
_IMPORT_LINE = re.compile(
    r"^(?:from[ \t]+\S+[ \t]+)?import[ \t]+(.+)$", re.MULTILINE
)


def _facts_by_regex(code: str) -> _Facts:
    """Best-effort facts for a block that does not parse: top-level lines only."""
    functions = set(_DEF_LINE.findall(code))
    defines = functions | set(_CLASS_LINE.findall(code)) | set(_ASSIGN_LINE.findall(code))
    for names in _IMPORT_LINE.findall(code):
        for part in names.strip("()").split(","):
            words = part.split()
            if words:
                defines.add(words[-1].split(".")[0])
    uses = set(_IDENT.findall(code))
    return _Facts(frozenset(defines), frozenset(functions), frozenset(uses), False)


# -- choosing blocks --------------------------------------------------------------------------


def _choose(facts: list[_Facts], entries: Sequence[str]) -> list[int]:
    """Indices of the blocks to keep, in reply order.

    The main block is the one defining the most entry points (ties: one that parses, then the
    later one, since models put revised versions last). Entry points it lacks come from the last
    block defining each. Then, repeatedly, a block is added when it defines a name the kept
    blocks use but do not define, and defines no entry point itself (a second full version of
    ``destroy`` would silently replace the first).
    """
    wanted = set(entries)
    scored = [
        (len(wanted & f.functions), f.parses, i) for i, f in enumerate(facts)
        if wanted & f.functions
    ]
    if not scored:
        return []
    main = max(scored)[2]
    keep = {main}
    for name in entries:
        if name not in facts[main].functions:
            holders = [i for i, f in enumerate(facts) if name in f.functions]
            if holders:
                keep.add(holders[-1])
    while True:
        defined = set().union(*(facts[i].defines for i in keep))
        needed = set().union(*(facts[i].uses for i in keep)) - defined
        extra = {
            i for i, f in enumerate(facts)
            if i not in keep and not (f.functions & wanted) and f.defines & needed
        }
        if not extra:
            return sorted(keep)
        keep |= extra


def _no_code(what: str, entries: Sequence[str]) -> NoCodeError:
    """The error to send back to the model: what was missing and what to answer instead."""
    names = [f"`{name}`" for name in entries]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    pronoun = "it" if len(names) == 1 else "them"
    return NoCodeError(
        f"Your reply contained no {what} defining {listed}. Answer with one ```python block "
        f"that defines {pronoun} at top level."
    )


def extract_code(text: str, entries: Sequence[str]) -> str:
    """The Python code in an LLM reply that defines ``entries``.

    Parameters
    ----------
    text
        The raw reply.
    entries
        Names of the top-level functions the candidate must define (e.g. ``["destroy"]``).
        Code defining at least one of them is returned; the static check reports any missing.

    Returns
    -------
    str
        The chosen fenced blocks joined by a blank line, or the whole (think-stripped) reply
        when it has no fences but parses as Python defining an entry point.

    Raises
    ------
    NoCodeError
        No block (nor the bare reply) defines any entry point. The message can be sent back to
        the model as feedback.
    ValueError
        ``entries`` is empty or not a sequence of identifiers.
    """
    if isinstance(entries, str):
        entries = [entries]
    entries = list(entries)
    if not entries or not all(isinstance(e, str) and e.isidentifier() for e in entries):
        raise ValueError(f"entries must be a non-empty list of identifiers, got {entries!r}")
    body = strip_think(text)
    blocks = [b for b in _fenced_blocks(body) if b.lang in _PYTHON_LANGS and b.code.strip()]
    if blocks:
        facts = [_facts(b.code) for b in blocks]
        chosen = _choose(facts, entries)
        if chosen:
            return "\n\n".join(blocks[i].code for i in chosen) + "\n"
        raise _no_code("Python code block", entries)
    bare = textwrap.dedent(body).strip("\n")
    if bare and _defines_by_parse(bare, entries):
        return bare + "\n"
    raise _no_code("Python code", entries)


def _defines_by_parse(code: str, entries: Sequence[str]) -> bool:
    facts = _facts(code)
    return facts.parses and bool(facts.functions & set(entries))
