"""Hostile and broken heuristic files for ``ahd solve --heuristic`` and ``ahd plan
--heuristic``: each ends the command with one ``error:`` line naming the file, the command's
exit status for it (2 for ``solve``, 1 for ``plan``), no traceback, the file unchanged and no
``--out`` file (a ``__pycache__`` beside the file is allowed: Python's and numba's caches
go there by design). The files' code runs in a sandbox child; these are the kinds that fail fast
(the ones that run on until the time limit are ``tests/problems/test_heuristic_limits.py`` and
``tests/planners/test_plan_heuristic_limits.py``)."""

from __future__ import annotations

import pytest
from pddl_tasks import GRIPPER_DOMAIN, GRIPPER_PROBLEM, write_pddl
from robust_cli import Unchanged, assert_refused, invoke
from user_files import PLANNING_HOSTILE, ROUTING_HOSTILE

#: id -> (file bytes, fragment of the error line)
ROUTING = {
    "syntax_error": (b"def destroy(:\n", "SyntaxError"),
    "no_operators": (b"LIMIT = 3\n", "defines neither DESTROY/REPAIR lists nor destroy/repair"),
    "os_exit_at_import": (ROUTING_HOSTILE["os_exit"].encode(),
                          "process exited with status 3 before returning a result"),
}
#: id -> (file bytes, fragment of the error line)
PLANNING = {
    "syntax_error": (b"def h(state, task)\n    return 0\n", "SyntaxError"),
    "no_h": (b"def g(state, task):\n    return 0\n", "defines no function h(state, task)"),
    "sys_exit_in_h": (PLANNING_HOSTILE["sys_exit"].encode(), "called sys.exit(0)"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(ROUTING))
def test_solve_refuses_a_broken_or_hostile_heuristic_file(tmp_path, case):
    data, fragment = ROUTING[case]
    path = tmp_path / "team.py"
    path.write_bytes(data)
    untouched = Unchanged(tmp_path, ignore=("__pycache__",))
    outcome = invoke(["solve", "--generate", "8", "--time", "5", "--heuristic", path,
                      "--out", tmp_path / "x.sol"])
    assert_refused(outcome, 2, "team.py", fragment)
    assert "cost" not in outcome.stdout
    untouched.check()


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(PLANNING))
def test_plan_refuses_a_broken_or_hostile_heuristic_file(tmp_path, case):
    data, fragment = PLANNING[case]
    domain, problem = write_pddl(tmp_path, GRIPPER_DOMAIN, GRIPPER_PROBLEM)
    path = tmp_path / "h.py"
    path.write_bytes(data)
    untouched = Unchanged(tmp_path, ignore=("__pycache__",))
    outcome = invoke(["plan", domain, problem, "--time", "5", "--heuristic", path,
                      "--out", tmp_path / "plan.txt"])
    assert_refused(outcome, 1, "h.py", fragment)
    untouched.check()
