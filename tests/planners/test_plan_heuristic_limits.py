"""``ahd plan --heuristic FILE`` stops within its time limit and grace whatever the file does.

The real command runs in a subprocess on each misbehaving heuristic of ``user_files``: ``h``,
``init`` and the module run in a sandbox child, so a loop (in Python or compiled by numba), a
sleep, a blocking call, ``sys.exit``, ``os._exit`` or a signal to itself ends the command with
one ``error:`` line and exit status 1, and Ctrl-C ends it at once. A well-behaved file still
finds the plan the in-process search finds, checked by the parent's simulator.
"""

import pytest
from pddl_tasks import GRIPPER_DOMAIN, GRIPPER_PROBLEM, write_pddl
from user_files import (
    GOALCOUNT,
    PLANNING_HOSTILE,
    STARTUP_MARGIN_S,
    alive,
    interrupt_while_user_code_runs,
    run_ahd,
    start_each,
)

from ahd.planners import read_plan, solve
from ahd.user_file import GRACE_S

#: The search's time limit counts parsing and grounding (about 1 s here, more under load, and
#: the cases that end by the limit run two at a time): the limit leaves the heuristic time to
#: start.
LIMIT_S = 4.0
TIMEOUT = f"did not finish within {LIMIT_S:g}s + {GRACE_S:g}s grace (killed)"

#: misbehaviour -> what the error line says. Timeouts are slow (limit + grace + start-up), so
#: they run two at a time (``timeouts``).
CASES = [
    pytest.param("h_loop", TIMEOUT, id="h_loop"),
    pytest.param("init_loop", TIMEOUT, id="init_loop", marks=pytest.mark.slow),
    pytest.param("import_loop", TIMEOUT, id="import_loop", marks=pytest.mark.slow),
    pytest.param("njit_loop", TIMEOUT, id="njit_loop", marks=pytest.mark.slow),
    pytest.param("sleep", TIMEOUT, id="sleep", marks=pytest.mark.slow),
    pytest.param("sigstop", TIMEOUT, id="sigstop", marks=pytest.mark.slow),
    pytest.param("stdin", "EOFError", id="stdin"),
    pytest.param("socket_wait", "", id="socket_wait"),
    pytest.param("sys_exit", "heuristic file h.py: called sys.exit(0)", id="sys_exit"),
    pytest.param("os_exit", "heuristic file h.py: process exited with status 3", id="os_exit"),
    pytest.param("sigterm", "process died with signal 15 (SIGTERM)", id="sigterm"),
]


@pytest.fixture
def gripper(tmp_path):
    write_pddl(tmp_path, GRIPPER_DOMAIN, GRIPPER_PROBLEM)
    return tmp_path


ARGS = ["plan", "d.pddl", "p.pddl", "--heuristic", "h.py", "--time", f"{LIMIT_S:g}"]


@pytest.fixture(scope="module")
def timeouts(tmp_path_factory):
    """The cases that end by the limit, two at a time (``start_each``)."""
    def folder(kind):
        folder = tmp_path_factory.mktemp(kind)
        write_pddl(folder, GRIPPER_DOMAIN, GRIPPER_PROBLEM)
        (folder / "h.py").write_text(PLANNING_HOSTILE[kind])
        return folder

    return start_each([c.values[0] for c in CASES if c.values[1] == TIMEOUT], ARGS, folder)


@pytest.mark.parametrize(("kind", "says"), CASES)
def test_a_misbehaving_heuristic_stops_in_time_with_one_error_line(gripper, timeouts, kind,
                                                                    says):
    if kind in timeouts:
        run = timeouts[kind].wait()
    else:
        (gripper / "h.py").write_text(PLANNING_HOSTILE[kind])
        run = run_ahd(ARGS, gripper)
    assert run.returncode == 1, run
    assert run.seconds < LIMIT_S + GRACE_S + STARTUP_MARGIN_S, run
    assert "Traceback" not in run.stderr + run.stdout, run
    assert run.stderr_lines == run.error_lines and len(run.error_lines) == 1, run
    assert says in run.error_lines[0], run
    if run.error_lines[0].startswith("error: heuristic file h.py: "):  # no search to report
        assert run.stdout == "", run
    else:  # h raised, as a heuristic may: the search's own status line, as before
        assert run.stdout.startswith("error  cost -"), run


def test_ctrl_c_stops_the_command_at_once(gripper):
    (gripper / "h.py").write_text(PLANNING_HOSTILE["h_loop"])
    stop = interrupt_while_user_code_runs(
        ["plan", "d.pddl", "p.pddl", "--heuristic", "h.py", "--time", "60"], gripper)
    assert stop.run.returncode == 130, stop.run
    assert stop.after_signal < 1.5, stop
    assert stop.run.stderr_lines == ["error: interrupted (Ctrl-C)"], stop.run
    assert not any(alive(pid) for pid in stop.sandbox_pids), stop


@pytest.mark.parametrize("options", [[], ["--lazy", "--tie-breaking", "lifo"]])
def test_a_good_heuristic_finds_the_in_process_plan(gripper, options):
    (gripper / "gc.py").write_text(GOALCOUNT)
    run = run_ahd(["plan", "d.pddl", "p.pddl", "--heuristic", "gc.py", "--time", "60",
                   "--out", "plan.txt", *options], gripper)
    assert run.returncode == 0 and run.stderr == "", run
    expected = solve(gripper / "d.pddl", gripper / "p.pddl", heuristic=str(gripper / "gc.py"),
                     lazy=bool(options), tie_breaking="lifo" if options else "fifo")
    assert expected.solved
    assert read_plan(gripper / "plan.txt") == expected.plan
    assert run.stdout.startswith(
        f"solved  cost {expected.cost:g}  expanded {expected.expanded}  "
        f"evaluated {expected.evaluated}  "), run
    assert run.stdout.splitlines()[0].endswith("heuristic gc"), run


def test_what_a_good_heuristic_prints_is_still_shown(gripper):
    (gripper / "gc.py").write_text("print('loaded my heuristic')\n" + GOALCOUNT)
    run = run_ahd(["plan", "d.pddl", "p.pddl", "--heuristic", "gc.py"], gripper)
    assert run.returncode == 0, run
    assert run.stderr_lines == ["loaded my heuristic"], run
