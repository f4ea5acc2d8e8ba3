"""The task in a real sandbox: seeds score as computed by hand, hostile candidates get failure
records (never a crash), forged child results are caught by the parent."""

from __future__ import annotations

import concurrent.futures as cf
import math
from dataclasses import replace

import numpy as np
import pytest

from ahd.candidate import Candidate
from ahd.proposers.base import Parent
from ahd.sandbox import SandboxResult
from ahd_binpacking.engine import compile_priority, pack
from ahd_binpacking.seeds import BEST_FIT_SOURCE, FIRST_FIT_SOURCE
from ahd_binpacking.task import BinPackingTask
from ahd_binpacking.verify import excess_percent


class CountingPool:
    """The real pool, counting requests."""

    def __init__(self, pool):
        self.pool, self.requests = pool, 0

    def submit(self, func, args=(), limits=None):
        self.requests += 1
        return self.pool.submit(func, args, limits)


def cand(source: str, cid: int = 1) -> Candidate:
    return Candidate(source, ("priority",), "binpacking", id=cid)


def test_seeds_score_what_the_engine_computes(pool, small_config):
    task = BinPackingTask(small_config, pool)
    seeds = task.seeds()["priority"]
    assert [c.origin.strategy for c in seeds] == ["first_fit", "best_fit"]
    for seed, source in zip(seeds, (FIRST_FIT_SOURCE, BEST_FIT_SOURCE), strict=True):
        outcome = task.evaluate({"priority": [seed.with_id(7)]}, "validation")
        assert outcome.ok and len(outcome.records) == 2
        compiled = compile_priority(source)
        expected = [excess_percent(pack(i.items, i.capacity, compiled).n_bins, i)
                    for i in task.instances("validation")]
        assert outcome.fitness == pytest.approx(float(np.mean(expected)))
        assert list(outcome.objectives.values()) == pytest.approx(expected)
    assert task.parent_summary(Parent(seeds[1].with_id(7))) is None  # not trained yet
    assert task.parent_summary(Parent(seeds[1].with_id(7), credit=-4.25)).startswith(
        "mean excess 4.250%")
    task.evaluate({"priority": [seeds[1].with_id(7)]}, "train")
    assert "bins in total vs lower bound" in task.parent_summary(Parent(seeds[1].with_id(7)))


def test_smoke_runs_training_once_and_evaluate_reuses_it(pool, small_config):
    counting = CountingPool(pool)
    task = BinPackingTask(small_config, counting)
    best = cand(BEST_FIT_SOURCE, 3)
    assert task.smoke([best]) == [""]
    outcome = task.evaluate({"priority": [best]}, "train")
    assert counting.requests == 1 and outcome.ok and outcome.fitness > 0
    task.evaluate({"priority": [best]}, "train")
    assert counting.requests == 2  # reused once, then scored afresh


HOSTILE = {
    "endless loop": ("def priority(item, bins):\n    while item > 0:\n        item += 1.0\n"
                     "    return bins\n", "timeout"),
    "raises": ("def priority(item, bins):\n    if item > 30:\n        raise ValueError('no')\n"
               "    return -bins\n", "error"),
    "wrong shape": "def priority(item, bins):\n    return bins[:1]\n",
    "NaN": "def priority(item, bins):\n    return bins * np.nan\n",
    "not numba": ("def priority(item, bins):\n    return {'a': 1}\n", "invalid"),
    "module exits": ("raise SystemExit(0)\ndef priority(item, bins):\n    return bins\n",
                     "error"),
    "module raises": ("x = 1 / 0\ndef priority(item, bins):\n    return bins\n", "invalid"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_candidates_get_failure_records(pool, small_config, name):
    source, status = (HOSTILE[name] if isinstance(HOSTILE[name], tuple)
                      else (HOSTILE[name], "error"))
    # only the endless loop needs a short limit; compile errors alone can take seconds
    config = replace(small_config, sandbox_wall=3.0 if status == "timeout" else 30.0)
    task = BinPackingTask(config, pool)
    (message,) = task.smoke([cand(source)])
    assert message.startswith(f"{status}:"), message
    outcome = task.evaluate({"priority": [cand(source)]}, "train")
    assert not outcome.ok and math.isinf(outcome.fitness)
    assert {r.status for r in outcome.records} == {status}
    assert outcome.errors[1] == outcome.error and outcome.error
    assert task.parent_summary(Parent(cand(source))).startswith(f"failed: train_s0_0: {status}")


class ForgingPool:
    """Answers every request with a fixed (forged) child result."""

    def __init__(self, value):
        self.value = value

    def submit(self, func, args=(), limits=None):
        future = cf.Future()
        future.set_result(SandboxResult("ok", value=self.value, wall_time=0.1))
        return future


@pytest.mark.parametrize("forge, status, words", [
    (lambda n: [(np.zeros(n, dtype=np.int64), "")], "infeasible", "over the capacity"),
    (lambda n: [(np.arange(n - 1, dtype=np.int64), "")], "infeasible", "one bin per item"),
    (lambda n: [(np.arange(n, dtype=np.int64)[::-1].copy(), "")], "infeasible", "order"),
    (lambda n: [(np.arange(n, dtype=np.float64), "")], "invalid", "integer array"),
    (lambda n: [], "invalid", "per-instance results"),
])
def test_forged_child_results_are_caught(small_config, forge, status, words):
    config = replace(small_config, n_validation=1)
    n = BinPackingTask(config, None).instances("validation")[0].n_items
    value = {"status": "ok", "error": "", "results": forge(n), "compile_seconds": 0.0}
    task = BinPackingTask(config, ForgingPool(value))
    outcome = task.evaluate({"priority": [cand(BEST_FIT_SOURCE)]}, "validation")
    assert not outcome.ok and outcome.records[0].status == status
    assert words in outcome.records[0].error


def test_a_forged_score_key_is_refused(small_config):
    config = replace(small_config, n_validation=1)
    value = {"status": "ok", "error": "", "results": [], "compile_seconds": 0.0, "score": 0.0}
    task = BinPackingTask(config, ForgingPool(value))
    outcome = task.evaluate({"priority": [cand(BEST_FIT_SOURCE)]}, "validation")
    assert outcome.records[0].status == "invalid" and "expected keys" in outcome.error


def test_check_accepts_the_role_and_refuses_what_cannot_run(small_config):
    task = BinPackingTask(small_config, None)
    assert task.check(BEST_FIT_SOURCE, ("priority",)) == []
    assert task.check("def priority(item, bins):\n    return -np.arange(len(bins))\n",
                      ("priority",)) == []
    assert "import of 'os'" in task.check("import os\n" + BEST_FIT_SOURCE, ("priority",))[0]
    assert "needs 2" in task.check("def priority(bins):\n    return bins\n", ("priority",))[0]
    assert "missing entry point" in task.check("def h(item, bins):\n    return bins\n",
                                               ("priority",))[0]
    assert "exactly the role" in task.check(BEST_FIT_SOURCE, ("destroy",))[0]
    assert "'open' is not allowed" in " ".join(task.check(
        "def priority(item, bins):\n    open('x')\n    return bins\n", ("priority",)))


def test_texts_state_the_rule(small_config):
    task = BinPackingTask(small_config, None)
    assert "new, empty bin" in task.role_doc("priority") and "numba" in task.role_doc("priority")
    assert "L1 = ceil" in task.describe() and "Weibull" in task.describe()
    any_fit = BinPackingTask(replace(small_config, offer_new_bin=False), None)
    assert "only asked when some open bin fits" in any_fit.role_doc("priority")
    assert task.prompt_dir.joinpath("_common.txt").is_file()
    assert "$problem" in task.prompt_dir.joinpath("_common.txt").read_text()
    with pytest.raises(KeyError):
        task.role_doc("destroy")
    assert task.instance_names("test")[0] == "weibull_5k_1"
