"""The exporter (``ahd.export``): a stored candidate becomes a module that runs in the LNS, and the
imports it adds are exactly the preamble names the code uses. ``ahd export`` itself is tested in
``tests/commands/test_store_cli.py``."""

import importlib.util

import numpy as np
import pytest

from ahd.export import export_candidate, import_lines, module_name
from ahd.store import Store


@pytest.mark.slow
def test_exported_operators_run_in_the_lns(scored_run_dir, tmp_path):
    from ahd.problems.engine.config import LNSConfig
    from ahd.problems.engine.lns import run_lns
    from ahd.problems.generators import uniform_cvrp
    from ahd.problems.verify import verify

    with Store.in_run_dir(scored_run_dir, readonly=True) as store:
        path = export_candidate(store, 2, tmp_path / "generated")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    inst = uniform_cvrp(15, np.random.default_rng(0))
    config = LNSConfig(iterations=20, seed=0, local_search=False)
    result = run_lns(inst, config, destroy=[module.destroy], repair=[module.repair])
    assert not result.python_mode and result.compile_errors == {}
    assert verify(inst, result.routes) == pytest.approx(result.cost)


def test_import_lines_cover_preamble_names_only():
    assert import_lines("def f(a):\n    return np.sum(a) + math.pi\n") == [
        "import math", "import numpy as np",
    ]
    from ahd.problems.plugin import CVRP

    routing = CVRP.export_imports()
    assert import_lines("@njit\ndef f(sol):\n    return compact(sol)\n", routing) == [
        "from ahd.problems.engine.state import compact", "from numba import njit",
    ]
    assert import_lines("import numpy as np\ndef f(a):\n    return np.sum(a)\n") == []
    name = module_name("my-problem", ("destroy",), 3, "abcdef0123")
    assert name == "my_problem_destroy_3_abcdef01"
