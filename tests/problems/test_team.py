"""The child side of a team evaluation: one load and compilation per operator, not per run."""

from dataclasses import asdict

from ahd.problems import child
from ahd.problems.engine import lns
from ahd.problems.engine.config import LNSConfig
from ahd.problems.operators.standalone import standalone_source
from ahd.problems.team import run_team_lns


def test_team_child_loads_and_compiles_each_operator_once():
    source = standalone_source("repair", "greedy_repair")
    config = asdict(LNSConfig(iterations=20, seed=0))
    request = {
        "instances": [{"problem": "cvrp", "n": 15, "seed": s} for s in range(4)],
        "config": config,
        "operators": {
            "destroy": [{"registry": "random_removal"}],
            "repair": [{"source": source, "entry": "repair", "name": "candidate1"}],
            "improve": [],
        },
    }

    def candidate_compilations():
        return [f for _, _, f in lns._compiled_cache if f.__module__.startswith("ahd_candidate_")]

    loaded, compiled = len(child._LOADED), len(candidate_compilations())
    out = run_team_lns(request)
    assert len(out["runs"]) == 4
    assert all(run["routes"] for run in out["runs"])
    assert len(child._LOADED) == loaded + 1
    assert len(candidate_compilations()) == compiled + 1
