"""The registries: built-in problems register like plugins, a broken plugin is left out."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ahd import plugins
from ahd.commands.evolve_cli import problem_help
from ahd.problems.problem import problem_names

TASKS = sorted(plugins.tasks())


def test_builtin_problems_are_registered_through_entry_points():
    assert set(problem_names()) | {"planning"} <= set(TASKS)
    assert {"offline", "llm"} <= set(plugins.proposers())
    assert {"solve", "plan", "plan-eval"} <= set(plugins.commands())


@pytest.mark.parametrize("name", TASKS)
def test_every_task_plugin_declares_the_protocol(name):
    plugin = plugins.task_plugin(name)
    assert plugin.name == name and plugin.summary and "\n" not in plugin.summary
    for attr in ("flags", "cooperative", "loop_defaults", "configure", "run_stem",
                 "sandbox_options", "build", "export_imports", "export_usage", "team_picture",
                 "quick_settings"):
        assert hasattr(plugin, attr), f"{name} lacks {attr}"
    assert all(isinstance(v, str) for v in plugin.flags.values())
    usage = plugin.export_usage("mod", {})
    assert isinstance(usage, list) and all(isinstance(line, str) for line in usage)
    assert name in problem_help() and plugin.summary.split()[0] in problem_help()


@pytest.mark.parametrize("name", problem_names())
def test_routing_settings_round_trip_through_storage(name):
    from ahd.settings import to_settings

    plugin = plugins.task_plugin(name)
    config = plugin.configure({"size": "30", "n_train": 3, "local_search": "false"})
    assert (config.size, config.n_train, config.local_search) == (30, 3, False)
    assert plugin.configure(to_settings(config)) == config
    with pytest.raises(ValueError, match="size"):
        plugin.configure({"size": "many"})
    with pytest.raises(ValueError, match="unknown setting colour"):
        plugin.configure({"colour": "red"})


def test_unknown_problem_names_the_registered_ones():
    with pytest.raises(plugins.UnknownTask, match="registered: .*cvrp"):
        plugins.task_plugin("vrptw")


def test_installed_plugins_are_found_and_a_broken_one_is_left_out(tmp_path, monkeypatch,
                                                                  capsys):
    """A real distribution on sys.path (dist-info with entry_points.txt), as pip leaves it."""
    (tmp_path / "toyplugin.py").write_text(
        "class Toy:\n    name = 'toy'\n    summary = 'a toy problem'\n\nPLUGIN = Toy()\n")
    info = tmp_path / "toyplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[ahd.tasks]\ntoy = toyplugin:PLUGIN\nbroken = toyplugin:NOT_THERE\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.reload()
    try:
        found = plugins.tasks()
        assert found["toy"].summary == "a toy problem"
        assert "broken" not in found and "cvrp" in found
        err = capsys.readouterr().err
        assert "plugin 'broken'" in err and "toyplugin:NOT_THERE" in err
    finally:
        monkeypatch.undo()
        sys.modules.pop("toyplugin", None)
        plugins.reload()
    assert "toy" not in plugins.tasks()


def test_in_process_registration(monkeypatch):
    plugins.register(plugins.TASKS_GROUP, "mine", plugins.task_plugin("cvrp"))
    try:
        assert plugins.task_plugin("mine") is plugins.task_plugin("cvrp")
    finally:
        plugins.unregister(plugins.TASKS_GROUP, "mine")
    assert "mine" not in plugins.tasks()


def test_entry_points_in_pyproject_match_the_routing_variants():
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    for name in problem_names():
        assert f'{name} = "ahd.problems.plugin:{name.upper()}"' in text
