"""LNS + OR-Tools pipelines: verified results, warm starts never worse than their start."""

import numpy as np
import pytest
from typer.testing import CliRunner

from ahd.cli import app
from ahd.problems import pipelines as pl
from ahd.problems.engine.config import LNSConfig
from ahd.problems.generators import uniform_cvrp, x_cvrp
from ahd.problems.io import read_instance, read_solution, write_instance
from ahd.problems.problem import get_problem, problem_names
from ahd.problems.verify import verify

pytestmark = pytest.mark.slow
runner = CliRunner()


def check(inst, result):
    """Every pipeline result: cost re-verified, and never above a stage that found something."""
    assert result.cost == verify(inst, result.routes)
    found = [s.cost for s in result.stages if s.cost is not None]
    assert result.cost == min(found)
    return result


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_warm_start_is_never_worse_than_the_lns_solution_it_started_from(seed):
    inst = x_cvrp(60, np.random.default_rng(seed)) if seed % 2 else uniform_cvrp(60, seed)
    res = check(inst, pl.lns_then_ortools(inst, 1.0, config=LNSConfig(time_limit=1, seed=seed)))
    lns, ort = res.stages
    assert (lns.name, ort.name) == ("lns", "ortools")
    assert res.cost <= lns.cost
    assert ort.cost is not None and ort.detail["objective"] > 0
    if inst.edge_weight_type == "EUC_2D":  # integer costs: OR-Tools' own result is no worse
        assert ort.cost <= lns.cost
    assert lns.seconds + ort.seconds == pytest.approx(1.0, abs=0.3)


@pytest.mark.parametrize("problem", problem_names())
def test_every_variant_runs_through_every_pipeline(problem):
    inst = get_problem(problem).generate(35, 4)
    for name in pl.PIPELINES:
        res = check(inst, pl.run_pipeline(name, inst, 0.4))
        assert res.pipeline == name
        if inst.single_route:
            assert len(res.routes) == 1


def test_ortools_then_lns_starts_from_the_first_solution_and_keeps_it_as_a_floor():
    inst = x_cvrp(50, np.random.default_rng(5))
    res = check(inst, pl.ortools_then_lns(inst, 0.6, destroy=["random_removal"]))
    first, lns = res.stages
    assert first.name == "ortools-first" and first.cost is not None
    assert res.cost <= first.cost
    assert set(lns.detail) >= {"iterations"}


def test_evolved_pools_run_inside_the_ortools_search():
    inst = uniform_cvrp(50, 6)
    res = check(inst, pl.ortools_alone(
        inst, 0.8, destroy=["string_removal"], repair=["regret_repair"], operator_inside=True,
    ))
    assert res.pipeline == "ortools-operator"
    assert res.stages[0].detail["operator_neighbours"] > 0


def lazy_repair(inst, sol, removed, k, penalty):
    """Breaks the repair contract: reinserts nobody."""
    return None


def test_an_operator_that_breaks_the_contract_is_switched_off_not_fatal():
    inst = x_cvrp(30, np.random.default_rng(8))
    res = check(inst, pl.ortools_operator(inst, 0.5, repair=[lazy_repair]))
    assert "left customers unassigned" in res.stages[0].detail["operator_error"]


def test_unknown_pipeline_and_bad_fraction_are_errors():
    inst = uniform_cvrp(10, 0)
    with pytest.raises(ValueError, match="unknown pipeline"):
        pl.run_pipeline("magic", inst, 1.0)
    with pytest.raises(ValueError, match="lns_fraction"):
        pl.lns_then_ortools(inst, 1.0, lns_fraction=1.0)


@pytest.mark.parametrize("pipeline", ["ortools-warmstart", "ortools"])
def test_cli_solve_with_a_pipeline_writes_a_verified_solution(tmp_path, pipeline):
    path = tmp_path / "x30.vrp"
    write_instance(x_cvrp(30, np.random.default_rng(7)), path)
    out = tmp_path / "x30.sol"
    res = runner.invoke(app, [
        "solve", "--instance", str(path), "--pipeline", pipeline, "--time", "0.6",
        "--out", str(out),
    ])
    assert res.exit_code == 0, res.output
    routes, cost = read_solution(out)
    assert verify(read_instance(path), routes) == pytest.approx(cost)
    assert f"cost {cost:.6g}" in res.output
    assert "  ortools: cost" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pipeline", "fastest"], "unknown pipeline"),
        (["--pipeline", "ortools", "--iterations", "10"], "--iterations only applies"),
    ],
)
def test_cli_pipeline_argument_errors(args, message):
    res = runner.invoke(app, ["solve", "--generate", "10", *args])
    assert res.exit_code == 2
    assert message in res.output
