"""Online bin packing as an ``ahd`` task plugin (``ahd evolve --problem binpacking``).

Registered through the ``ahd.tasks`` entry point in this package's ``pyproject.toml``. The
module imports only light things: ``ahd`` loads every plugin when its CLI starts, so numba
and the task are imported when a run is built, not before.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ahd.settings import build_config

from .config import BinPackingConfig

#: ``ahd evolve`` flags bin packing reads, and the config field each sets.
FLAGS = {"size": "n_items", "train": "n_train", "validation": "n_validation", "seed": "seed",
         "eval_timeout": "sandbox_wall"}
#: One role scored alone: no joint proposals.
STRATEGIES = (("mutate_params", 0.35), ("mutate_logic", 0.3), ("crossover", 0.2), ("init", 0.15))


class BinPackingPlugin:
    """The bin packing plugin (see the module docstring and :class:`ahd.plugins.TaskPlugin`)."""

    name = "binpacking"
    summary = ("online 1D bin packing (FunSearch's Weibull benchmark): evolve priority(item, "
               "bins); score = excess bins over the L1 bound")
    flags = FLAGS
    cooperative = False
    #: Expression-tree GP wants a larger population than the loop's default of 6 (what
    #: ``benchmarks/binpacking.py`` measured with).
    loop_defaults = {"weights": STRATEGIES, "pool_size": 24, "offspring": 12}

    def configure(self, values: Mapping[str, Any]) -> BinPackingConfig:
        return build_config(BinPackingConfig, values)

    def run_stem(self, config: BinPackingConfig) -> str:
        if config.train_file is not None:
            return f"binpacking-{Path(config.train_file).stem}"
        return f"binpacking-weibull{config.n_items}"

    def sandbox_options(self, config: BinPackingConfig, run_dir: Path) -> dict[str, Any]:
        from ahd.sandbox import SandboxLimits

        from .child import WARMUP_SPEC

        # Candidates are compiled per child; the warm-up compiles the engine once per worker.
        limits = SandboxLimits(wall_time=config.sandbox_wall,
                               memory_bytes=int(config.memory_mb * (1 << 20)))
        return {"warmup": WARMUP_SPEC, "prewarm_numba": "basic", "limits": limits}

    def build(self, config: BinPackingConfig, pool: Any) -> Any:
        from .task import BinPackingTask

        return BinPackingTask(config, pool)  # reads the instance files: a bad one fails here

    def export_imports(self) -> Mapping[str, str]:
        return {}  # candidates use only np/numpy/math, which the core's exporter knows

    def export_usage(self, module: str, entry_points: Mapping[str, str]) -> list[str]:
        entry = entry_points.get("priority", "priority")
        return [f"from ahd_binpacking import load_priority, pack  # {module}.py defines {entry}",
                f"priority = load_priority('{module}.py')",
                "packing = pack(items, capacity, priority)  # packing.n_bins, .assignment"]

    def team_picture(self, store: Any, run: Any, team: Any, timeout: float) -> Any:
        return None

    def quick_settings(self, workdir: Path) -> dict[str, Any]:
        return {"n_items": 300, "n_train": 1, "n_validation": 2, "smoke_items": 50}


PLUGIN = BinPackingPlugin()

__all__ = ["FLAGS", "PLUGIN", "STRATEGIES", "BinPackingPlugin"]
