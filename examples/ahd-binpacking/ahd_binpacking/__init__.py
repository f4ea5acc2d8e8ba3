"""Online 1D bin packing for ``ahd``: instances, a compiled engine, trusted scoring, a task.

Import what you need from here; the plugin (``ahd_binpacking.plugin:PLUGIN``) is what
``ahd evolve --problem binpacking`` uses. Importing this package does not import numba;
compiling or packing does.
"""

from .config import BinPackingConfig
from .engine import (
    CompiledPriority,
    Packing,
    PriorityCompileError,
    PriorityError,
    compile_priority,
    pack,
    pack_reference,
)
from .export import export_priority, load_priority
from .instances import (
    Instance,
    orlib_uniform,
    smoke_instance,
    training_set,
    uniform_instance,
    weibull_5k,
    weibull_instance,
)
from .orlib import read_orlib, write_orlib
from .seeds import BEST_FIT_SOURCE, FIRST_FIT_SOURCE
from .verify import InvalidAssignment, excess_percent, verify_assignment

__all__ = [
    "BEST_FIT_SOURCE", "BinPackingConfig", "CompiledPriority", "FIRST_FIT_SOURCE", "Instance",
    "InvalidAssignment", "Packing", "PriorityCompileError", "PriorityError", "compile_priority",
    "excess_percent", "export_priority", "load_priority", "orlib_uniform", "pack",
    "pack_reference", "read_orlib", "smoke_instance", "training_set", "uniform_instance",
    "verify_assignment", "weibull_5k", "weibull_instance", "write_orlib",
]
