"""Property tests of code extraction from LLM replies (:func:`ahd.llm.extract_code`).

Whatever a model answers, extraction either returns code or raises :class:`NoCodeError` (whose
message goes back to the model); anything else would end a proposal with a traceback. And a
reply that does hold a fenced block defining the entry point always yields that code, whatever
prose surrounds it.
"""

from __future__ import annotations

import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from ahd.llm import NoCodeError, extract_code

SETTINGS = settings(max_examples=300, deadline=None, database=None)
ENTRIES = (["destroy"], ["repair"], ["destroy", "repair"], ["h"])

#: Text pieces that exercise the extractor's parsing: fences, think tags, code-like lines.
PIECES = st.sampled_from([
    "```", "```python", "~~~", "```py\n", "\n```\n", "<think>", "</think>", "<thinking>",
    "def destroy(inst, sol, n_remove, removed):", "def repair(", "    return 0", "def h(",
    "import numpy as np", "\n", "    ", "\t", "x = (", "lambda", ":", "#", "\r\n", "\x00",
])
REPLIES = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=30).map("".join),
)


@SETTINGS
@given(reply=REPLIES, entries=st.sampled_from(ENTRIES))
def test_any_reply_gives_code_or_no_code_error(reply, entries):
    try:
        code = extract_code(reply, entries)
    except NoCodeError as exc:
        assert str(exc).strip()  # the feedback sent to the model is never empty
        return
    assert isinstance(code, str) and code.endswith("\n")
    assert any(f"def {name}" in code for name in entries)


IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: s not in {"destroy", "def", "return", "if", "in", "is", "or", "and", "not",
                        "for", "as", "del", "try", "with", "while", "else", "elif", "pass",
                        "from", "import", "class", "lambda", "global", "assert", "yield",
                        "raise", "break", "async", "await", "except", "finally", "continue",
                        "nonlocal"})
#: Prose that cannot open or close a fence or a reasoning section.
PROSE = st.text(st.characters(blacklist_characters="`~<>", blacklist_categories=("Cs",)),
                max_size=200)


@st.composite
def destroy_code(draw) -> str:
    """A syntactically valid ``destroy`` operator, sometimes with a helper or an import."""
    name = draw(IDENT)
    const = draw(st.integers(-1000, 1000))
    lines = []
    if draw(st.booleans()):
        lines += ["import numpy as np", ""]
    if draw(st.booleans()):
        lines += [f"def helper_{name}(x):", f"    return x + {const}", "", ""]
        body = f"    {name} = helper_{name}(n_remove)"
    else:
        body = f"    {name} = {const}"
    lines += ["def destroy(inst, sol, n_remove, removed):", body, f"    return {name}"]
    return "\n".join(lines)


@SETTINGS
@given(before=PROSE, after=PROSE, code=destroy_code(),
       lang=st.sampled_from(["python", "py", "Python3", ""]))
def test_a_fenced_block_with_valid_code_is_always_found(before, after, code, lang):
    reply = f"{before}\n```{lang}\n{code}\n```\n{after}"
    found = extract_code(reply, ["destroy"])
    tree = ast.parse(found)
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert "destroy" in names
    assert "def destroy(inst, sol, n_remove, removed):" in found
