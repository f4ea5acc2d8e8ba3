"""Seed operators cut out as standalone sources behave exactly like the registered ones.

Every registered operator's standalone text passes the static check; loaded the way a sandbox
child loads candidate code (``ahd.problems.child.load_source``) and run through the real engine,
it gives the same solution as the registered operator with the same seed. Compiling a standalone
source takes 2-9 s per operator, so only a handful run by default; the rest are ``slow``.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest

from ahd.problems.child import load_source
from ahd.problems.engine.config import LNSConfig
from ahd.problems.engine.lns import run_lns
from ahd.problems.evaluate import check_source
from ahd.problems.generators import uniform_cvrp, uniform_tsp
from ahd.problems.operators import DEFAULT_POOLS, REGISTRIES
from ahd.problems.operators.standalone import seed_sources, standalone_source
from ahd.problems.problem import problem_names
from ahd.problems.verify import verify

ALL = sorted({(role, name) for role, reg in REGISTRIES.items() for name in reg})
POOLED = sorted({
    (role, name)
    for problem in problem_names()
    for role, names in DEFAULT_POOLS[problem].items()
    for name in names
})
#: Cheapest to compile; the others are marked slow.
QUICK = {("destroy", "random_removal"), ("destroy", "string_removal"),
         ("repair", "greedy_repair"), ("improve", "two_opt")}
PARTNER = {"destroy": "random_removal", "repair": "greedy_repair"}
CONFIGS = (
    LNSConfig(iterations=200, seed=1),
    # without local search the operator alone decides the outcome: a sharper comparison
    LNSConfig(iterations=150, seed=7, local_search=False),
)


def test_every_registered_operator_is_covered():
    assert set(POOLED) <= set(ALL)
    assert {role for role, _ in ALL} == {"destroy", "repair", "improve"}
    assert len(ALL) == sum(len(reg) for reg in REGISTRIES.values())


@pytest.mark.parametrize(("role", "name"), sorted(set(ALL) | set(POOLED)))
def test_standalone_source_passes_the_static_check(role, name):
    source = standalone_source(role, name)
    assert check_source(source, {role: role}) == []
    tree = ast.parse(source)
    entries = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == role]
    assert len(entries) == 1
    assert entries[0].decorator_list == []  # the engine compiles the entry point itself
    for node in ast.walk(tree):
        # helpers and numpy come from the evaluation namespace
        assert not isinstance(node, (ast.Import, ast.ImportFrom))
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                call = deco if isinstance(deco, ast.Call) else None
                name = (call.func if call else deco).id
                assert name == "njit", ast.unparse(deco)  # no ``register``
                assert call is None or all(k.arg != "cache" for k in call.keywords)


def test_standalone_source_errors():
    with pytest.raises(ValueError, match="unknown role"):
        standalone_source("shake", "random_removal")
    with pytest.raises(KeyError, match="no_such_op"):
        standalone_source("destroy", "no_such_op")


def test_seed_sources_matches_standalone_source():
    names = DEFAULT_POOLS["cvrp"]["repair"]
    assert seed_sources("repair", names) == {n: standalone_source("repair", n) for n in names}


_LOADED: dict[tuple[str, str], object] = {}


def _standalone_func(role: str, name: str):
    """The entry point, loaded as a sandbox child loads candidate code (cached per process,
    so the engine compiles it once for all instances and configs)."""
    key = (role, name)
    if key not in _LOADED:
        module, _ = load_source(standalone_source(role, name))
        _LOADED[key] = getattr(module, role)
    return _LOADED[key]


def _pools(role: str, op) -> dict:
    pools = {r: [PARTNER[r]] for r in ("destroy", "repair")}
    pools[role] = [op]
    return pools


def _cases():
    for role, name in ALL:
        marks = () if (role, name) in QUICK else (pytest.mark.slow,)
        yield pytest.param(role, name, marks=marks, id=f"{role}-{name}")


@pytest.mark.parametrize(("role", "name"), list(_cases()))
def test_standalone_runs_exactly_like_the_registered_operator(role, name):
    func = _standalone_func(role, name)
    instances = [uniform_cvrp(30, 11)]
    if name in DEFAULT_POOLS["tsp"].get(role, ()) or role == "improve":
        instances.append(uniform_tsp(31, 12))
    for inst in instances:
        for config in CONFIGS:
            ref = run_lns(inst, config, **_pools(role, name))
            got = run_lns(inst, config, **_pools(role, func))
            assert not got.python_mode, got.compile_errors
            assert got.iterations == ref.iterations == config.iterations
            assert got.cost == ref.cost, (inst.name, config)
            assert got.routes == ref.routes
            assert got.cost == pytest.approx(verify(inst, got.routes))
            # the whole trajectory, not just the (often optimal) end point, must agree
            np.testing.assert_array_equal(got.trace[:, 1:], ref.trace[:, 1:])
            for r in ("destroy", "repair"):
                (want,), (have,) = ref.stats[r].values(), got.stats[r].values()
                for column in ("chosen", "improved", "new_best", "accepted", "gain"):
                    assert have[column] == want[column], (r, column)
