"""Routing as ``ahd`` task plugins: one per variant (cvrp, tsp, ovrp), registered as entry points.

Everything the core asks of routing before, during and after a run goes through here: the
config a ``--problem cvrp`` run reads, how sandbox workers warm the engine, the task itself
(:class:`~ahd.problems.task.RoutingTask`), what an exported operator imports and how it is used,
and the route drawing of ``ahd report``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ahd.settings import build_config

from .problem import get_problem, problem_names

#: ``ahd evolve`` flags routing reads, and the config field each sets.
FLAGS = {
    "size": "size", "instances": "instances_dir", "iterations": "iterations",
    "train": "n_train", "validation": "n_validation", "local_search": "local_search",
    "eval_timeout": "sandbox_wall", "seed": "seed",
}
#: ``run_lns`` keyword of each routing role.
LNS_ROLES = ("destroy", "repair", "improve")
STATE_MODULE = "ahd.problems.engine.state"


@dataclass(frozen=True)
class RoutingPlugin:
    """The plugin of one routing variant (see module docstring)."""

    name: str
    flags: Mapping[str, str] = field(default_factory=lambda: dict(FLAGS))
    cooperative: bool = True
    #: The loop's own defaults (with joint destroy/repair proposals) suit routing.
    loop_defaults: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        get_problem(self.name)

    @property
    def summary(self) -> str:
        return f"{get_problem(self.name).summary}, destroy/repair LNS operators"

    def configure(self, values: Mapping[str, Any]) -> Any:
        from .task import RoutingTaskConfig, instance_files

        given = dict(values)
        if given.setdefault("problem", self.name) != self.name:
            raise ValueError(f"problem: settings of a {given['problem']} run, not {self.name}")
        config = build_config(RoutingTaskConfig, given)
        if config.instances_dir is not None:  # a bad file is reported now, before any worker
            instance_files(config.instances_dir, config.problem)
        return config

    def run_stem(self, config: Any) -> str:
        return config.problem

    def sandbox_options(self, config: Any, run_dir: Path) -> dict[str, Any]:
        from .evaluate import WARMUP_SPEC

        return {"warmup": WARMUP_SPEC, "shared_dir": Path(run_dir) / "numba"}

    def build(self, config: Any, pool: Any) -> Any:
        from .task import RoutingTask

        return RoutingTask(config, pool)

    def export_imports(self) -> Mapping[str, str]:
        from .checks import state_names

        return {name: STATE_MODULE for name in state_names()}

    def export_usage(self, module: str, entry_points: Mapping[str, str]) -> list[str]:
        keywords = ", ".join(f"{role}=[mod.{entry}]" for role, entry in entry_points.items()
                             if role in LNS_ROLES)
        if not keywords:
            return ["(no routing roles)"]
        return [f"import {module} as mod", "from ahd.problems.engine.lns import run_lns",
                f"run_lns(instance, config, {keywords})",
                f"ahd solve --problem {self.name} --instance FILE --heuristic {module}.py"]

    def team_picture(self, store: Any, run: Any, team: Any, timeout: float) -> Any:
        from .report_routes import team_routes

        return team_routes(store, run, team, timeout)

    def quick_settings(self, workdir: Path) -> dict[str, Any]:
        return {"size": 10, "n_train": 1, "n_validation": 2, "iterations": 30,
                "smoke_size": 8, "smoke_iterations": 10}


#: Every variant's plugin (a test checks these cover :func:`~ahd.problems.problem.problem_names`
#: and are the ``ahd.tasks`` entry points).
PLUGINS = {name: RoutingPlugin(name) for name in problem_names()}


def __getattr__(name: str) -> RoutingPlugin:
    """``CVRP``, ``TSP``, ...: each variant's plugin under the upper-case name the
    ``ahd.tasks`` entry points use (``ahd.problems.plugin:CVRP``)."""
    if name.isupper() and name.lower() in PLUGINS:
        return PLUGINS[name.lower()]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
