"""The ``ahd`` command line, run in-process through typer's runner on real files."""

import numpy as np
import pytest
from typer.testing import CliRunner

from ahd.cli import app
from ahd.problems.generators import x_cvrp
from ahd.problems.io import read_instance, read_solution, write_instance
from ahd.problems.verify import verify

runner = CliRunner()


@pytest.mark.slow
def test_solve_writes_a_verified_solution_and_prints_the_gap(tmp_path):
    inst = x_cvrp(40, np.random.default_rng(0))
    path = tmp_path / "x40.vrp"
    write_instance(inst, path)
    out = tmp_path / "x40.sol"
    res = runner.invoke(
        app, ["solve", "--instance", str(path), "--time", "1s", "--bks", "1000", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    routes, cost = read_solution(out)
    assert verify(read_instance(path), routes) == pytest.approx(cost)
    assert f"cost {cost:.6g}" in res.output
    gap = 100 * (cost - 1000) / 1000
    assert f"gap {gap:.3f}%" in res.output


@pytest.mark.slow
def test_solve_generated_tsp():
    res = runner.invoke(app, ["solve", "--problem", "tsp", "--generate", "30", "--time", "0.5"])
    assert res.exit_code == 0, res.output
    assert "routes 1 " in res.output


def test_malformed_instance_is_a_one_line_error_naming_the_file(tmp_path):
    bad = tmp_path / "broken.vrp"
    bad.write_text("NAME : broken\nTYPE : CVRP\nDIMENSION : 3\nNODE_COORD_SECTION\n1 0 x\n")
    res = runner.invoke(app, ["solve", "--instance", str(bad), "--time", "1s"])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "broken.vrp" in lines[0] and lines[0].startswith("error:")


@pytest.mark.parametrize(
    "args",
    [
        ["solve", "--generate", "10", "--time", "5q"],
        ["solve", "--generate", "10", "--problem", "vrptw"],
        ["solve", "--time", "1s"],
        ["solve", "--instance", "/nonexistent/file.vrp"],
        ["solve", "--generate", "10", "--distances", "sparse"],
    ],
)
def test_bad_arguments_are_clear_errors(args):
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert "error:" in res.output
