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
:mod:`.evaluate`, which ties them together::

    from ahd.planners.competition import Limits, evaluate
    result = evaluate("suite/", ["ahd:hff", "fd:lama-first"], Limits(time=60, memory_mb=8192))
    print(result.report.markdown())
"""

from .evaluate import EvaluationResult, default_out_dir, evaluate, report_from_store
from .planners_registry import Limits, Planner, PlannerSpecError, parse_planner
from .report import Report
from .results import STATUSES, ResultsError, ResultsStore, RunRecord
from .runner import parse_memory
from .scores import agile_score, quality_score, score_runs, summarize
from .suite import SuiteError, Task, discover, reference_costs

__all__ = [
    "STATUSES", "EvaluationResult", "Limits", "Planner", "PlannerSpecError", "Report",
    "ResultsError", "ResultsStore", "RunRecord", "SuiteError", "Task", "agile_score",
    "default_out_dir", "discover", "evaluate", "parse_memory", "parse_planner",
    "quality_score", "reference_costs", "report_from_store", "score_runs", "summarize",
]
