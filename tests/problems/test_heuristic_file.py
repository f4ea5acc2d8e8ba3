"""Loading exported heuristics by path: team files, single candidates, clear errors."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner
from user_files import ROUTING_TEAM

from ahd.cli import app
from ahd.problems.engine.config import LNSConfig
from ahd.problems.engine.lns import run_lns
from ahd.problems.generators import x_cvrp
from ahd.problems.heuristic_file import HeuristicFileError, load_heuristic_file
from ahd.problems.io import write_instance
from ahd.problems.verify import verify

#: A realistic evolved team, written against the engine's state primitives like the seeds.
TEAM = ROUTING_TEAM

SINGLE = '''
import numpy as np

from ahd.problems.engine.state import remove_customer


def drop_first(inst, sol, n_remove, removed):
    k = 0
    for c in range(1, inst.n + 1):
        if k == n_remove:
            break
        if sol.route_of[c] >= 0 and np.random.random() < 0.5:
            remove_customer(inst, sol, c)
            removed[k] = c
            k += 1
    return k


destroy = drop_first  # entry point of the destroy role
'''

runner = CliRunner()


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_team_file_gives_its_pools_and_problem(tmp_path):
    pools = load_heuristic_file(write(tmp_path, "cvrp_team.py", TEAM))
    assert [f.__name__ for f in pools.destroy] == ["random_remove"]
    assert [f.__name__ for f in pools.repair] == ["greedy_insert"]
    assert pools.improve is None and pools.problem == "cvrp"
    assert pools.path.name == "cvrp_team.py"
    assert "random_remove" in pools.describe()


@pytest.mark.slow
def test_team_operators_run_in_the_engine(tmp_path):
    pools = load_heuristic_file(write(tmp_path, "cvrp_team.py", TEAM))
    inst = x_cvrp(30, np.random.default_rng(0))
    res = run_lns(inst, LNSConfig(iterations=300, seed=0), **pools.lns_kwargs())
    assert not res.python_mode, res.compile_errors
    assert set(res.destroy_stats) == {"random_remove"}
    assert res.cost == verify(inst, res.routes)


def _with_helper(text: str) -> str:
    """TEAM whose destroy calls a jitted helper of its own module, as exported teams do."""
    out = text.replace("    return k\n\n", "    return _count(k)\n\n").replace(
        "import numpy as np\n", "import numpy as np\nfrom numba import njit\n\n\n"
        "@njit\ndef _count(taken):\n    return taken\n")
    assert "return _count(k)" in out
    return out


#: Loads the file N times in one process, then runs the last load on two instances.
LOAD_AND_RUN = """
import sys
import numpy as np
from ahd.problems.heuristic_file import load_heuristic_file
from ahd.problems.engine.config import LNSConfig
from ahd.problems.engine.lns import run_lns
from ahd.problems.generators import x_cvrp
for _ in range(int(sys.argv[2])):
    pools = load_heuristic_file(sys.argv[1]).lns_kwargs()
for seed in (0, 1):
    res = run_lns(x_cvrp(20, np.random.default_rng(seed)), LNSConfig(iterations=20), **pools)
    assert not res.python_mode, res.compile_errors
"""


@pytest.mark.slow
def test_a_team_file_runs_however_often_any_process_loaded_it(tmp_path):
    """numba caches the compiled operators next to the file; a cache written by a process that
    loaded the file more than once must still serve a process that loads it once, and
    reloading in one process must not break the runs of earlier loads."""
    team = write(tmp_path, "cvrp_team.py", _with_helper(TEAM))
    for loads in (3, 1, 2):
        proc = subprocess.run([sys.executable, "-c", LOAD_AND_RUN, str(team), str(loads)],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, (loads, proc.stderr[-2000:])


#: Loads the file under another module name and compiles it with numba's on-disk cache.
STALE_CACHE = """
import importlib.util, sys
from ahd.problems.engine.signatures import compile_operator
spec = importlib.util.spec_from_file_location("renamed_since", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["renamed_since"] = module
spec.loader.exec_module(module)
assert compile_operator(module.DESTROY[0], "destroy", cache=True)[1] is None
"""


@pytest.mark.slow
def test_a_stale_numba_cache_does_not_demote_operators_to_python(tmp_path):
    """A cache written while the file's module had another name (an older ahd, or any other
    loader) cannot serve this load; the operators compile afresh instead of running in Python."""
    team = write(tmp_path, "cvrp_team.py", _with_helper(TEAM))
    proc = subprocess.run([sys.executable, "-c", STALE_CACHE, str(team)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert list((tmp_path / "__pycache__").glob("*.nbi"))
    proc = subprocess.run([sys.executable, "-c", LOAD_AND_RUN, str(team), "1"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_single_candidate_missing_role_falls_back_to_the_seed_pool(tmp_path):
    pools = load_heuristic_file(write(tmp_path, "cvrp_destroy_7_abcd.py", SINGLE))
    assert [f.__name__ for f in pools.destroy] == ["drop_first"]
    assert pools.repair is None and pools.problem is None
    assert "repair (seed pool)" in pools.describe()


def test_files_with_the_same_name_do_not_shadow_each_other(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = load_heuristic_file(write(tmp_path / "a", "h.py", TEAM))
    two = load_heuristic_file(write(tmp_path / "b", "h.py", SINGLE))
    assert one.destroy[0].__module__ != two.destroy[0].__module__
    assert one.destroy[0].__name__ == "random_remove"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("def destroy(inst, sol, n, removed)\n    return 0\n", "SyntaxError"),
        ("import not_a_module_anywhere\n", "ModuleNotFoundError"),
        ("raise RuntimeError('boom\\nsecond line')\n", "RuntimeError: boom second line"),
        ("x = 1\n", "neither"),
        ("DESTROY = []\n", "non-empty list"),
        ("DESTROY = [print, 3]\n", "DESTROY[1] is int"),
        ("repair = 'greedy'\n", "repair is str"),
        ("PROBLEM = 3\ndestroy = print\n", "PROBLEM"),
    ],
)
def test_bad_files_are_one_line_errors_naming_the_file(tmp_path, text, reason):
    path = write(tmp_path, "broken_heuristic.py", text)
    with pytest.raises(HeuristicFileError) as info:
        load_heuristic_file(path)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "\n" not in message and str(path) in message and reason in message


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(HeuristicFileError, match="no such heuristic file"):
        load_heuristic_file(tmp_path / "nope.py")


@pytest.mark.slow
def test_cli_solve_with_a_heuristic_file(tmp_path):
    team = write(tmp_path, "cvrp_team.py", TEAM)
    inst_path = tmp_path / "x25.vrp"
    write_instance(x_cvrp(25, np.random.default_rng(1)), inst_path)
    res = runner.invoke(
        app, ["solve", "--instance", str(inst_path), "--heuristic", str(team), "--time", "0.5"]
    )
    assert res.exit_code == 0, res.output
    assert "cost " in res.output and "random_remove" in res.output


def test_cli_bad_heuristic_file_is_a_one_line_error(tmp_path):
    bad = write(tmp_path, "broken.py", "def destroy(:\n")
    res = runner.invoke(app, ["solve", "--generate", "10", "--heuristic", str(bad)])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "broken.py" in lines[0]
