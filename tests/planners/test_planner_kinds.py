"""Planner kinds of ``ahd plan-eval``: the built-in table, kinds added in-process, kinds that
installed packages register as ``ahd.planners`` entry points, and the errors naming them."""

import importlib.metadata
import re

import pytest

from ahd.planners.competition import PlannerSpecError, parse_planner, planners_registry
from ahd.planners.competition.planners_registry import (
    KINDS,
    PLANNER_KINDS,
    PLANNERS_GROUP,
    load_planner_plugins,
)


@pytest.fixture
def fresh_plugins():
    """Forget the installed plugins before and after a test that fakes them."""
    planners_registry.installed_planners.cache_clear()
    yield
    planners_registry.installed_planners.cache_clear()


def test_planner_kinds_dict_registers_a_kind_and_unknown_kinds_list_them(monkeypatch,
                                                                          tmp_path):
    from planner_plugin_fixture import EchoPlanner

    assert KINDS == tuple(PLANNER_KINDS) == ("ahd", "fd", "pyperplan", "cmd")
    monkeypatch.setattr(planners_registry, "installed_planners", lambda: {})
    monkeypatch.setitem(PLANNER_KINDS, "echo", EchoPlanner)
    p = parse_planner("mine=echo:hello there", cwd=tmp_path)
    assert isinstance(p, EchoPlanner)
    assert (p.label, p.spec, p.config) == ("mine", "echo:hello there", "hello there")
    listed = "registered kinds: ahd, fd, pyperplan, cmd, echo"
    with pytest.raises(PlannerSpecError, match=re.escape(f"unknown planner kind 'xyz'; {listed}")):
        parse_planner("xyz:1")
    with pytest.raises(PlannerSpecError, match="KIND one of ahd, fd, pyperplan, cmd, echo"):
        parse_planner("echo")


def test_planner_kinds_from_entry_points(monkeypatch, capsys, fresh_plugins):
    from planner_plugin_fixture import EchoPlanner

    def ep(name: str, value: str) -> importlib.metadata.EntryPoint:
        return importlib.metadata.EntryPoint(name=name, value=value, group=PLANNERS_GROUP)

    echo = ep("echo", "planner_plugin_fixture:EchoPlanner")
    bad = [ep("broken", "no_such_module_for_ahd_tests:Planner"),
           ep("fd", "planner_plugin_fixture:EchoPlanner"),  # built-in kinds stay built in
           ep("not_planner", "planner_plugin_fixture:NOT_A_PLANNER"),
           ep("bad-name", "planner_plugin_fixture:EchoPlanner")]
    assert load_planner_plugins([echo, *bad]) == {"echo": EchoPlanner}
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == len(bad)
    assert all(w.startswith(f"warning: {PLANNERS_GROUP} plugin '") for w in warnings)
    by_name = {w.split("'")[1]: w for w in warnings}
    assert "ModuleNotFoundError" in by_name["broken"]
    assert "built-in planner kind cannot be replaced" in by_name["fd"]
    assert "not a Planner subclass" in by_name["not_planner"]
    assert "letters, digits and underscores" in by_name["bad-name"]

    # parse_planner reads the installed ones through importlib.metadata, once per process
    calls = []

    def entry_points(group: str):
        calls.append(group)
        return [echo, bad[0]]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    p = parse_planner("e=echo:hi")
    assert isinstance(p, EchoPlanner) and p.config == "hi"
    assert isinstance(parse_planner("fd:lama-first"), PLANNER_KINDS["fd"])
    with pytest.raises(PlannerSpecError, match="registered kinds: ahd, fd, pyperplan, cmd, echo$"):
        parse_planner("nosuch:x")
    assert calls == [PLANNERS_GROUP]
    assert len(capsys.readouterr().err.splitlines()) == 1  # the broken plugin, warned once
