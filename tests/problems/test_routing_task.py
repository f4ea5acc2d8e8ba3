"""The routing task's settings reach the scored LNS runs."""

from __future__ import annotations

from ahd.problems.task import RoutingTask, RoutingTaskConfig


def test_local_search_switch_reaches_the_scored_lns():
    assert RoutingTask(RoutingTaskConfig(), pool=None)._lns.local_search is True
    off = RoutingTask(RoutingTaskConfig(local_search=False), pool=None)
    assert off._lns.local_search is False
