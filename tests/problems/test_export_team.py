"""A team exported from the store is one importable module whose lists run in the engine."""

from __future__ import annotations

import ast
import importlib.util
import sys

import numpy as np
import pytest

from ahd.candidate import Candidate, Origin
from ahd.problems.child import load_source
from ahd.problems.engine.config import LNSConfig
from ahd.problems.engine.lns import Operator, run_lns
from ahd.problems.evaluate import check_source
from ahd.problems.export_team import export_team, render_team
from ahd.problems.generators import uniform_cvrp
from ahd.problems.operators import DESTROY, REPAIR
from ahd.problems.operators.standalone import standalone_source
from ahd.problems.verify import verify
from ahd.proposers.gp import prefix_names
from ahd.store import Store

HEADER = ["run: test", "fitness: 1.23 (train)"]


def _joint_source() -> str:
    """Both roles in one text, as a joint proposal writes it (distinct constants)."""
    d = standalone_source("destroy", "random_removal").replace("2 * q <= total", "3 * q <= total")
    r = standalone_source("repair", "greedy_repair")
    return (prefix_names(d, "_d_", {"destroy": "destroy"}) + "\n\n"
            + prefix_names(r, "_r_", {"repair": "repair"}))


@pytest.fixture
def team(tmp_path):
    store, members, ids = _make_team(tmp_path)
    yield store, members, ids
    store.close()


def _make_team(folder):
    """A store with two seeds and a joint candidate built from them; the team of all three."""
    store = Store(folder / "ahd.sqlite")
    store.create_run("cvrp", config={"test": True}, seed=0)
    # the destroy seed under a non-default entry name, to exercise entry_points
    d_src = standalone_source("destroy", "random_removal").replace(
        "def destroy(", "def remove_some("
    )
    d = Candidate(d_src, ("destroy",), "cvrp", origin=Origin("seed", strategy="random_removal"),
                  entry_points={"destroy": "remove_some"})
    r = Candidate(standalone_source("repair", "greedy_repair"), ("repair",), "cvrp",
                  origin=Origin("seed", strategy="greedy_repair"))
    d_id, _ = store.add_candidate(d)
    r_id, _ = store.add_candidate(r)
    j = Candidate(_joint_source(), ("destroy", "repair"), "cvrp", parents=(d_id, r_id),
                  origin=Origin("offline", strategy="joint:joint_params"), generation=1)
    assert check_source(j.source, {"destroy": "destroy", "repair": "repair"}) == []
    j_id, new = store.add_candidate(j)
    assert new and len({d_id, r_id, j_id}) == 3
    members = {"destroy": [d_id, j_id], "repair": [r_id, j_id]}
    return store, members, (d_id, r_id, j_id)


def _import(path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def test_rendered_module_text(team):
    store, members, (d_id, r_id, j_id) = team
    text = render_team(store, members, "cvrp", HEADER)
    compile(text, "team.py", "exec")
    tree = ast.parse(text)
    funcs = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert len(funcs) == len(set(funcs))  # every member's helpers live under its own prefix
    for name in (f"destroy_{d_id}", f"destroy_{j_id}", f"repair_{r_id}", f"repair_{j_id}"):
        assert funcs.count(name) == 1
    assert "remove_some" not in funcs and "destroy" not in funcs and "repair" not in funcs
    assert f"DESTROY = [destroy_{d_id}, destroy_{j_id}]" in text
    assert f"REPAIR = [repair_{r_id}, repair_{j_id}]" in text
    assert "IMPROVE" not in text
    assert "PROBLEM = 'cvrp'" in text
    for line in HEADER:
        assert f"# {line}" in text
    # the joint candidate's code appears once although it is in both lists
    assert text.count(f"def _c{j_id}__d__assigned_count(") == 1


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """One exported team module, imported once (its compiled functions are shared)."""
    folder = tmp_path_factory.mktemp("team")
    store, members, ids = _make_team(folder)
    path = export_team(store, members, "cvrp", folder / "out", HEADER)
    module = _import(path, "ahd_test_exported_team")
    yield store, members, ids, path, module
    store.close()


INSTANCE = uniform_cvrp(25, 3)
CONFIG = LNSConfig(iterations=200, seed=1)
_RUNS: dict = {}


def _run_exported(module):
    if "got" not in _RUNS:
        _RUNS["got"] = run_lns(INSTANCE, CONFIG, destroy=module.DESTROY, repair=module.REPAIR)
    return _RUNS["got"]


def test_exported_team_imports_and_runs(exported):
    _, _, (d_id, r_id, j_id), path, module = exported
    assert path.parent.name == "out" and path.name.startswith("cvrp_team_")
    assert not list(path.parent.glob(".export-*"))  # no temporary file left behind
    assert module.PROBLEM == "cvrp"
    assert len(module.DESTROY) == 2 and len(module.REPAIR) == 2
    assert [f.__name__ for f in module.DESTROY] == [f"destroy_{d_id}", f"destroy_{j_id}"]
    assert [f.__name__ for f in module.REPAIR] == [f"repair_{r_id}", f"repair_{j_id}"]
    got = _run_exported(module)
    assert not got.python_mode, got.compile_errors
    assert got.iterations == CONFIG.iterations
    assert got.cost == pytest.approx(verify(INSTANCE, got.routes))
    for role in ("destroy", "repair"):
        chosen = [s["chosen"] for s in got.stats[role].values()]
        assert len(chosen) == 2 and sum(chosen) == CONFIG.iterations


@pytest.mark.slow
def test_exported_team_runs_like_its_stored_members(exported):
    store, _, (d_id, r_id, j_id), _, module = exported
    got = _run_exported(module)
    # The seeds run under their registry names (the standalone tests show they are the same
    # code); the joint candidate is loaded from the store as a sandbox child loads it.
    joint, _ = load_source(store.get_candidate(j_id).source)
    ref = run_lns(
        INSTANCE, CONFIG,
        destroy=[Operator("seed", DESTROY["random_removal"]), Operator("joint", joint.destroy)],
        repair=[Operator("seed", REPAIR["greedy_repair"]), Operator("joint", joint.repair)],
    )
    assert got.cost == ref.cost
    assert got.routes == ref.routes
    np.testing.assert_array_equal(got.trace[:, 1:], ref.trace[:, 1:])
    for role in ("destroy", "repair"):
        have = [s["chosen"] for s in got.stats[role].values()]
        want = [s["chosen"] for s in ref.stats[role].values()]
        assert have == want


def test_export_is_stable_apart_from_the_stamp(team, tmp_path):
    store, members, _ = team
    first = export_team(store, members, "cvrp", tmp_path, HEADER)
    second = export_team(store, members, "cvrp", tmp_path, HEADER)
    assert first == second  # the name carries the members' hash only

    def body(text: str) -> list[str]:
        return [ln for ln in text.splitlines() if not ln.startswith("# Exported by")]

    assert body(first.read_text()) == body(render_team(store, members, "cvrp", HEADER))
    other = export_team(store, {"destroy": members["destroy"][:1],
                                "repair": members["repair"][:1]}, "cvrp", tmp_path, HEADER)
    assert other != first


def test_a_team_larger_than_one_candidate_may_be_is_exported(tmp_path):
    """Each member is within the candidate size limit, the team is not (a TSP run's winning
    team came to 134,569 characters and its export stopped the run)."""
    from ahd.syntax import MAX_SOURCE_CHARS

    store = Store(tmp_path / "ahd.sqlite")
    store.create_run("cvrp", config={"test": True}, seed=0)
    filler = "".join(f"\n\ndef _pad{i}(x):\n    return x + {i}\n" for i in range(1200))
    ids = []
    for name in ("random_removal", "worst_removal", "related_removal"):
        src = standalone_source("destroy", name) + filler
        assert len(src) < MAX_SOURCE_CHARS
        cid, _ = store.add_candidate(Candidate(src, ("destroy",), "cvrp",
                                               origin=Origin("seed", strategy=name)))
        ids.append(cid)
    r_id, _ = store.add_candidate(Candidate(standalone_source("repair", "greedy_repair"),
                                            ("repair",), "cvrp", origin=Origin("seed")))
    text = render_team(store, {"destroy": ids, "repair": [r_id]}, "cvrp", HEADER)
    store.close()
    assert len(text) > MAX_SOURCE_CHARS
    module = {}
    exec(compile(text, "team.py", "exec"), module)
    assert len(module["DESTROY"]) == 3 and len(module["REPAIR"]) == 1
