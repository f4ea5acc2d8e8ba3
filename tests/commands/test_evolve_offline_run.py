"""``ahd evolve`` offline: a short real run (sandbox, numba, SQLite), its export, and resume."""

from __future__ import annotations

import importlib.util
import json

import pytest

from ahd.problems.engine.config import LNSConfig
from ahd.problems.engine.lns import run_lns
from ahd.problems.generators import uniform_cvrp
from ahd.problems.verify import verify
from ahd.store import Store


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_offline_run_exports_a_working_team_and_resumes(cvrp_run):
    """``cvrp_run`` (tests/conftest.py): the session's run, stopped after round 1 by its
    budget, and a copy resumed with a larger round budget."""
    run_dir, output = cvrp_run.round1, cvrp_run.round1_output
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["seed_validation"] > 0
    # The winner is compared with the seeds instance by instance, with its standard error.
    assert summary["validation_gain_se_pct"] >= 0
    assert f"{summary['validation_gain_pct']:+.2f}% vs seeds, standard error" in output
    assert "budget reached: rounds 1" in summary["stop"]
    state = json.loads((run_dir / "state.json").read_text())
    assert state["round"] == 1 and [s["round"] for s in state["snapshots"]] == [0, 1]

    path = summary["exported"]
    spec = importlib.util.spec_from_file_location("exported_team", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.PROBLEM == "cvrp"
    members = summary["winner_members"]
    for role in ("destroy", "repair"):
        assert getattr(module, role.upper()) == [getattr(module, f"{role}_{cid}")
                                                 for cid in members[role]]
    # The members the run evolved, each beside the first seed of the other role (running all
    # eleven compiles each, 40 s; tests/problems/test_export_team.py runs whole teams).
    with Store.in_run_dir(run_dir, readonly=True) as store:
        evolved = {cid for ids in members.values() for cid in ids
                   if store.get_candidate(cid).generation > 0}
    assert evolved
    instance = uniform_cvrp(20, 3)
    for cid in sorted(evolved):
        team = {role: [getattr(module, f"{role}_{cid}")] if cid in members[role]
                else getattr(module, role.upper())[:1] for role in ("destroy", "repair")}
        out = run_lns(instance, LNSConfig(iterations=50, seed=1), **team)
        assert out.cost == pytest.approx(verify(instance, out.routes))

    # Resumed with a larger round budget: round 0 and round 1 are not redone.
    resumed = cvrp_run.resume_output
    assert "round 0:" not in resumed and "round 1:" not in resumed
    assert "round 2:" in resumed
    state = json.loads((cvrp_run.resumed / "state.json").read_text())
    assert state["round"] == 2
