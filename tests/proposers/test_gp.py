"""AST edits of the offline proposer (ahd.proposers.gp) on small sources and on the seeds."""

from __future__ import annotations

import ast
import itertools

import numpy as np
import pytest

from ahd.problems.child import load_source
from ahd.problems.engine.config import LNSConfig
from ahd.problems.engine.lns import run_lns
from ahd.problems.evaluate import check_source
from ahd.problems.generators import uniform_cvrp
from ahd.problems.operators import DEFAULT_POOLS
from ahd.problems.operators.standalone import standalone_source
from ahd.problems.verify import verify
from ahd.proposers import gp

#: Five tunable literals (none of them 0, 1, -1, a bool or a subscript index).
TUNABLE = """\
ALPHA = 0.25
LIMIT = 40


def f(x, n):
    total = 0.0
    for i in range(n):
        if x[i] > 3.5 and i < LIMIT:
            total += x[i] * 7
    return total * ALPHA + 12.0 * n
"""
TUNABLE_VALUES = [0.25, 40, 3.5, 7, 12.0]


def _numbers(source: str) -> list:
    """Every int/float literal (bools excluded), in AST walk order, as (type, value)."""
    return [
        (type(n.value), n.value)
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float))
        and not isinstance(n.value, bool)
    ]


def _bools(source: str) -> list:
    return [n.value for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Constant) and isinstance(n.value, bool)]


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- perturb_constants


def test_tunable_fixture_has_the_expected_literals():
    # 0.0 and the range start are not tunable; the five listed values are.
    assert sorted(n.value for n in gp._tunable(ast.parse(TUNABLE))) == sorted(TUNABLE_VALUES)


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_perturb_changes_exactly_count_literals(count):
    before = _numbers(TUNABLE)
    for seed in range(25):
        out = gp.perturb_constants(TUNABLE, _rng(seed), count=count)
        assert out is not None
        after = _numbers(out)
        assert len(after) == len(before)
        changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
        assert len(changed) == count, (seed, changed)
        for (ta, va), (tb, vb) in changed:
            assert ta is tb  # an int stays an int, a float a float
            assert va in TUNABLE_VALUES
            assert vb > 0


def test_perturb_prefers_module_level_constants():
    # ALPHA and LIMIT are the designed knobs: they take a NAMED_SHARE of the single edits on
    # top of their fair share of the rest.
    named = 0
    for seed in range(200):
        out = gp.perturb_constants(TUNABLE, _rng(seed), count=1)
        changed = [a for a, b in zip(_numbers(TUNABLE), _numbers(out), strict=True) if a != b]
        named += changed[0][1] in (0.25, 40)
    expected = gp.NAMED_SHARE + (1 - gp.NAMED_SHARE) * 2 / 5
    assert abs(named / 200 - expected) < 0.1


def test_perturb_count_larger_than_available_changes_all():
    out = gp.perturb_constants(TUNABLE, _rng(3), count=50)
    changed = [a for a, b in zip(_numbers(TUNABLE), _numbers(out), strict=True) if a != b]
    assert len(changed) == len(TUNABLE_VALUES)


def test_perturb_default_count_is_one_or_two():
    counts = set()
    for seed in range(30):
        out = gp.perturb_constants(TUNABLE, _rng(seed))
        counts.add(sum(a != b for a, b in zip(_numbers(TUNABLE), _numbers(out), strict=True)))
    assert counts == {1, 2}


def test_perturb_keeps_probabilities_below_one():
    src = "def f(x):\n    return x * 0.9\n"
    for seed in range(40):
        [(kind, value)] = _numbers(gp.perturb_constants(src, _rng(seed)))
        assert kind is float and 0 < value < 1 and value != 0.9


def test_perturb_is_deterministic_for_a_seed():
    outs = [gp.perturb_constants(TUNABLE, _rng(s), count=2) for s in range(10)]
    again = [gp.perturb_constants(TUNABLE, _rng(s), count=2) for s in range(10)]
    assert outs == again
    assert len(set(outs)) > 3


def test_perturb_changes_an_integer_two():
    # 2 is a common tuning literal (``n // 2``, ``2 * q``); every perturbation must change it.
    src = "def f(n):\n    return n // 2\n"
    for seed in range(30):
        out = gp.perturb_constants(src, _rng(seed), count=1)
        assert out is not None
        assert _numbers(out) != _numbers(src), f"seed {seed}: literal 2 left unchanged"


SUBSCRIPTS = """\
def f(x, y, i):
    a = x[2] + x[-3] + x[i + 1]
    b = x[2:5]
    c = x[::3]
    flag = True
    other = False
    z = 0 + 1 - 1
    return a + b[0] + c[0] + flag + other + z + 4.5 * y
"""


def test_perturb_leaves_simple_indices_booleans_and_units_alone():
    before = _numbers(SUBSCRIPTS)
    for seed in range(20):
        out = gp.perturb_constants(SUBSCRIPTS, _rng(seed), count=10)
        after = _numbers(out)
        changed = [a for a, b in zip(before, after, strict=True) if a != b]
        assert changed == [(float, 4.5)]
        assert _bools(out) == _bools(SUBSCRIPTS)


def test_perturb_leaves_tuple_indices_alone():
    # x[i, 2] indexes a 2-D array: changing the 2 can read out of bounds in numba code.
    src = "def f(x, i, y):\n    return x[i, 2] + x[i, -2] + 4.5 * y\n"
    for seed in range(20):
        out = gp.perturb_constants(src, _rng(seed), count=3)
        changed = [a for a, b in zip(_numbers(src), _numbers(out), strict=True) if a != b]
        assert changed == [(float, 4.5)], f"seed {seed}: {out}"


def test_perturb_without_tunables_or_unparsable():
    assert gp.perturb_constants("def f(x):\n    return x[2] + 1\n", _rng(0)) is None
    assert gp.perturb_constants("def f(x:\n", _rng(0)) is None


# ----------------------------------------------------------------------------- flip_comparison


def test_flip_comparison_turns_lt_into_lte_or_gt():
    src = "def f(a, b):\n    return a < b\n"
    seen = set()
    for seed in range(60):
        out = gp.flip_comparison(src, _rng(seed))
        expr = ast.unparse(ast.parse(out).body[0].body[0].value)
        seen.add(expr)
        assert gp.flip_comparison(src, _rng(seed)) == out
    assert seen == {"a <= b", "a > b"}


def test_flip_comparison_changes_one_operator_only():
    src = "def f(a, b, c):\n    return a < b <= c and a >= c\n"
    for seed in range(30):
        ops_before = [type(op) for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Compare)
                      for op in n.ops]
        out = gp.flip_comparison(src, _rng(seed))
        ops_after = [type(op) for n in ast.walk(ast.parse(out)) if isinstance(n, ast.Compare)
                     for op in n.ops]
        assert sum(a is not b for a, b in zip(ops_before, ops_after, strict=True)) == 1


def test_flip_comparison_without_orderings():
    assert gp.flip_comparison("def f(a, b):\n    return a == b or a is b\n", _rng(0)) is None


# ----------------------------------------------------------------------------- crossover_constants

VARIANT_B = (TUNABLE.replace("0.25", "0.5").replace("40", "55").replace("3.5", "2.75")
             .replace("* 7", "* 9").replace("12.0", "15.0"))


def test_crossover_mixes_values_of_the_same_shape():
    a_vals, b_vals = _numbers(TUNABLE), _numbers(VARIANT_B)
    assert a_vals != b_vals
    mixed = 0
    for seed in range(30):
        out = gp.crossover_constants(TUNABLE, VARIANT_B, _rng(seed))
        if out is None:
            continue
        vals = _numbers(out)
        assert all(v in (x, y) for v, x, y in zip(vals, a_vals, b_vals, strict=True))
        from_b = sum(v == y != x for v, x, y in zip(vals, a_vals, b_vals, strict=True))
        assert from_b >= 1  # None is returned when nothing would change
        if from_b < len(TUNABLE_VALUES):
            mixed += 1
        assert gp.crossover_constants(TUNABLE, VARIANT_B, _rng(seed)) == out
    assert mixed >= 20


def test_crossover_refuses_different_shapes():
    other = TUNABLE.replace("i < LIMIT", "i <= LIMIT")
    for seed in range(10):
        assert gp.crossover_constants(TUNABLE, other, _rng(seed)) is None
    seeds = [standalone_source("destroy", n) for n in ("worst_removal", "string_removal")]
    assert gp.crossover_constants(*seeds, _rng(0)) is None


def test_crossover_of_identical_sources_is_none():
    assert gp.crossover_constants(TUNABLE, TUNABLE, _rng(0)) is None


# ----------------------------------------------------------------------------- prefix_names

PURE = """\
LIMIT = 10
WEIGHTS = [3, 1, 4, 1, 5]


def helper(v):
    total = 0
    for i in range(v):
        if i < LIMIT:
            total += i * SCALE
    return total


SCALE = 3


def entry(a, b):
    LIMIT = a % 4  # a local that shares a top-level name
    acc = [w * LIMIT for w in WEIGHTS]
    return helper(a) + helper(b) + sum(acc) + len([s for s in range(SCALE)])
"""


def _exec(source: str) -> dict:
    ns: dict = {}
    exec(compile(source, "<test>", "exec"), ns)  # noqa: S102 - test-owned source
    return ns


def test_prefix_names_keeps_semantics():
    renamed = gp.prefix_names(PURE, "_p_", {"entry": "entry"})
    ns, ns2 = _exec(PURE), _exec(renamed)
    assert {"helper", "LIMIT", "SCALE", "WEIGHTS"}.isdisjoint(ns2)
    assert {"_p_helper", "_p_LIMIT", "_p_SCALE", "_p_WEIGHTS", "entry"} <= set(ns2)
    for a, b in [(0, 0), (5, 20), (13, 7), (30, 2)]:
        assert ns2["entry"](a, b) == ns["entry"](a, b)


def test_prefixed_sources_coexist_in_one_module():
    other = PURE.replace("SCALE = 3", "SCALE = 5").replace("LIMIT = 10", "LIMIT = 4")
    joined = gp.prefix_names(PURE, "_a_") + "\n\n" + gp.prefix_names(other, "_b_")
    ns, alone_a, alone_b = _exec(joined), _exec(PURE), _exec(other)
    for a, b in [(5, 20), (13, 7)]:
        assert ns["_a_entry"](a, b) == alone_a["entry"](a, b)
        assert ns["_b_entry"](a, b) == alone_b["entry"](a, b)
    assert alone_a["entry"](5, 20) != alone_b["entry"](5, 20)


def test_prefix_names_keeps_parameters_that_shadow_top_level_names():
    # Inside ``scale`` the parameter SCALE is a local; renaming its uses but not the
    # parameter makes the function read the global instead.
    src = "SCALE = 3\n\n\ndef scale(x, SCALE):\n    return x * SCALE\n\n\n" \
          "def entry(x):\n    return scale(x, 10) + SCALE\n"
    renamed = gp.prefix_names(src, "_p_", {"entry": "entry"})
    assert _exec(renamed)["entry"](2) == _exec(src)["entry"](2) == 23


# ----------------------------------------------------------------------------- compose

VRP = DEFAULT_POOLS["cvrp"]


@pytest.mark.parametrize("role", ["destroy", "repair"])
def test_compose_of_seed_pairs_passes_the_static_check(role):
    for i, (a, b) in enumerate(itertools.combinations(VRP[role], 2)):
        out = gp.compose(standalone_source(role, a), standalone_source(role, b), role, _rng(i))
        assert out is not None
        assert check_source(out, {role: role}) == [], (a, b)
        assert gp.compose(standalone_source(role, a), standalone_source(role, b), role,
                          _rng(i)) == out


def test_compose_rejects_unknown_roles_and_bad_sources():
    src = standalone_source("destroy", "random_removal")
    assert gp.compose(src, src, "improve", _rng(0)) is None
    assert gp.compose(src, "def destroy(:\n", "destroy", _rng(0)) is None


@pytest.mark.slow
def test_composed_destroy_compiles_in_nopython_mode():
    # Composition is only worth it if the result runs at numba speed: the renamed halves are
    # called from the compiled entry, so they must be compilable too.
    a = standalone_source("destroy", "random_removal")
    b = gp.perturb_constants(a, _rng(1), count=1)
    src = gp.compose(a, b, "destroy", _rng(0))
    module, _ = load_source(src)
    inst = uniform_cvrp(20, 5)
    result = run_lns(inst, LNSConfig(iterations=50, seed=1), destroy=[module.destroy],
                     repair=["greedy_repair"])
    assert result.cost == pytest.approx(verify(inst, result.routes))
    assert not result.python_mode, result.compile_errors


# ----------------------------------------------------------------------------- exchange_statement


def _exchanges(role: str):
    """Every ordered pair of ``role`` seeds, three rng seeds each: ``(a, b, sa, sb, rng_seed,
    out)`` with ``out`` the statement exchange of ``sa`` with ``sb`` (``None``: none made)."""
    for i, (a, b) in enumerate(itertools.permutations(VRP[role], 2)):
        sa, sb = standalone_source(role, a), standalone_source(role, b)
        for seed in range(3):
            rng_seed = 100 * i + seed
            yield a, b, sa, sb, rng_seed, gp.exchange_statement(sa, sb, role, _rng(rng_seed))


@pytest.mark.parametrize("role", ["destroy", "repair"])
def test_exchange_statement_results_parse_and_differ(role):
    made = 0
    for _, _, sa, sb, rng_seed, out in _exchanges(role):
        if out is None:
            continue
        made += 1
        tree = ast.parse(out)
        assert any(isinstance(n, ast.FunctionDef) and n.name == role for n in tree.body)
        assert ast.dump(tree) != ast.dump(ast.parse(sa))
        assert gp.exchange_statement(sa, sb, role, _rng(rng_seed)) == out
    assert made >= 5


@pytest.mark.parametrize("role", ["destroy", "repair"])
def test_exchange_statement_never_leaves_a_name_undefined(role):
    # The exchange checks that the incoming statement's names exist in the recipient, but
    # replacing the only assignment of a name (``q = ...``) must not be allowed either.
    bad = []
    for a, b, _, _, rng_seed, out in _exchanges(role):
        if out is None:
            continue
        undefined = [m for m in check_source(out, {role: role}) if "is not defined" in m]
        if undefined:
            bad.append((a, b, rng_seed, undefined[0]))
    assert bad == []


def test_exchange_statement_needs_the_entry_in_both():
    src = standalone_source("destroy", "random_removal")
    assert gp.exchange_statement(src, src.replace("def destroy", "def other"), "destroy",
                                 _rng(0)) is None
    assert gp.exchange_statement(src, "x = (", "destroy", _rng(0)) is None
