"""``ahd evolve``'s options: refused combinations are usage errors, and the help states the
task configs' defaults. The runs themselves are in ``test_evolve_offline_run.py`` and
``test_evolve_llm_run.py``."""

from __future__ import annotations

from typer.testing import CliRunner

from ahd.cli import app
from ahd.problems.task import RoutingTaskConfig


def test_evolve_refuses_bad_options(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(app, ["evolve", "--problem", "knapsack", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "unknown problem" in bad.output
    bad = runner.invoke(app, ["evolve", "--time", "soon", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2
    bad = runner.invoke(app, ["evolve", "--resume", str(tmp_path / "none")])
    assert bad.exit_code == 2 and "no run to resume" in bad.output
    bad = runner.invoke(app, ["evolve", "--replay", "--out", str(tmp_path / "y")])
    assert bad.exit_code == 2 and "--replay needs --model" in bad.output


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
