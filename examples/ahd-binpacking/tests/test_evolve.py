"""End to end: a short real evolution (sandbox, numba, SQLite) exports a working winner."""

from __future__ import annotations

import importlib.util
import math

import pytest

from ahd.evolve.budget import Budget, StopRule
from ahd.evolve.loop import Evolution, EvolveConfig
from ahd.store import Store
from ahd_binpacking import load_priority, pack, verify_assignment, weibull_instance
from ahd_binpacking.config import BinPackingConfig
from ahd_binpacking.plugin import PLUGIN


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_short_evolution_exports_a_winner_that_packs(tmp_path, pool):
    config = BinPackingConfig(n_items=400, n_train=2, n_validation=2, smoke_items=50)
    store = Store.in_run_dir(tmp_path)
    store.create_run("binpacking", {"n_items": 400}, 0)
    task = PLUGIN.build(config, pool)
    lines: list[str] = []
    evo = Evolution(task, task.offline_proposer(), store, tmp_path,
                    EvolveConfig(pool_size=6, offspring=6, seed=1,
                                 weights=PLUGIN.loop_defaults["weights"]),
                    StopRule(Budget(rounds=3)), progress=lines.append)
    result = evo.run()
    assert result.stop_reason == "budget reached: rounds 3 of 3"
    assert math.isfinite(result.seed_train) and result.seed_validation is not None
    assert result.winner is not None and math.isfinite(result.winner.validation)
    summary = task.summarise(result, store, tmp_path)
    assert summary.exported is not None and summary.exported.parent == tmp_path / "generated"
    assert summary.fields["winner_validation"] == result.winner.validation
    assert any(line.startswith("winner: candidate") for line in summary.lines)
    text = summary.exported.read_text()
    assert text.startswith("# ---") and "Candidate" in text and "def priority" in text

    spec = importlib.util.spec_from_file_location("exported_priority", summary.exported)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # a plain, self-contained module
    inst = weibull_instance(300, 11)
    packing = pack(inst.items, inst.capacity, load_priority(summary.exported))
    assert verify_assignment(inst, packing.assignment) == packing.n_bins
    store.close()
