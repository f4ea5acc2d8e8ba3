"""Planning-competition-style evaluation: many planners, many tasks, one table.

Each (planner, task) pair runs as its own process under time and memory limits; every plan is
validated independently (unified-planning) before it counts; results go to a resumable SQLite
store as each run ends; the report gives coverage, IPC quality and agile scores per domain and
split (markdown, CSV) and a cactus plot. ``ahd plan-eval`` is the command line.

Modules: :mod:`.suite` (which tasks), :mod:`.planners_registry` (how to run ``ahd:``, ``fd:``,
``pyperplan:`` and ``cmd:`` planners), :mod:`.process` (limits, measuring),
:mod:`.execution` (run, then validate), :mod:`.runner` (local runs, resuming),
:mod:`.cluster_runner` and :mod:`.remote` (runs on dask workers, ``--scheduler``),
:mod:`.validator`, :mod:`.results` (the store), :mod:`.scores`, :mod:`.report`, and
:mod:`.evaluation`, which ties them together::

    from ahd.planners.competition import Limits, evaluate
    result = evaluate("suite/", ["ahd:hff", "fd:lama-first"], Limits(time=60, memory_mb=8192))
    print(result.report.markdown())
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the submodule defining it. The package imports them on first use (PEP 562):
#: each ``ahd:`` run is a process starting ``python -m ahd.planners.competition.run_ahd``,
#: which would otherwise pay for importing the evaluator, the store and the dask runner
#: (about 0.13 s of its clock) before its task.
_EXPORTS = {
    "EvaluationResult": "evaluation", "default_out_dir": "evaluation",
    "evaluate": "evaluation", "report_from_store": "evaluation", "Limits": "planners_registry",
    "Planner": "planners_registry", "PlannerSpecError": "planners_registry",
    "parse_planner": "planners_registry", "Report": "report", "STATUSES": "results",
    "ResultsError": "results", "ResultsStore": "results", "RunRecord": "results",
    "parse_memory": "runner", "agile_score": "scores", "quality_score": "scores",
    "score_runs": "scores", "summarize": "scores", "SuiteError": "suite", "Task": "suite",
    "discover": "suite", "reference_costs": "suite",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
