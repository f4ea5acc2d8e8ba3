"""A run stopped during its validation redoes it on resume from a clean slate: the store then
holds exactly the validation results the verdict was computed from, never a row left by the
validation that did not finish. Uses the bin-packing plugin (evaluations take milliseconds).
"""

from __future__ import annotations

import json
import shutil
import sqlite3

from ahd_binpacking.config import BinPackingConfig
from ahd_binpacking.plugin import PLUGIN

from ahd.evolve.budget import Budget, StopRule
from ahd.evolve.loop import Evolution, EvolveConfig
from ahd.sandbox import SandboxPool
from ahd.store import Store


def _evolve(run_dir, pool, progress=print):
    config = BinPackingConfig(n_items=100, n_train=1, n_validation=2, smoke_items=20)
    with Store.in_run_dir(run_dir) as store:
        if not store.runs():
            store.create_run("binpacking", {}, 0)
        store.open_run()
        task = PLUGIN.build(config, pool)
        evo = Evolution(task, task.offline_proposer(), store, run_dir,
                        EvolveConfig(pool_size=4, offspring=2, seed=0, overlap=False,
                                     weights=PLUGIN.loop_defaults["weights"]),
                        StopRule(Budget(rounds=1)), progress=progress, threads=2)
        return evo.run()


def _validation_rows(run_dir):
    with sqlite3.connect(run_dir / "ahd.sqlite") as conn:
        return conn.execute("SELECT candidate_id, instance, context, objective FROM evaluations"
                            " WHERE split = 'validation' ORDER BY 1, 2, 3").fetchall()


def test_a_validation_cut_short_is_redone_and_its_rows_replaced(tmp_path):
    run_dir = tmp_path / "run"
    saved = tmp_path / "state-before-validation.json"

    def progress(line: str) -> None:  # the state as a kill during validation would leave it
        if line.startswith("validation: seed team"):
            shutil.copy(run_dir / "state.json", saved)

    with SandboxPool(1, prewarm_numba="basic") as pool:
        first = _evolve(run_dir, pool, progress)
        rows = _validation_rows(run_dir)
        assert rows and json.loads(saved.read_text())["snapshots"][0]["validation"] is None
        # The killed validation had stored rows of its own (here: made-up objectives).
        with sqlite3.connect(run_dir / "ahd.sqlite") as conn:
            conn.execute("UPDATE evaluations SET objective = 999.0 WHERE split = 'validation'")
        shutil.copy(saved, run_dir / "state.json")
        lines: list[str] = []
        again = _evolve(run_dir, pool, lines.append)
    assert f"resume: discarded 0 candidate(s) and {len(rows)} evaluation(s)" in lines[0]
    assert _validation_rows(run_dir) == rows  # the made-up rows are gone, the real ones back
    assert again.seed_validation == first.seed_validation
