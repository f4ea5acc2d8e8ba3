"""The sandbox's value types: limits in, results out."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

GiB = 1 << 30
MiB = 1 << 20

#: Every status a :class:`SandboxResult` can carry.
STATUSES = (
    "ok",  # the function returned a value
    "error",  # it raised (error: type, message, candidate frames)
    "timeout",  # wall-clock deadline passed; its process group was killed
    "cpu_limit",  # RLIMIT_CPU fired (SIGXCPU, or SIGKILL at the hard limit)
    "memory",  # MemoryError, or a crash that reported a failed allocation
    "crashed",  # killed by a signal it raised itself (SIGSEGV, SIGABRT, ...) or worker died
    "killed",  # SIGKILL from outside the sandbox (e.g. the kernel's OOM killer)
    "output_limit",  # stdout/stderr reached the output cap
    "bad_result",  # return value unpicklable, too large, or naming a forbidden global
)


class SandboxUnavailable(RuntimeError):
    """No process isolation can be had here, and running unsandboxed was not allowed."""


class ClusterError(RuntimeError):
    """A dask cluster cannot be reached or used (the message is one line)."""


class ClusterLost(ClusterError):
    """The scheduler or every worker went away while requests were pending."""


@dataclass(frozen=True)
class SandboxLimits:
    """Per-request limits.

    ``memory_bytes`` is ``RLIMIT_AS``: the child's whole address space, which starts at the
    worker's (about 0.4-0.5 GiB with numba loaded); numba compilation needs at least 512 MiB more.
    ``cpu_time`` defaults to the wall time plus one second, so the wall deadline normally fires
    first and the CPU limit only catches what the wall clock cannot see (threads).
    ``output_bytes`` caps the file holding the child's stdout and stderr (``RLIMIT_FSIZE``, which
    caps every file the child writes); ``tmpfs_bytes`` caps its private working directory when the
    ``mountns`` layer is active; ``result_bytes`` caps the pickled return value.
    """

    wall_time: float = 60.0
    cpu_time: float | None = None
    memory_bytes: int = 2 * GiB
    output_bytes: int = 64 * MiB
    result_bytes: int = 64 * MiB
    tmpfs_bytes: int = 256 * MiB
    output_tail_bytes: int = 4096

    def __post_init__(self) -> None:
        if not (self.wall_time > 0 and math.isfinite(self.wall_time)):
            raise ValueError(f"wall_time must be positive seconds, not {self.wall_time}")
        if self.cpu_time is not None and not (self.cpu_time > 0 and math.isfinite(self.cpu_time)):
            raise ValueError(f"cpu_time must be positive or None, not {self.cpu_time}")
        if self.memory_bytes < 64 * MiB:
            raise ValueError(f"memory_bytes={self.memory_bytes} is below 64 MiB")
        for name in ("output_bytes", "result_bytes", "tmpfs_bytes", "output_tail_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")

    @property
    def cpu_seconds(self) -> int:
        """The soft ``RLIMIT_CPU`` in whole seconds."""
        cpu = self.wall_time + 1.0 if self.cpu_time is None else self.cpu_time
        return max(1, math.ceil(cpu))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SandboxResult:
    """What one sandboxed call came to.

    ``value`` is the return value for ``status == "ok"`` (else ``None``); ``error`` is a short text
    (exception type and message plus the candidate's own frames, or why the child stopped);
    ``signal`` the name of the signal that ended the child (``"SIGSEGV"``), if any; ``wall_time``
    and ``cpu_time`` in seconds; ``max_rss`` the child's peak resident set in bytes (it counts the
    worker pages it inherited and touched); ``output_tail`` the last few KB of its stdout+stderr;
    ``layers`` the isolation layers that were active for it.
    """

    status: str
    value: Any = None
    error: str = ""
    signal: str | None = None
    wall_time: float = 0.0
    cpu_time: float = 0.0
    max_rss: int = 0
    output_tail: str = ""
    layers: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"
