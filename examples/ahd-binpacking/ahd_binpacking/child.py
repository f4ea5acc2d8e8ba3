"""Sandbox child side: compile a candidate, pack the instances it is sent, return bins only.

These functions run inside sandbox children (:func:`run_priority`) and workers
(:func:`warm_worker`). They return plain data: per instance, the bin of every item or an
error text, never a score; the parent checks and scores it (:mod:`ahd_binpacking.verify`).
One request covers several instances so that the candidate is compiled once per request
(compilation, 0.3-1 s, costs far more than packing a few thousand items).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

#: The child's entry point and the worker warm-up, as sandbox function specs.
CHILD_SPEC = "ahd_binpacking.child:run_priority"
WARMUP_SPEC = "ahd_binpacking.child:warm_worker"


def warm_worker() -> None:
    """Compile the packing loop and a seed once per worker, before any child forks.

    Children inherit the compiled loop and numba's compiled helpers (``asarray``,
    ``ravel``, array arithmetic), so a candidate costs only its own compilation.
    """
    from .engine import compile_priority, engine, pack
    from .instances import smoke_instance
    from .seeds import SEEDS

    engine()
    inst = smoke_instance(50)
    for source in SEEDS.values():
        pack(inst.items, inst.capacity, compile_priority(source))


def run_priority(request: dict) -> dict:
    """Child side: compile ``request["source"]`` and pack each of ``request["instances"]``.

    ``request``: ``source`` (str), ``instances`` (list of ``(items, capacity)``),
    ``offer_new_bin`` (bool). Returns ``{"status", "error", "results", "compile_seconds"}``
    with ``results`` a list of ``(assignment or None, error text)``, one per instance.
    """
    from .engine import PriorityCompileError, PriorityError, compile_priority, pack

    t0 = time.perf_counter()
    try:
        compiled = compile_priority(request["source"])
    except PriorityCompileError as exc:
        return {"status": "invalid", "error": str(exc), "results": [],
                "compile_seconds": time.perf_counter() - t0}
    except Exception as exc:  # the module's own top-level code failed  # noqa: BLE001
        return {"status": "invalid", "error": f"loading the module raised "
                f"{type(exc).__name__}: {exc}", "results": [],
                "compile_seconds": time.perf_counter() - t0}
    seconds = time.perf_counter() - t0
    results: list[tuple[Any, str]] = []
    for items, capacity in request["instances"]:
        try:
            packing = pack(items, capacity, compiled, bool(request["offer_new_bin"]))
            results.append((np.asarray(packing.assignment, dtype=np.int64), ""))
        except PriorityError as exc:
            results.append((None, str(exc)))
        except Exception as exc:  # raised inside priority  # noqa: BLE001
            results.append((None, f"priority raised {type(exc).__name__}: {exc}"))
    return {"status": "ok", "error": "", "results": results, "compile_seconds": seconds}


__all__ = ["CHILD_SPEC", "WARMUP_SPEC", "run_priority", "warm_worker"]
