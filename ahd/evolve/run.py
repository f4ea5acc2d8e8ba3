"""One evolution run for any registered problem: settings, store, sandbox, proposer, summary.

``ahd evolve`` and scripts call :func:`run_evolution` with a :class:`RunPlan`; it knows no
problem by name. The plugin (:class:`~ahd.plugins.TaskPlugin`) builds the task and says how the
sandbox warms up; the task says how to describe and export what the run found. Settings are
stored with the run, so ``--resume RUN_DIR`` rebuilds the same config from the store alone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ahd.files import write_atomic
from ahd.llm import LLMBudget, LLMConfigError, Usage
from ahd.plugins import TaskPlugin, proposers
from ahd.proposers.llm import LLMProposer
from ahd.sandbox import ClusterError, ClusterLost, SandboxPool
from ahd.settings import to_settings
from ahd.store import Store

from .budget import Budget, StopRule
from .loop import Evolution, EvolveConfig, EvolveResult, paired_gain
from .task import RunSummary, Task

SUMMARY_FILE = "summary.json"


class RunError(ValueError):
    """Input a user must fix (the message is one line)."""


@dataclass
class RunPlan:
    """Everything a run needs, decided before any worker starts."""

    plugin: TaskPlugin
    task_config: Any
    config: EvolveConfig
    budget: Budget
    run_dir: Path
    jobs: int = 2
    proposer: str = "offline"
    #: Proposer options: ``model``, ``api_base``, ``api_key_env``, ``replay``, ``concurrency``,
    #: ``cache_dir``.
    llm: dict[str, Any] = field(default_factory=dict)
    resuming: bool = False
    #: A dask scheduler address or ``local:N``: every sandboxed evaluation runs on that
    #: cluster (``jobs`` is then unused). Not a setting of the run: a resume may use another.
    scheduler: str | None = None

    def settings(self) -> dict[str, Any]:
        """What the store keeps of this run (and :func:`plan_from_settings` reads back)."""
        return {
            "task": to_settings(self.task_config), "evolve": to_settings(self.config),
            "budget": to_settings(self.budget), "model": self.llm.get("model"),
            "api_base": self.llm.get("api_base"), "api_key_env": self.llm.get("api_key_env"),
            "proposer": self.proposer,
        }


def verdict(seed: Mapping[str, float] | None, other: Mapping[str, float] | None
            ) -> tuple[str, dict[str, float]]:
    """The paired comparison of a winner with the seeds, as text and summary fields."""
    paired = paired_gain(dict(seed or {}), dict(other or {}))
    if paired is None:
        return "", {}
    gain, se, n = paired
    sure = ("better beyond noise" if gain > 2 * se else "worse beyond noise"
            if gain < -2 * se else "within noise: not a finding")
    text = f" ({gain:+.2f}% vs seeds, standard error {se:.2f}% over {n} instances: {sure})"
    return text, {"validation_gain_pct": gain, "validation_gain_se_pct": se}


class CallLog:
    """LLM call records from the proposer's threads, written to the store by the loop's
    thread (a SQLite connection belongs to one thread) whenever usage is read."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []

    def __call__(self, record: Any) -> None:
        with self._lock:
            self._pending.append(record.store_fields())

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for fields in pending:
            self.store.record_llm_call(**fields)

    def usage(self) -> dict[str, float]:
        self.flush()
        return self.store.llm_totals(self.store.run.id)


def llm_budget(plan: RunPlan, store: Store) -> LLMBudget | None:
    """The run's hard caps on LLM calls, tokens and cost (``None`` without a model).

    Every request reserves from it before it is sent, whatever the concurrency; a resumed
    run starts from what the store says was spent (cached answers cost nothing).
    """
    if plan.llm.get("model") is None:
        return None
    spent = Usage()
    if plan.resuming:
        t = store.llm_totals(store.run.id)
        spent = Usage(calls=int(t["calls"] - t["cached"]),
                      tokens=int(t["prompt_tokens"] + t["completion_tokens"]),
                      cost=float(t["cost"]))
    b = plan.budget
    return LLMBudget(b.max_calls, b.max_tokens, b.max_cost, spent=spent)


def make_proposer(plan: RunPlan, task: Task, store: Store,
                  budget: LLMBudget | None = None) -> tuple[Any, CallLog]:
    """The proposer named by the plan, and the log of its LLM calls.

    Raises :class:`~ahd.llm.LLMConfigError` (a ``ValueError``) for a model that cannot be
    routed or a key variable that is unset: before the run is created.
    """
    known = proposers()
    if plan.proposer not in known:
        raise RunError(f"unknown proposer {plan.proposer!r}; registered: "
                       f"{', '.join(sorted(known))}")
    log = CallLog(store)
    options = {**plan.llm, "on_call": log, "budget": budget}
    return known[plan.proposer](task, options), log


def members_table(store: Store, result: EvolveResult, title: str) -> Any:
    """A rich table of the winner's members with their training objective."""
    from rich.table import Table

    table = Table(title=title)
    for col in ("role", "id", "strategy", "parents", "objective (train)"):
        table.add_column(col)
    if result.winner is not None:
        for role, ids in result.winner.members.items():
            for cid in ids:
                cand = store.get_candidate(cid)
                score = store.scores(cid).get("train")
                value = None if score is None else score.mean_objective
                table.add_row(role, str(cid), cand.origin.strategy or cand.origin.proposer,
                              ",".join(map(str, cand.parents)) or "-",
                              "-" if value is None else f"{value:.6g}")
    return table


def write_summary(run_dir: Path, fields: Mapping[str, Any]) -> Path:
    """``summary.json``, written atomically (a reader never sees half a file)."""
    return write_atomic(run_dir / SUMMARY_FILE, json.dumps(fields, indent=2))


@dataclass
class RunOutcome:
    """A finished run: the loop's result, the task's summary, and the winner's members table."""

    result: EvolveResult
    summary: RunSummary
    table: Any


def run_evolution(plan: RunPlan, echo: Callable[[str], None]) -> RunOutcome:
    """Run (or resume) the plan to its stop; store, summarise, export.

    The task is built (and its input checked) before the store is opened, so input the user
    must fix (``ValueError`` from the plugin's build) leaves no store behind. A
    ``KeyboardInterrupt`` marks the run interrupted and propagates.
    """
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    pool = _start_pool(plan, echo)
    try:
        task = plan.plugin.build(plan.task_config, pool)
        echo(f"sandbox layers: {', '.join(sorted(pool.active_layers)) or 'none'}")
        with Store.in_run_dir(plan.run_dir) as store:
            return _run(plan, task, pool, store, echo)
    finally:
        pool.close()


def _start_pool(plan: RunPlan, echo: Callable[[str], None]) -> Any:
    """The local sandbox pool, or a :class:`~ahd.sandbox.cluster.ClusterPool` for
    ``plan.scheduler`` (imported only then: dask is slow to import)."""
    options = plan.plugin.sandbox_options(plan.task_config, plan.run_dir)
    if plan.scheduler is None:
        echo(f"starting {plan.jobs} sandbox worker(s) (numba compiles on first use)...")
        return SandboxPool(plan.jobs, **options)
    from ahd.sandbox.cluster import ClusterPool

    echo(f"connecting to dask scheduler {plan.scheduler} (workers start their sandboxes)...")
    try:
        pool = ClusterPool(plan.scheduler, **options)
    except ClusterError as exc:
        raise RunError(str(exc)) from None
    echo(f"dask cluster: {pool.n_workers} sandbox worker(s)")
    return pool


def _run(plan: RunPlan, task: Task, pool: Any, store: Store,
         echo: Callable[[str], None]) -> RunOutcome:
    if plan.resuming:
        store.open_run()
    budget = llm_budget(plan, store)
    proposer, calls = make_proposer(plan, task, store, budget)
    if not plan.resuming:
        store.create_run(task.problem, plan.settings(), seed=plan.config.seed,
                         sandbox=sorted(pool.active_layers))
    usage = None if plan.llm.get("model") is None else calls.usage
    rule = StopRule(plan.budget)
    stop = rule if budget is None else (lambda spent: rule(spent) or budget.exhausted)
    evolution = Evolution(task, proposer, store, plan.run_dir, plan.config, stop, echo,
                          usage, threads=int(plan.llm.get("concurrency") or 4))
    try:
        result = evolution.run()
    except KeyboardInterrupt:
        calls.flush()
        store.set_run_status("interrupted")
        raise
    except ClusterLost as exc:
        calls.flush()
        store.set_run_status("interrupted")
        raise RunError(f"{exc}; the run is saved, continue it with: ahd evolve --resume "
                       f"{plan.run_dir}") from None
    except LLMConfigError:
        calls.flush()
        store.set_run_status("failed")
        raise
    calls.flush()
    stats = proposer.stats if isinstance(proposer, LLMProposer) else None
    if stats is not None and stats.all_failed:
        store.set_run_status("failed")
        raise RunError(f"every LLM request failed ({stats.failed} of {stats.calls}); the last: "
                       f"{stats.last_error}")
    summary = task.summarise(result, store, plan.run_dir)
    store.set_run_status("finished")
    fields = {"seed_train": result.seed_train, "seed_validation": result.seed_validation,
              "failures": result.failures, "stop": result.stop_reason, **summary.fields}
    if summary.exported is not None:
        fields["exported"] = str(summary.exported)
    write_summary(plan.run_dir, fields)
    return RunOutcome(result, summary, members_table(store, result, f"winner ({task.problem})"))
