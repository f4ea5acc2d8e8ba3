"""The anytime annealing schedule: a timed run is a prefix of every longer run with its seed.

Why it matters: under a schedule fitted to the time limit, a 10 s run cools faster than a
60 s run, their trajectories part from the first iteration, and the shorter one can end
better. The anytime schedule depends on iterations only, so more time never gives a worse
result; these tests replay a timed run by its iteration count and compare traces.
"""

import numpy as np
import pytest
from large_instances import belgium_like

from ahd.problems.engine.config import ANYTIME_MIN_CUSTOMERS, LNSConfig
from ahd.problems.engine.lns import run_lns
from ahd.problems.generators import x_cvrp


def _same_search(a, b) -> bool:
    """Same routes, cost and improvement trace (iteration numbers and costs, not seconds)."""
    return (a.routes == b.routes and a.cost == b.cost
            and np.array_equal(a.trace[:, 1:], b.trace[:, 1:]))


@pytest.mark.parametrize("acceptance", ["sa", "rrt"])
def test_a_timed_anytime_run_replays_from_its_iteration_count(acceptance):
    inst = x_cvrp(100, 5)
    # small epochs, so that 0.5 s crosses several restarts from the best solution
    common = dict(seed=3, acceptance=acceptance, first_epoch=20, schedule="anytime")
    run_lns(inst, LNSConfig(iterations=2, **common))  # compile outside the clock
    timed = run_lns(inst, LNSConfig(time_limit=0.5, **common))
    assert timed.iterations > 3 * 20  # epochs of 20, 40, ...: at least two restarts
    replay = run_lns(inst, LNSConfig(iterations=timed.iterations, **common))
    assert replay.iterations == timed.iterations
    assert _same_search(timed, replay)
    longer = run_lns(inst, LNSConfig(time_limit=1.5, **common))
    assert longer.iterations > timed.iterations and longer.cost <= timed.cost
    n = len(timed.trace)
    assert np.array_equal(longer.trace[:n, 1:], timed.trace[:, 1:])


def test_the_limit_schedule_depends_on_the_limit():
    """The contrast that makes the test above meaningful: with the schedule fitted to the
    limit, the same iterations under a shorter budget take another path."""
    inst = x_cvrp(150, 5)
    short = run_lns(inst, LNSConfig(iterations=300, seed=3, schedule="limit"))
    long = run_lns(inst, LNSConfig(iterations=3000, seed=3, schedule="limit"))
    n = min(len(short.trace), len(long.trace))
    assert not np.array_equal(short.trace[:n, 1:], long.trace[:n, 1:])
    prefix = run_lns(inst, LNSConfig(iterations=300, seed=3, schedule="anytime"))
    longer = run_lns(inst, LNSConfig(iterations=3000, seed=3, schedule="anytime"))
    assert np.array_equal(longer.trace[:len(prefix.trace), 1:], prefix.trace[:, 1:])


def test_which_schedule_a_config_uses():
    big = ANYTIME_MIN_CUSTOMERS
    assert LNSConfig(time_limit=10).uses_anytime(big)
    assert not LNSConfig(time_limit=10).uses_anytime(big - 1)  # the earlier tables' schedule
    assert not LNSConfig(iterations=100).uses_anytime(big)  # evolution's budgets as before
    assert not LNSConfig(time_limit=10, iterations=100).uses_anytime(big)
    assert LNSConfig(iterations=100, schedule="anytime").uses_anytime(10)
    assert not LNSConfig(time_limit=10, schedule="limit").uses_anytime(big)
    assert LNSConfig(time_limit=1).epoch_iterations(100) == 1000
    assert LNSConfig(time_limit=1).epoch_iterations(4000) == 8000
    assert LNSConfig(time_limit=1, first_epoch=50).epoch_iterations(4000) == 50
    for bad in ({"schedule": "fast"}, {"reheat": 0.0}, {"reheat": 1.5}, {"first_epoch": -1},
                {"sub_iterations": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            LNSConfig(time_limit=1, **bad)


def test_a_decomposed_run_is_a_prefix_of_a_longer_one():
    inst = belgium_like(900, 8, distances="coords")
    common = dict(seed=2, decompose="on", sub_customers=200, sub_iterations=150,
                  schedule="anytime")
    run_lns(inst, LNSConfig(time_limit=0.2, **common))  # compile outside the clock
    short = run_lns(inst, LNSConfig(time_limit=1.0, **common))
    long = run_lns(inst, LNSConfig(time_limit=2.5, **common))
    assert long.cost <= short.cost
    # every sub-problem but the short run's last (cut by its clock) ran in full in both
    done = short.trace[:-1]
    assert len(done) >= 2 and np.array_equal(long.trace[:len(done), 1:], done[:, 1:])
