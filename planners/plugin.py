"""Planning as an ``ahd`` task plugin: one heuristic for one PDDL domain (``--problem planning``).

The config names a learning-track domain folder (``--domain DIR``); sandbox workers warm the
search kernels once; exported heuristics run with ``ahd plan --heuristic FILE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ahd.settings import build_config

#: ``ahd evolve`` flags planning reads, and the config field each sets.
FLAGS = {"train": "n_train", "validation": "n_validation", "domain": "domain_dir",
         "expansions": "max_expansions", "task_time": "time_limit"}
#: One role scored alone: candidates are not mixed into teams, so no joint proposals.
STRATEGIES = (("mutate_params", 0.35), ("mutate_logic", 0.3), ("crossover", 0.2), ("init", 0.15))


class PlanningPlugin:
    """The planning plugin (see module docstring)."""

    name = "planning"
    summary = "a domain-dependent heuristic for GBFS on one PDDL domain (needs --domain DIR)"
    flags = FLAGS
    cooperative = False
    loop_defaults = {"weights": STRATEGIES}

    def configure(self, values: Mapping[str, Any]) -> Any:
        from .evolve_config import PlanningTaskConfig, check_tasks

        if not values.get("domain_dir"):
            raise ValueError("--problem planning needs --domain DIR (a folder with domain.pddl "
                             "and training/)")
        config = build_config(PlanningTaskConfig, values)
        check_tasks(config)
        return config

    def run_stem(self, config: Any) -> str:
        return f"planning-{Path(config.domain_dir).resolve().name}"

    def sandbox_options(self, config: Any, run_dir: Path) -> dict[str, Any]:
        from .evolve_task import WARMUP_SPEC

        # Heuristics are plain Python: nothing for numba to compile per candidate.
        return {"warmup": WARMUP_SPEC, "prewarm_numba": "basic"}

    def build(self, config: Any, pool: Any) -> Any:
        from .evolve_task import PlanningTask

        task = PlanningTask(config, pool)
        task.profile  # noqa: B018 - parse and ground the training tasks now: bad PDDL fails here
        return task

    def export_imports(self) -> Mapping[str, str]:
        return {}

    def export_usage(self, module: str, entry_points: Mapping[str, str]) -> list[str]:
        return [f"ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic {module}.py"]

    def team_picture(self, store: Any, run: Any, team: Any, timeout: float) -> Any:
        return None

    def quick_settings(self, workdir: Path) -> dict[str, Any]:
        from .domains import write_suite

        write_suite(workdir, ["blocksworld"], n_train=6, n_test=1, overwrite=True)
        return {"domain_dir": str(Path(workdir) / "blocksworld"), "n_train": 2,
                "n_validation": 2, "max_expansions": 500, "time_limit": 1.0,
                "smoke_expansions": 200, "smoke_time": 1.0}


PLUGIN = PlanningPlugin()
