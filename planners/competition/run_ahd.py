"""``python -m ahd.planners.competition.run_ahd DOMAIN PROBLEM PLAN --heuristic H``.

The child process of an ``ahd:`` planner run. It calls :func:`ahd.planners.solve` with a
deadline the evaluator fixed *before* starting it, so interpreter start-up and imports count
against the time limit as they would for any other planner, writes the plan in IPC format and
prints one ``AHD-RESULT {json}`` line that the evaluator reads (exit code 0 when solved, 1
otherwise, 2 for unusable input).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .ahd_planner import AHD_RESULT_TAG


def _skip_blas_probe() -> None:
    """Load numba's array support with ``scipy.linalg`` hidden, so it skips its BLAS probe.

    When numba first loads its array support it imports ``scipy.linalg`` to see whether
    ``np.dot`` and ``np.linalg`` can compile: about 0.2 s, an eighth of a small task's run,
    for linear algebra that no search kernel uses. ``scipy.linalg`` is importable again
    afterwards (a user's heuristic may import it); only numba's flag stays off in this
    process.
    """
    if "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    sys.modules["scipy.linalg"] = None  # type: ignore[assignment]  # its import fails
    try:
        import numba.np.arraymath  # noqa: F401
    except Exception:  # noqa: BLE001 - another numba: it loads when it needs to
        pass
    finally:
        del sys.modules["scipy.linalg"]


def main(argv: list[str] | None = None) -> int:
    """Solve one task and report it; see the module documentation."""
    parser = argparse.ArgumentParser(prog="run_ahd", description=__doc__)
    parser.add_argument("domain")
    parser.add_argument("problem")
    parser.add_argument("plan")
    parser.add_argument("--heuristic", default="hff")
    parser.add_argument("--deadline", type=float, required=True,
                        help="wall-clock deadline as seconds since the epoch")
    parser.add_argument("--memory-mb", type=float, default=None)
    parser.add_argument("--lazy", action="store_true")
    parser.add_argument("--preferred", action="store_true")
    parser.add_argument("--landmarks", action="store_true")
    parser.add_argument("--search", default="gbfs", choices=("gbfs", "ehc"))
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)

    _skip_blas_probe()
    from ahd.planners import PlanningInputError, solve, write_plan

    def report(payload: dict) -> None:
        print(AHD_RESULT_TAG + json.dumps(payload), flush=True)

    remaining = args.deadline - time.time()
    if remaining <= 0:
        report({"status": "time_limit", "expanded": 0})
        return 1
    try:
        result = solve(args.domain, args.problem, heuristic=args.heuristic,
                       time_limit=remaining, memory_limit_mb=args.memory_mb, lazy=args.lazy,
                       preferred=args.preferred, landmarks=args.landmarks,
                       search=args.search, seed=args.seed)
    except PlanningInputError as exc:
        report({"status": "error", "error": str(exc), "expanded": 0})
        return 2
    if result.solved:
        write_plan(args.plan, result.plan or [], result.cost, unit_cost=result.unit_cost)
    report({"status": result.status, "expanded": result.expanded, "cost": result.cost,
            "error": result.error, "search_time": result.search_time,
            "ground_time": result.ground_time, "peak_rss_mb": result.peak_rss_mb})
    return 0 if result.solved else 1


if __name__ == "__main__":
    sys.exit(main())
