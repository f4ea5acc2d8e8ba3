"""Static checks: valid operators pass; every refused construct gets its exact message."""

import pytest
from operator_sources import RANDOM_DESTROY as DESTROY

from ahd.problems.checks import ROUTING_IMPORTS, routing_spec
from ahd.static_check import (
    FORBIDDEN_BUILTINS,
    FORBIDDEN_NAMES,
    SAFE_BUILTINS,
    RoleSpec,
    free_names,
    role_specs,
    static_check,
)

SMALL = {"math", "numba", "numpy"}
#: The routing roles' specs: the core checks any role a task defines; routing's are at hand.
SPEC = {role: routing_spec(role) for role in ("destroy", "repair", "improve")}
ALLOWED = "allowed: math, numba, numpy"

REPAIR = '''
import math

from ahd.problems.engine.state import best_insertion, insert_customer


def repair(inst, sol, removed, k, penalty):
    for i in range(k):
        c = removed[i]
        r, p, delta = best_insertion(inst, sol, c, penalty)
        if r < 0 or math.isinf(delta):
            r, p = 0, 0
        insert_customer(inst, sol, c, r, p)
'''

IMPROVE = """
def improve(inst, sol, penalty):
    pass
"""


def destroy_with(body_line: str, header: str = "") -> str:
    """A valid destroy operator with ``body_line`` as line 3 (or ``header`` at line 1)."""
    return f"{header}\ndef destroy(inst, sol, n_remove, removed):\n    {body_line}\n    return 0\n"


@pytest.mark.parametrize(
    ("source", "roles"),
    [
        (DESTROY, (SPEC["destroy"],)),
        (REPAIR, (SPEC["repair"],)),
        (IMPROVE, (SPEC["improve"],)),
        (DESTROY + REPAIR, (SPEC["destroy"], SPEC["repair"])),
        (REPAIR, {"repair": 5}),
    ],
    ids=["destroy", "repair", "improve", "joint", "arity-mapping"],
)
def test_valid_operators_pass(source, roles):
    assert static_check(source, roles, ROUTING_IMPORTS, SAFE_BUILTINS) == []


def test_future_import_and_submodules_of_allowed_modules_pass():
    source = destroy_with(
        "x = numpy.linalg.norm(inst.dist[0])",
        "from __future__ import annotations\nimport numpy.linalg\nfrom numpy import random",
    )
    assert static_check(source, SPEC["destroy"], SMALL) == []


def test_importing_an_allowed_submodule_by_from_import_passes():
    source = destroy_with("x = state.NEIGHBOURS", "from ahd.problems.engine import state")
    assert static_check(source, SPEC["destroy"], {"ahd.problems.engine.state"}) == []
    assert static_check(source, SPEC["destroy"], SMALL) == [
        f"line 1: import from 'ahd.problems.engine' is not allowed; {ALLOWED}"
    ]


def test_syntax_error_reports_line_col_and_text():
    source = "def destroy(inst, sol, n_remove, removed)\n    return 0\n"
    assert static_check(source, SPEC["destroy"]) == [
        "line 1, col 42: syntax error: expected ':' in `def destroy(inst, sol, n_remove, removed)`"
    ]


def test_null_bytes_are_reported_not_raised():
    [message] = static_check("x = 1\x00", SPEC["destroy"])
    assert message.startswith("line ")


@pytest.mark.parametrize("module", ["os", "subprocess", "os.path", "pickle"])
def test_import_outside_the_allow_list(module):
    source = destroy_with("pass", f"import {module}")
    assert static_check(source, SPEC["destroy"], SMALL)[0] == (
        f"line 1: import of '{module}' is not allowed; {ALLOWED}"
    )


def test_from_import_outside_the_allow_list():
    source = destroy_with("pass", "from shutil import rmtree")
    assert static_check(source, SPEC["destroy"], SMALL) == [
        f"line 1: import from 'shutil' is not allowed; {ALLOWED}"
    ]


def test_relative_import():
    source = destroy_with("pass", "from ..engine.state import remove_customer")
    assert static_check(source, SPEC["destroy"], SMALL) == [
        "line 1: relative import 'from ..engine.state import ...' is not allowed; "
        f"import by absolute module name ({ALLOWED})"
    ]


def test_wildcard_import():
    source = destroy_with("pass", "from numpy import *")
    assert static_check(source, SPEC["destroy"], SMALL) == [
        "line 1: wildcard import 'from numpy import *' is not allowed; import the names you use"
    ]


@pytest.mark.parametrize("name", sorted(FORBIDDEN_BUILTINS))
def test_forbidden_builtins(name):
    source = destroy_with(f"x = {name}")
    assert static_check(source, SPEC["destroy"], SMALL) == [
        f"line 3: '{name}' is not allowed ({FORBIDDEN_BUILTINS[name]})"
    ]


def test_forbidden_builtin_messages_name_the_reason():
    assert FORBIDDEN_BUILTINS["eval"] == "dynamic code execution"
    assert FORBIDDEN_BUILTINS["getattr"] == "reflection"
    assert FORBIDDEN_BUILTINS["open"] == "file, terminal or debugger access"
    assert set(FORBIDDEN_BUILTINS) == {
        "exec", "eval", "compile", "open", "__import__", "globals", "locals", "vars",
        "getattr", "setattr", "delattr", "input", "breakpoint",
    }


@pytest.mark.parametrize("name", sorted(FORBIDDEN_NAMES))
def test_forbidden_module_names(name):
    source = destroy_with(f"x = {name}.anything")
    assert static_check(source, SPEC["destroy"], SMALL) == [
        f"line 3: name '{name}' is not allowed (operator code must not reach the system, "
        "processes or threads)"
    ]


@pytest.mark.parametrize("attr", ["__class__", "__subclasses__", "__globals__", "__builtins__"])
def test_dunder_attributes(attr):
    source = destroy_with(f"x = sol.{attr}")
    assert static_check(source, SPEC["destroy"], SMALL) == [
        f"line 3: dunder attribute '.{attr}' is not allowed"
    ]


def test_dunder_names_and_imported_dunders():
    assert static_check(destroy_with("x = __builtins__"), SPEC["destroy"], SMALL) == [
        "line 3: dunder name '__builtins__' is not allowed"
    ]
    source = destroy_with("pass", "from numpy import __config__ as cfg")
    assert static_check(source, SPEC["destroy"], SMALL) == [
        "line 1: dunder name '__config__' is not allowed"
    ]


def test_file_access_attributes():
    assert static_check(destroy_with("x = np.fromfile('f')"), SPEC["destroy"], SMALL) == [
        "line 3: attribute '.fromfile' is not allowed (file or raw memory access)"
    ]


def test_missing_entry_point():
    assert static_check("def destroyer(a, b, c, d):\n    return 0\n", SPEC["destroy"]) == [
        "missing entry point: the destroy role needs a top-level "
        "'def destroy(inst, sol, n_remove, removed)'"
    ]


def test_nested_entry_point_gets_a_hint():
    source = "def outer():\n    def repair(inst, sol, removed, k, penalty):\n        pass\n"
    assert static_check(source, SPEC["repair"]) == [
        "missing entry point: the repair role needs a top-level "
        "'def repair(inst, sol, removed, k, penalty)'; found one nested at line 2, move it to "
        "module level"
    ]


def test_wrong_arity():
    source = "def improve(inst, sol):\n    pass\n"
    assert static_check(source, SPEC["improve"]) == [
        "line 1: 'improve' takes 2 parameters but the improve role needs 3: "
        "'def improve(inst, sol, penalty)'"
    ]


def test_star_args_and_keyword_only_parameters():
    for params in ("*args", "inst, sol, penalty, *, extra=1", "inst, sol, penalty, **kw"):
        assert static_check(f"def improve({params}):\n    pass\n", SPEC["improve"]) == [
            "line 1: 'improve' must take exactly 3 positional parameters, without *args, "
            "**kwargs or keyword-only parameters: 'def improve(inst, sol, penalty)'"
        ]


def test_async_entry_point():
    assert static_check("async def improve(inst, sol, penalty):\n    pass\n", SPEC["improve"]) == [
        "line 1: 'improve' must be a plain def, not async def"
    ]


def test_entry_point_that_is_an_assignment_or_a_class():
    assert static_check("improve = lambda inst, sol, penalty: None\n", SPEC["improve"]) == [
        "line 1: 'improve' is an assignment; the improve role needs "
        "'def improve(inst, sol, penalty)'"
    ]
    assert static_check("class improve:\n    pass\n", SPEC["improve"]) == [
        "line 1: 'improve' is a class; the improve role needs 'def improve(inst, sol, penalty)'"
    ]


def test_duplicate_definitions():
    source = IMPROVE + IMPROVE
    assert static_check(source, SPEC["improve"]) == [
        "line 5: 'improve' is defined 2 times (lines 2, 5); keep one definition"
    ]


def test_mapping_roles_check_arity_with_generic_parameter_names():
    assert static_check("def plan(a):\n    pass\n", {"plan": 2}) == [
        "line 1: 'plan' takes 1 parameter but the plan role needs 2: 'def plan(arg0, arg1)'"
    ]


def test_role_spec_and_entry_point_overrides():
    spec = RoleSpec("plan", ("state", "budget"), entry_point="make_plan")
    assert static_check("def make_plan(state, budget):\n    pass\n", spec) == []
    source = "def my_destroy(inst, sol, n_remove, removed):\n    return 0\n"
    assert static_check(source, SPEC["destroy"], entry_points={"destroy": "my_destroy"}) == []
    assert role_specs(SPEC["destroy"], {"destroy": "x"})[0].entry_point == "x"
    with pytest.raises(TypeError, match="give a RoleSpec"):
        role_specs(("plan",))
    with pytest.raises(ValueError, match="unknown routing role"):
        routing_spec("plan")


def test_undefined_names_are_reported_only_with_allowed_names():
    source = destroy_with("x = remove_customer(inst, sol, 1) + len(removed)")
    assert static_check(source, SPEC["destroy"], SMALL) == []
    assert static_check(source, SPEC["destroy"], SMALL, SAFE_BUILTINS) == [
        "line 3: name 'remove_customer' is not defined; import or define it "
        "(only allowed builtins can be used without that)"
    ]


def test_messages_are_in_line_order_then_missing_entry_points():
    source = "import os\nx = eval\ny = sol.__class__\n"
    assert static_check(source, SPEC["destroy"], SMALL) == [
        f"line 1: import of 'os' is not allowed; {ALLOWED}",
        "line 2: 'eval' is not allowed (dynamic code execution)",
        "line 3: dunder attribute '.__class__' is not allowed",
        "missing entry point: the destroy role needs a top-level "
        "'def destroy(inst, sol, n_remove, removed)'",
    ]


def test_message_count_is_capped():
    source = "\n".join(f"x{i} = eval" for i in range(30)) + "\n"
    messages = static_check(source, SPEC["destroy"], max_messages=5)
    assert len(messages) == 5
    assert messages[-1] == "... and 27 more problems"


def test_free_names():
    assert free_names(DESTROY) == {"range"}
    assert free_names("def f(a):\n    return np.sum(a) + helper(a)\n") == {"np", "helper"}
