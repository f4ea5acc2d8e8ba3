"""Output paths that cannot be written: ``ahd solve --out``, ``ahd plan --out`` and
``ahd plan-eval --out`` refuse a folder, a path under a regular file, an input file and a
read-only location before the search starts; and a result whose final write still fails is
printed instead of lost, with no partial file left behind.

Read-only locations are made with a private read-only bind mount (``tests/helpers/
readonly_dir.py``), since this machine's tests run as root, which ignores permission bits.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from pddl_tasks import GRIPPER_DOMAIN, GRIPPER_PROBLEM, write_pddl
from readonly_dir import read_only, read_only_command, truly_read_only
from robust_cli import Unchanged, assert_refused, invoke, outcome_of
from user_files import AHD

from ahd.output_paths import OutputPathError, check_output_dir, check_output_file, write_result

SOLVE = ["solve", "--generate", "5", "--time", "1"]


def _plan_args(folder: Path) -> list:
    return ["plan", *write_pddl(folder, GRIPPER_DOMAIN, GRIPPER_PROBLEM)]


def _suite(folder: Path) -> Path:
    domain = folder / "suite" / "gripper"
    (domain / "testing" / "easy").mkdir(parents=True)
    (domain / "domain.pddl").write_text(GRIPPER_DOMAIN)
    (domain / "testing" / "easy" / "p01.pddl").write_text(GRIPPER_PROBLEM)
    return folder / "suite"


def _plan_eval_args(folder: Path) -> list:
    return ["plan-eval", _suite(folder), "--planner", "ahd:hff", "--time", "5s"]


COMMANDS = {"solve": lambda folder: SOLVE, "plan": _plan_args, "plan-eval": _plan_eval_args}


def _blocked(folder: Path) -> Path:
    """A path whose parent is a regular file."""
    (folder / "a-file").write_text("not a folder\n")
    return folder / "a-file" / "result"


#: id -> (command, how to make the --out path, fragment of the error line)
CASES = {
    "solve_out_is_a_folder": ("solve", lambda f: f, "is a folder, not a file"),
    "solve_out_under_a_file": ("solve", _blocked, "a-file is a file, not a folder"),
    "solve_out_deep_under_a_file": ("solve", lambda f: _blocked(f) / "x" / "y.sol",
                                    "a-file is a file, not a folder"),
    "plan_out_is_a_folder": ("plan", lambda f: f, "is a folder, not a file"),
    "plan_out_under_a_file": ("plan", _blocked, "a-file is a file, not a folder"),
    "plan_out_is_the_problem_file": ("plan", lambda f: f / "p.pddl", "is an input file"),
    "plan_eval_out_is_a_file": ("plan-eval", lambda f: _blocked(f).parent,
                                "is a file, not a folder"),
    "plan_eval_out_under_a_file": ("plan-eval", _blocked, "a-file is a file, not a folder"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_unwritable_out_is_refused_before_the_search(tmp_path, case):
    command, make_out, fragment = CASES[case]
    args = COMMANDS[command](tmp_path)
    out = make_out(tmp_path)
    untouched = Unchanged(tmp_path)
    outcome = invoke([*args, "--out", out])
    assert_refused(outcome, 2, "--out", fragment)
    assert "cost" not in outcome.stdout and "expanded" not in outcome.stdout
    untouched.check()


def test_solve_refuses_to_overwrite_its_instance(tmp_path):
    import numpy as np

    from ahd.problems.generators import x_cvrp
    from ahd.problems.io import write_instance

    instance = tmp_path / "x.vrp"
    write_instance(x_cvrp(10, np.random.default_rng(0)), instance)
    untouched = Unchanged(tmp_path)
    outcome = invoke(["solve", "--instance", instance, "--time", "1", "--out", instance])
    assert_refused(outcome, 2, f"--out {instance}: is the instance file")
    untouched.check()


READ_ONLY = {
    "solve": lambda folder, ro: [*SOLVE, "--out", ro / "x.sol"],
    "solve_new_subfolder": lambda folder, ro: [*SOLVE, "--out", ro / "new" / "x.sol"],
    "plan": lambda folder, ro: [*_plan_args(folder), "--out", ro / "plan.txt"],
    "plan_eval": lambda folder, ro: [*_plan_eval_args(folder), "--out", ro / "eval"],
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(READ_ONLY))
def test_read_only_out_is_refused_before_the_search(tmp_path, case):
    if not truly_read_only():
        pytest.skip("no way to make a folder read-only for root here (no mount namespace)")
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "keep.txt").write_text("kept\n")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    args = [str(a) for a in READ_ONLY[case](inputs, ro)]
    untouched = Unchanged(ro)
    with read_only(ro):
        proc = read_only_command(ro, args, cwd=tmp_path, timeout=120)
    outcome = outcome_of(proc.returncode, proc.stdout, proc.stderr)
    assert_refused(outcome, 2, "--out", "Read-only file system")
    assert "cost" not in outcome.stdout and "expanded" not in outcome.stdout
    untouched.check()


@pytest.mark.slow
def test_a_solution_that_cannot_be_written_at_the_end_is_printed_not_lost(tmp_path):
    """The output folder is replaced by a file while the search runs: the final write fails,
    the solution goes to standard output, exit status 1 and one line say where it could not
    be written, and no partial file is left."""
    target = tmp_path / "sols"
    proc = subprocess.Popen([*AHD, *SOLVE[:3], "--time", "4", "--out", target / "x.sol"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 120
        while not target.is_dir():  # created by the check before the search
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.05)
        target.rmdir()
        target.write_text("now a file\n")
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    outcome = outcome_of(proc.returncode, out, err)
    line = assert_refused(outcome, 1, f"could not write {target / 'x.sol'}",
                          "the result is printed above instead")
    assert line.startswith("error: --out ")
    assert "Route #1:" in out and "\nCost " in out  # the solution itself, on stdout
    assert target.read_text() == "now a file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sols"]  # no stray temporary file


def test_write_result_prints_the_result_when_the_write_fails(tmp_path, capsys):
    blocked = _blocked(tmp_path) / "plan.txt"
    problem = write_result(blocked, "(move a b)\n; cost = 1 (unit cost)\n")
    assert problem is not None and problem.startswith(f"could not write {blocked} (")
    assert capsys.readouterr().out == "(move a b)\n; cost = 1 (unit cost)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_write_result_replaces_the_file_atomically(tmp_path):
    path = tmp_path / "deep" / "plan.txt"
    assert write_result(path, "first\n") is None
    assert write_result(path, "second\n") is None
    assert path.read_text() == "second\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["plan.txt"]


def test_checks_create_missing_folders_and_accept_writable_paths(tmp_path):
    check_output_file(tmp_path / "a" / "b" / "x.sol")
    assert (tmp_path / "a" / "b").is_dir() and not (tmp_path / "a" / "b" / "x.sol").exists()
    check_output_dir(tmp_path / "eval" / "one")
    assert (tmp_path / "eval" / "one").is_dir()
    assert not list((tmp_path / "eval" / "one").iterdir())  # the probe file is gone
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        check_output_dir(_blocked(tmp_path))
