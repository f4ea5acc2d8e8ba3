"""The paired comparison that says whether a validated winner beats the seeds beyond noise."""

from __future__ import annotations

import math

import pytest

from ahd.evolve.loop import paired_gain
from ahd.problems.task import RoutingTask, RoutingTaskConfig


def test_gain_and_standard_error_of_per_instance_differences():
    seed = {"a": 10.0, "b": 20.0, "c": 40.0, "only-seed": 1.0}
    other = {"a": 9.0, "b": 19.0, "c": 40.0, "only-other": 5.0}
    gain, se, n = paired_gain(seed, other)
    gains = [10.0, 5.0, 0.0]  # percent better than the seeds, on the shared instances only
    assert n == 3
    assert gain == pytest.approx(5.0)
    mean = sum(gains) / 3
    sd = math.sqrt(sum((g - mean) ** 2 for g in gains) / 2)
    assert se == pytest.approx(sd / math.sqrt(3))


def test_worse_teams_have_negative_gain_and_too_few_instances_give_none():
    gain, _, _ = paired_gain({"a": 10.0, "b": 10.0}, {"a": 11.0, "b": 12.0})
    assert gain == pytest.approx(-15.0)
    assert paired_gain({"a": 1.0}, {"a": 2.0}) is None
    assert paired_gain(None, {"a": 2.0}) is None


def test_local_search_switch_reaches_the_scored_lns():
    assert RoutingTask(RoutingTaskConfig(), pool=None)._lns.local_search is True
    off = RoutingTask(RoutingTaskConfig(local_search=False), pool=None)
    assert off._lns.local_search is False


def test_cli_help_states_the_task_configs_defaults():
    """Task flags default to None so each problem's config keeps its own defaults; the help
    text must still name those values, and stay true when a config default changes."""
    from typing import get_type_hints

    from ahd.commands.evolve_cli import evolve
    from ahd.planners.evolve_task import PlanningTaskConfig

    hints = get_type_hints(evolve, include_extras=True)

    def help_of(flag):
        return hints[flag].__metadata__[0].help

    routing = RoutingTaskConfig()
    planning = {f: PlanningTaskConfig.__dataclass_fields__[f].default
                for f in ("n_validation", "max_expansions", "time_limit", "n_train")}
    assert f"[default: {routing.size}]" in help_of("size")
    assert f"[default: {routing.iterations}]" in help_of("iterations")
    assert f"[default: {routing.n_train}]" in help_of("train")
    assert routing.n_train == planning["n_train"]
    assert (f"routing {routing.n_validation}, planning {planning['n_validation']} tasks"
            in help_of("validation"))
    assert f"[default: {routing.sandbox_wall:g}s]" in help_of("eval_timeout")
    assert f"[default: {planning['max_expansions']}]" in help_of("expansions")
    assert f"[default: {planning['time_limit']:g}s]" in help_of("task_time")
    assert routing.local_search and "[default: on]" in help_of("local_search")
