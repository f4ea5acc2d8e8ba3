"""Fixtures shared by several test folders, and the one place that puts ``tests/helpers`` on
``sys.path``.

Test modules import the helper modules by their plain names (``from llm_server import Reply``,
``from operator_sources import RANDOM_DESTROY``); no test patches ``sys.path`` itself. Tests are
collected in pytest's default ``prepend`` import mode without ``__init__.py`` files, so test file
basenames must stay unique across ``tests/``.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parent / "helpers"
if str(HELPERS) not in sys.path:
    sys.path.insert(0, str(HELPERS))

from shared_run import SharedRun, shared_cvrp_run  # noqa: E402 - needs HELPERS on sys.path
from warm_caches import warm_numba_caches  # noqa: E402


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Fill numba's caches before any test process starts (see ``warm_caches``): in the
    controller (or the only process), before xdist starts its workers."""
    if os.environ.get("PYTEST_XDIST_WORKER") or session.config.option.collectonly:
        return
    line = warm_numba_caches()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)


def _shares_the_cvrp_run(path: Path) -> bool:
    return bool(re.search(r"\b(cvrp_run|real_run)\b", path.read_text(encoding="utf-8")))


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Whole files to each xdist worker (``--dist loadfile``), except that the files whose
    tests use the session's cvrp run (``cvrp_run``, or ``real_run`` built on it) go to one
    worker together: a session fixture is built once per worker, and this one is a real
    two-round run (about 70 s of CPU), so two workers would each build it."""
    if config.getoption("dist", None) != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    root = Path(str(config.rootpath))
    together = {p.relative_to(root).as_posix() for p in root.glob("tests/**/test_*.py")
                if _shares_the_cvrp_run(p)}

    class SharedRunTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "cvrp_run" if path in together else path

    return SharedRunTogether(config, log)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def cvrp_run(tmp_path_factory: pytest.TempPathFactory) -> SharedRun:
    """A real offline cvrp run stopped after round 1, and a copy resumed to round 2 (about a
    minute), made once per session for every test and every xdist worker that asks for it.
    Tests that write into a run directory copy it first."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's base is a folder of the session's own: its parent is common.
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return shared_cvrp_run(root / "shared")


@pytest.fixture
def scored_run_dir(tmp_path: Path) -> Path:
    """A CVRP run directory with two scored candidates, for the store commands and the exporter.

    Candidate 1 is a seed destroy operator (``RANDOM_DESTROY``; train 1.25 and 1.75). Candidate
    2 is its LLM child, a joint destroy + repair whose repair entry point ``greedy`` uses names
    only the evaluation preamble imports (train 0.5 and 0.75, one validation timeout).
    """
    from operator_sources import PREAMBLE_REPAIR, RANDOM_DESTROY

    from ahd.candidate import Candidate, Origin
    from ahd.store import Evaluation, Store

    run_dir = tmp_path / "run"
    with Store.in_run_dir(run_dir) as store:
        store.create_run("cvrp", {"time": 1}, seed=0, versions={})
        seed_candidate = Candidate(RANDOM_DESTROY, ("destroy",), "cvrp", origin=Origin("seed"))
        seed, _ = store.add_candidate(seed_candidate)
        joint, _ = store.add_candidate(Candidate(
            RANDOM_DESTROY + PREAMBLE_REPAIR, ("destroy", "repair"), "cvrp", parents=(seed,),
            generation=1, entry_points={"repair": "greedy"},
            origin=Origin("llm", "mutation", "mutate_v1", "some-model", 1200, 300, 0.0042),
        ))
        store.add_evaluations([
            Evaluation(seed, "X-n101", "train", "ok", 1.25),
            Evaluation(seed, "X-n106", "train", "ok", 1.75),
            Evaluation(joint, "X-n101", "train", "ok", 0.5),
            Evaluation(joint, "X-n106", "train", "ok", 0.75),
            Evaluation(joint, "X-n110", "validation", "timeout", error="time limit"),
        ])
    assert (seed, joint) == (1, 2)
    return run_dir
