"""Code extraction from LLM replies: fences, several blocks, reasoning, bare code, no code."""

from __future__ import annotations

import ast

import pytest

from ahd.llm import NoCodeError, extract_code, strip_fences, strip_think

DESTROY = """def destroy(inst, sol, n_remove, removed):
    return 0"""


def fenced(code: str, lang: str = "python") -> str:
    return f"```{lang}\n{code}\n```"


@pytest.mark.parametrize("lang", ["python", "py", "Python3", ""])
def test_single_fenced_block(lang):
    reply = f"Here is my operator:\n\n{fenced(DESTROY, lang)}\n\nIt removes nothing."
    assert extract_code(reply, ["destroy"]) == DESTROY + "\n"


def test_other_languages_are_ignored():
    reply = f"{fenced('pip install numpy', 'bash')}\n{fenced(DESTROY)}"
    assert extract_code(reply, ["destroy"]) == DESTROY + "\n"


def test_helper_blocks_are_joined_and_examples_dropped():
    imports = "import numpy as np"
    helper = "LIMIT = 3\n\ndef pick(inst):\n    return np.random.randint(1, inst.n + 1)"
    main = "def destroy(inst, sol, n_remove, removed):\n    removed[0] = pick(inst)\n    return 1"
    example = "inst = load('X-n101')\nk = destroy(inst, sol, 5, removed)\nprint(k)"
    unrelated = "def unused_helper():\n    return 42"
    reply = "\n\ntext\n\n".join(
        fenced(block) for block in (imports, helper, main, example, unrelated)
    )
    code = extract_code(reply, ["destroy"])
    assert code == f"{imports}\n\n{helper}\n\n{main}\n"
    ast.parse(code)


def test_revised_version_wins_over_draft():
    draft = "def destroy(inst, sol, n_remove, removed):\n    return -1"
    reply = f"Draft:\n{fenced(draft)}\nActually, better:\n{fenced(DESTROY)}"
    assert extract_code(reply, ["destroy"]) == DESTROY + "\n"


def test_block_with_all_entries_is_preferred():
    both = DESTROY + "\n\ndef repair(inst, sol, removed, k, penalty):\n    pass"
    partial = "def repair(inst, sol, removed, k, penalty):\n    return None"
    reply = f"{fenced(both)}\nor just\n{fenced(partial)}"
    assert extract_code(reply, ["destroy", "repair"]) == both + "\n"


def test_entries_from_separate_blocks():
    repair = "def repair(inst, sol, removed, k, penalty):\n    pass"
    code = extract_code(f"{fenced(DESTROY)}\n{fenced(repair)}", ["destroy", "repair"])
    assert code == f"{DESTROY}\n\n{repair}\n"


def test_think_sections_are_dropped():
    thought = "<think>\nMaybe:\n" + fenced("def destroy(a, b, c, d):\n    return 99") + "\n</think>"
    reply = f"{thought}\nFinal answer:\n{fenced(DESTROY)}"
    assert extract_code(reply, ["destroy"]) == DESTROY + "\n"


def test_think_only_reply_has_no_code():
    reply = "<think>I would write\n" + fenced(DESTROY) + "\nbut I ran out of tokens"
    with pytest.raises(NoCodeError):
        extract_code(reply, ["destroy"])


def test_strip_think_variants():
    assert strip_think("a<think>x</think>b<THINKING>y</THINKING>c") == "abc"
    assert strip_think("reasoning without an opening tag</think>answer") == "answer"
    assert strip_think("answer<think>cut off") == "answer"


def test_bare_code_is_accepted_when_it_parses():
    assert extract_code(f"\n{DESTROY}\n", ["destroy"]) == DESTROY + "\n"


def test_bare_prose_is_not_code():
    with pytest.raises(NoCodeError):
        extract_code("Define destroy(inst, sol, n_remove, removed) to remove.", ["destroy"])


@pytest.mark.parametrize(
    "reply",
    [
        "I cannot help with that.",
        fenced("def something_else():\n    pass"),
        fenced("print('hello')"),
        "",
    ],
)
def test_no_code_error_is_feedback_for_the_model(reply):
    with pytest.raises(NoCodeError, match="no Python code.*defining `destroy`") as info:
        extract_code(reply, ["destroy"])
    assert isinstance(info.value, ValueError)
    assert "```python" in str(info.value)


def test_no_code_error_names_every_entry():
    with pytest.raises(NoCodeError, match="`destroy` and `repair`.*defines them"):
        extract_code("nothing here", ["destroy", "repair"])


def test_syntax_error_block_is_still_returned():
    broken = "import numpy as np\n\ndef destroy(inst, sol, n_remove, removed)\n    return 0"
    reply = f"{fenced(broken)}\n{fenced('print(destroy)')}"
    assert extract_code(reply, ["destroy"]) == broken + "\n"


def test_unclosed_fence_runs_to_the_end():
    reply = "Here:\n```python\n" + DESTROY + "\n"  # cut off at max_tokens
    assert extract_code(reply, ["destroy"]) == DESTROY + "\n"


def test_indented_fence_is_dedented():
    block = "\n".join("   " + line for line in fenced(DESTROY).splitlines())
    assert extract_code(f"1. The code:\n{block}", ["destroy"]) == DESTROY + "\n"


def test_longer_fence_contains_a_shorter_one():
    code = DESTROY + '\n\nDOC = """\n```\nnot a fence end\n```\n"""'
    reply = f"````python\n{code}\n````"
    assert extract_code(reply, ["destroy"]) == code + "\n"


def test_entries_must_be_identifiers():
    with pytest.raises(ValueError, match="entries"):
        extract_code(fenced(DESTROY), [])
    with pytest.raises(ValueError, match="entries"):
        extract_code(fenced(DESTROY), ["not an identifier"])
    assert extract_code(fenced(DESTROY), "destroy") == DESTROY + "\n"


def test_strip_fences():
    assert strip_fences(f"text\n{fenced('a = 1')}\nmore\n{fenced('b = 2', 'py')}") == (
        "a = 1\n\nb = 2"
    )
    assert strip_fences("\nx = 1\n") == "x = 1"
