"""``ahd solve --heuristic FILE`` stops within its time limit and grace whatever the file does.

The real command runs in a subprocess on each misbehaving file of ``user_files``: the file's
code runs in a sandbox child, so a loop, a sleep, a blocking call, ``sys.exit``, ``os._exit``
or a signal to itself ends the command with one ``error:`` line and a non-zero exit status, and
Ctrl-C ends it at once. A well-behaved file still gives what the in-process run gives.
"""

import numpy as np
import pytest
from user_files import (
    ROUTING_HOSTILE,
    ROUTING_TEAM,
    STARTUP_MARGIN_S,
    alive,
    interrupt_while_user_code_runs,
    run_ahd,
    start_each,
)

from ahd.problems.engine.config import LNSConfig
from ahd.problems.heuristic_file import load_heuristic_file
from ahd.problems.io import read_solution
from ahd.problems.pipelines import run_pipeline
from ahd.problems.problem import get_problem
from ahd.user_file import GRACE_S

LIMIT_S = 1.0
TIMEOUT = f"did not finish within {LIMIT_S:g}s + {GRACE_S:g}s grace (killed)"

#: misbehaviour -> what the error line says. Timeouts are slow (limit + grace + start-up), so
#: they run two at a time (``timeouts``).
CASES = [
    pytest.param("njit_loop", TIMEOUT, id="njit_loop"),
    pytest.param("import_loop", TIMEOUT, id="import_loop", marks=pytest.mark.slow),
    pytest.param("sleep", TIMEOUT, id="sleep", marks=pytest.mark.slow),
    pytest.param("sigstop", TIMEOUT, id="sigstop", marks=pytest.mark.slow),
    pytest.param("stdin", "EOFError", id="stdin"),
    pytest.param("socket_wait", "", id="socket_wait"),
    pytest.param("sys_exit", "called sys.exit(0)", id="sys_exit"),
    pytest.param("os_exit", "process exited with status 3", id="os_exit"),
    pytest.param("sigterm", "process died with signal 15 (SIGTERM)", id="sigterm"),
]


ARGS = ["solve", "--generate", "20", "--heuristic", "h.py", "--time", f"{LIMIT_S:g}"]


@pytest.fixture(scope="module")
def timeouts(tmp_path_factory):
    """The cases that end by the limit, two at a time (``start_each``)."""
    def folder(kind):
        folder = tmp_path_factory.mktemp(kind)
        (folder / "h.py").write_text(ROUTING_HOSTILE[kind])
        return folder

    return start_each([c.values[0] for c in CASES if c.values[1] == TIMEOUT], ARGS, folder)


@pytest.mark.parametrize(("kind", "says"), CASES)
def test_a_misbehaving_file_stops_in_time_with_one_error_line(tmp_path, timeouts, kind, says):
    if kind in timeouts:
        run = timeouts[kind].wait()
    else:
        (tmp_path / "h.py").write_text(ROUTING_HOSTILE[kind])
        run = run_ahd(ARGS, tmp_path)
    assert run.returncode != 0, run
    assert run.seconds < LIMIT_S + GRACE_S + STARTUP_MARGIN_S, run
    assert "Traceback" not in run.stderr + run.stdout, run
    assert len(run.error_lines) == 1, run
    error = run.error_lines[0]
    assert run.stderr_lines[-1] == error and "h.py" in error and says in error, run
    # Besides the error, at most the header the command prints before the search starts.
    assert all("customers;" in line for line in run.stderr_lines[:-1]), run
    assert run.stdout == "", run


def test_ctrl_c_stops_the_command_at_once(tmp_path):
    (tmp_path / "h.py").write_text(ROUTING_HOSTILE["njit_loop"])
    stop = interrupt_while_user_code_runs(
        ["solve", "--generate", "20", "--heuristic", "h.py", "--time", "60"], tmp_path)
    assert stop.run.returncode == 130, stop.run
    assert stop.after_signal < 1.5, stop
    assert stop.run.stderr_lines[-1] == "error: interrupted (Ctrl-C)", stop.run
    assert "Traceback" not in stop.run.stderr, stop.run
    assert not any(alive(pid) for pid in stop.sandbox_pids), stop


def test_a_good_file_gives_the_in_process_result(tmp_path):
    (tmp_path / "team.py").write_text(ROUTING_TEAM)
    run = run_ahd(["solve", "--generate", "25", "--seed", "3", "--iterations", "300",
                   "--heuristic", "team.py", "--out", "team.sol"], tmp_path)
    assert run.returncode == 0, run
    pools = load_heuristic_file(tmp_path / "team.py")
    inst = get_problem("cvrp").generate(25, np.random.default_rng(3))
    config = LNSConfig(time_limit=10.0, iterations=300, seed=3)
    expected = run_pipeline("lns", inst, 10.0, config=config, **pools.lns_kwargs())
    routes, cost = read_solution(tmp_path / "team.sol")
    assert routes == expected.routes and cost == pytest.approx(expected.cost)
    assert run.stdout.startswith(f"cost {expected.cost:.6g}  routes {len(expected.routes)}  "
                                 "iterations 300  "), run
    assert "random_remove" in run.stderr and "error" not in run.stderr, run


def test_a_file_that_raises_keeps_its_one_line_error(tmp_path):
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom\\nsecond line')\n")
    run = run_ahd(["solve", "--generate", "10", "--heuristic", "broken.py"], tmp_path)
    assert run.returncode == 2, run
    assert run.stderr_lines == [
        "error: broken.py: cannot import: RuntimeError: boom second line"], run
