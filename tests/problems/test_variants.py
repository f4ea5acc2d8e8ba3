"""Every registered routing variant works end to end, and instances cannot be changed.

Parametrised over :func:`~ahd.problems.problem.problem_names`, so a new variant folder is
checked without touching this file: its generator, its file ``TYPE``, the verifier on the seed
LNS solution, OR-Tools, its seed pools and immutable instances. The engine must give the same
result whichever way an instance reaches it (pickled to a sandbox child, rebuilt from writable
arrays), which is what keeps read-only instances bit-for-bit neutral.
"""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, fields, replace

import numpy as np
import pytest

from ahd.problems import plugin
from ahd.problems.engine.config import LNSConfig
from ahd.problems.engine.lns import run_lns
from ahd.problems.engine.state import make_inst
from ahd.problems.generators import GENERATORS
from ahd.problems.instance import RoutingInstance
from ahd.problems.io import InstanceFormatError, read_instance, write_instance
from ahd.problems.operators.registry import DEFAULT_POOLS, REGISTRIES
from ahd.problems.ortools_model import build_model, solve_instance
from ahd.problems.problem import (
    DEFAULT_PROBLEM,
    VARIANTS,
    get_problem,
    problem_names,
    problem_of_vrplib_type,
    problems,
)
from ahd.problems.requests import InstanceSpec
from ahd.problems.verify import verify

NAMES = problem_names()


def small(name: str, n: int = 12, seed: int = 0) -> RoutingInstance:
    return get_problem(name).generate(n, seed)


def test_the_registry_lists_every_variant_folder_once():
    assert sorted(VARIANTS) == NAMES and DEFAULT_PROBLEM in NAMES
    assert [p.name for p in problems()] == list(VARIANTS)
    written = [p.vrplib_type for p in problems()]
    assert len(set(written)) == len(written), "two variants write the same TYPE"
    for problem in problems():
        assert problem_of_vrplib_type(problem.vrplib_type.lower()) is problem
        assert problem.summary and "\n" not in problem.summary
    assert problem_of_vrplib_type("ATSP") is None
    with pytest.raises(ValueError, match="unknown problem 'vrptw'"):
        get_problem("vrptw")


@pytest.mark.parametrize("name", NAMES)
def test_the_generators_make_instances_of_their_variant(name):
    problem = get_problem(name)
    inst = problem.generate(12, np.random.default_rng(3))
    assert inst.kind == name and inst.variant is problem
    assert (inst.open_routes, inst.capacitated, inst.single_route) == (
        problem.open_routes, problem.capacitated, problem.single_route)
    assert (inst.max_routes == 1) == problem.single_route
    assert np.isfinite(inst.capacity) == problem.capacitated
    assert GENERATORS[name] is problem.generate
    # An evolution run's instance: same data as the default generator with that seed.
    spec = InstanceSpec(name, 12, 5).build()
    direct = problem.generate(12, 5)
    assert spec.kind == name
    for field in ("dist", "demand", "coords"):
        assert np.array_equal(getattr(spec, field), getattr(direct, field))


def test_ovrp_evolution_instances_keep_the_names_stored_runs_use():
    assert InstanceSpec("ovrp", 12, 3).build().name == "cvrp-uniform-n12-s3-ovrp"


@pytest.mark.parametrize("name", NAMES)
def test_files_carry_the_variants_type_and_read_back_as_it(name, tmp_path):
    problem = get_problem(name)
    inst = small(name)
    path = tmp_path / f"{name}.vrp"
    write_instance(inst, path)
    text = path.read_text()
    assert f"TYPE : {problem.vrplib_type}\n" in text
    assert ("DEMAND_SECTION" in text) == ("CAPACITY" in text) == problem.capacitated
    assert read_instance(path).kind == name
    for other in problems():
        if problem.vrplib_type in other.vrplib_types:
            assert read_instance(path, kind=other.name).kind == other.name
        else:
            with pytest.raises(InstanceFormatError, match="cannot be read as kind"):
                read_instance(path, kind=other.name)


@pytest.mark.parametrize("name", NAMES)
def test_the_verifier_accepts_the_seed_lns_solution_and_recomputes_its_cost(name):
    inst = small(name, 25, 1)
    res = run_lns(inst, LNSConfig(iterations=100, seed=0))
    assert verify(inst, res.routes) == res.cost
    d = inst.dist
    closing = 0 if inst.open_routes else 1
    by_hand = sum(
        d[0, r[0]] + sum(d[a, b] for a, b in zip(r[:-1], r[1:], strict=True))
        + closing * d[r[-1], 0]
        for r in res.routes
    )
    assert res.cost == pytest.approx(by_hand, rel=1e-12)
    if inst.single_route:
        assert len(res.routes) == 1
    if inst.capacitated:
        assert max(inst.demand[r].sum() for r in res.routes) <= inst.capacity


@pytest.mark.parametrize("name", NAMES)
def test_the_engine_sees_the_same_instance_however_it_arrives(name):
    """Pickled (as a sandbox child gets it) or rebuilt from writable arrays: same result."""
    inst = small(name, 30, 2)
    writable = RoutingInstance(**{
        f.name: (value.copy() if isinstance(value, np.ndarray) else value)
        for f in fields(inst) for value in [getattr(inst, f.name)]
    })
    config = LNSConfig(iterations=150, seed=4)
    ref = run_lns(inst, config)
    for other in (pickle.loads(pickle.dumps(inst)), writable):
        res = run_lns(other, config)
        assert res.routes == ref.routes and res.cost == ref.cost
        assert np.array_equal(res.trace[:, 1:], ref.trace[:, 1:])


@pytest.mark.parametrize("name", NAMES)
def test_ortools_solves_a_small_instance_feasibly(name):
    problem = get_problem(name)
    inst = small(name, 15, 3)
    model = build_model(inst)
    assert (model.vehicles == 1) == problem.single_route
    assert ("load" in model.routing.GetAllDimensionNames()) == problem.capacitated
    assert (not np.any(model.matrix[1:, 0])) == problem.open_routes
    result = solve_instance(inst, time_limit=0.3)
    assert result.cost == verify(inst, result.routes)


def test_build_model_adds_the_variants_own_ortools_constraints(monkeypatch):
    seen = []
    variant = replace(get_problem(DEFAULT_PROBLEM), ortools_constraints=(seen.append,))
    inst = small(DEFAULT_PROBLEM, 6)
    monkeypatch.setattr(RoutingInstance, "variant", property(lambda self: variant))
    model = build_model(inst)
    assert seen == [model] and not model.closed


@pytest.mark.parametrize("name", NAMES)
def test_default_pools_name_registered_operators(name):
    pools = get_problem(name).pools.as_dict()
    assert DEFAULT_POOLS[name] == pools
    assert pools["destroy"] and pools["repair"]
    for role, names in pools.items():
        assert set(names) <= set(REGISTRIES[role]), (role, names)
        assert len(set(names)) == len(names)


@pytest.mark.parametrize("name", NAMES)
def test_every_variant_has_its_task_plugin(name):
    assert getattr(plugin, name.upper()) is plugin.PLUGINS[name]
    assert plugin.PLUGINS[name].name == name


@pytest.mark.parametrize("name", NAMES)
def test_instances_are_immutable(name):
    inst = small(name)
    with pytest.raises(ValueError, match="read-only"):
        inst.dist[0, 1] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        inst.demand[1] = 5.0
    if inst.coords is not None:
        with pytest.raises(ValueError, match="read-only"):
            inst.coords[0, 0] = 5.0
    with pytest.raises(FrozenInstanceError):
        inst.kind = DEFAULT_PROBLEM
    back = pickle.loads(pickle.dumps(inst))
    assert not back.dist.flags.writeable and not back.demand.flags.writeable
    # Derived instances share the read-only arrays; the engine works on its own copies.
    renamed = replace(inst, name="other")
    assert renamed.dist is inst.dist and renamed.kind == inst.kind
    assert make_inst(inst).dist.flags.writeable


def test_an_instance_copies_what_its_caller_can_still_write():
    dist = np.ones((3, 3)) - np.eye(3)
    demand = np.array([0.0, 1.0, 2.0])
    inst = RoutingInstance("c", DEFAULT_PROBLEM, dist, demand, 5.0, meta={"k": 1})
    dist[0, 1] = 9.0
    assert inst.dist[0, 1] == 1.0 and dist.flags.writeable
    view = dist.view()
    view.flags.writeable = False  # read-only, but its base is not: still copied
    assert not np.shares_memory(RoutingInstance("v", DEFAULT_PROBLEM, view, demand, 5.0).dist,
                                dist)
