"""Every built-in heuristic and every search configuration solves generated tasks, and
unified-planning accepts the plans (enforced hill-climbing's: test_hill_climbing.py)."""

from __future__ import annotations

import numpy as np
import pytest

from ahd.planners.api import solve
from ahd.planners.domains import DOMAINS
from ahd.planners.heuristics import HEURISTICS
from ahd.planners.validate import validate_plan

SIZES = {"blocksworld": 4, "gripper": 3, "miconic": 3, "ferry": 3}


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    out = []
    for name, size in SIZES.items():
        spec = DOMAINS[name]
        domain = root / f"{name}-domain.pddl"
        domain.write_text(spec.domain)
        problem = root / f"{name}-p.pddl"
        problem.write_text(spec.generate(size, np.random.default_rng(3)))
        out.append((name, domain, problem))
    return out


@pytest.mark.parametrize("heuristic", sorted(HEURISTICS))
def test_builtin_heuristic_plans_validate_with_unified_planning(heuristic, tasks):
    for name, domain, problem in tasks:
        result = solve(domain, problem, heuristic=heuristic, time_limit=60)
        assert result.status == "solved", (name, heuristic, result.status)
        check = validate_plan(domain, problem, result.plan)
        assert check.valid, (name, heuristic, check.reason)
        assert check.cost == pytest.approx(result.cost)


#: The searches besides eager GBFS, with h_FF: lazy with preferred operators, and LAMA's
#: first search (that, with the landmark count).
SEARCHES = {"lazy-pref": {"lazy": True, "preferred": True},
            "lama": {"lazy": True, "preferred": True, "landmarks": True}}


@pytest.mark.parametrize("search", sorted(SEARCHES))
def test_search_configuration_plans_validate_with_unified_planning(search, tasks):
    for name, domain, problem in tasks:
        result = solve(domain, problem, "hff", time_limit=60, **SEARCHES[search])
        assert result.status == "solved", (name, search, result.status)
        check = validate_plan(domain, problem, result.plan)
        assert check.valid, (name, search, check.reason)
        assert check.cost == pytest.approx(result.cost)


@pytest.mark.parametrize("search", ["eager", "lama"])
def test_a_seed_shuffles_successors_reproducibly_and_plans_still_validate(search, tasks):
    options = {"lazy": True, "preferred": True, "landmarks": True} if search == "lama" else {}
    orders = set()
    for name, domain, problem in tasks:
        runs = {seed: solve(domain, problem, "hff", time_limit=60, seed=seed, **options)
                for seed in (None, 1, 2)}
        for seed, result in runs.items():
            assert result.status == "solved", (name, search, seed, result.status)
            check = validate_plan(domain, problem, result.plan)
            assert check.valid, (name, search, seed, check.reason)
        again = solve(domain, problem, "hff", time_limit=60, seed=1, **options)
        assert (again.plan, again.expanded) == (runs[1].plan, runs[1].expanded)
        orders.add(tuple(tuple(r.plan) for r in runs.values()))
    # Some task is searched differently: a different plan under some seed.
    assert any(len(set(plans)) > 1 for plans in orders)
