"""Run untrusted candidate code in killable, locked-down children of warm worker processes.

- :func:`probe_layers`: which isolation layers this host allows.
- :class:`SandboxPool`: warm fork-server workers; ``submit``/``run``/``map`` function specs.
- :func:`evaluate_many`: the same, fanned out locally or over a dask cluster.
"""

from ahd.sandbox.fanout import evaluate_many, shared_pool, shutdown_pools
from ahd.sandbox.pool import SandboxPool, decide_mode
from ahd.sandbox.probe import active_layers, probe_layers
from ahd.sandbox.records import (
    STATUSES,
    ClusterError,
    ClusterLost,
    SandboxLimits,
    SandboxResult,
    SandboxUnavailable,
)

__all__ = [
    "STATUSES",
    "ClusterError",
    "ClusterLost",
    "SandboxLimits",
    "SandboxPool",
    "SandboxResult",
    "SandboxUnavailable",
    "active_layers",
    "decide_mode",
    "evaluate_many",
    "probe_layers",
    "shared_pool",
    "shutdown_pools",
]
