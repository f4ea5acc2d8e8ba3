"""One evolution run for any registered problem: settings, store, sandbox, proposer, summary.

``ahd evolve`` and scripts call :func:`run_evolution` with a :class:`RunPlan`; it knows no
problem by name. The plugin (:class:`~ahd.plugins.TaskPlugin`) builds the task and says how the
sandbox warms up; the task says how to describe and export what the run found. Settings are
stored with the run, so ``--resume RUN_DIR`` rebuilds the same config from the store alone.

Stopping. A run that stops for any reason other than a kill says why in the store: the
``runs`` row gets status ``finished`` (its budget), ``interrupted`` (Ctrl-C, a full disk, a
read-only directory, a permission error, a lost dask scheduler) or ``failed`` (an LLM
configuration error, every LLM request failed, a defect), and a ``stop_reason``. The reason is
kept in the store rather than in ``state.json`` because the file the run could not write is
often the state itself, and the store is what the viewers read; where the store itself cannot
be written, the command's one line says so. A fault raises :class:`RunStopped`, whose one line
names the fault and the resume command; the rounds saved before it are kept, and ``--resume``
redoes the round in progress, which stores the same rows again (the store skips what it
already holds), so nothing is lost or duplicated.
"""

from __future__ import annotations

import errno
import json
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ahd.files import write_atomic
from ahd.interrupts import what
from ahd.llm import LLMBudget, LLMConfigError, Usage
from ahd.llm.errors import unpriced_cap
from ahd.memory import tune_allocator
from ahd.plugins import TaskPlugin, proposers
from ahd.proposers.llm import LLMProposer
from ahd.sandbox import ClusterError, ClusterLost, SandboxPool, SandboxUnavailable
from ahd.settings import to_settings
from ahd.store import Store, StoreError

from .budget import Budget, StopRule
from .loop import Evolution, EvolveConfig, EvolveResult, paired_gain
from .resume import ResumeError, check_resume
from .task import RunSummary, Task

SUMMARY_FILE = "summary.json"
#: A file of zeros the run keeps in its directory while it runs and deletes when it stops, so
#: that a full disk still leaves room to record why the run stopped (a status update appends
#: a few pages to the store's write-ahead log).
STOP_RESERVE = ".ahd-stop-reserve"
STOP_RESERVE_BYTES = 256 * 1024


class RunError(ValueError):
    """Input a user must fix (the message is one line)."""


class RunStopped(RunError):
    """A run stopped by a fault (a full disk, a read-only directory, a lost cluster, a
    configuration error): the message is one line that names it and the resume command."""


#: What an ``OSError`` means for a run that must write its directory, by ``errno``.
WRITE_FAULTS = {
    errno.ENOSPC: "disk full", errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
    errno.EPERM: "permission denied", errno.EFBIG: "file too large",
}


def write_fault(exc: BaseException) -> str | None:
    """One line naming a fault that keeps the run from writing its files or its store
    (``None`` for any other exception).

    ``state.json`` and the exports fail with an ``OSError``; SQLite reports the same causes
    as ``sqlite3.OperationalError`` ("database or disk is full", "attempt to write a
    readonly database", "disk I/O error", "unable to open database file").
    """
    if isinstance(exc, OSError):
        what = WRITE_FAULTS.get(exc.errno or 0, "cannot write")
        where = f" writing {exc.filename}" if exc.filename else ""
        return f"{what}{where} ({exc.strerror or exc})"
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc)
        what = ("disk full" if "full" in text else "read-only store" if "readonly" in text
                else "store not writable")
        return f"{what}: the store could not be written ({text})"
    return None


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
    #: Proposer options: ``model``, ``api_base``, ``api_key_env``, ``price``, ``replay``,
    #: ``concurrency``, ``cache_dir``.
    llm: dict[str, Any] = field(default_factory=dict)
    resuming: bool = False
    #: A dask scheduler address or ``local:N``: every sandboxed evaluation runs on that
    #: cluster (``jobs`` is then unused). Not a setting of the run: a resume may use another.
    scheduler: str | None = None
    #: The run directory already passed :func:`check_resume` (the command line checks it
    #: before it reads the stored settings); else :func:`run_evolution` checks it.
    checked: bool = False

    def settings(self) -> dict[str, Any]:
        """What the store keeps of this run (and :func:`plan_from_settings` reads back)."""
        return {
            "task": to_settings(self.task_config), "evolve": to_settings(self.config),
            "budget": to_settings(self.budget), "model": self.llm.get("model"),
            "api_base": self.llm.get("api_base"), "api_key_env": self.llm.get("api_key_env"),
            "price": self.llm.get("price"), "proposer": self.proposer,
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

    A resumed run directory is checked (:func:`~ahd.evolve.resume.check_resume`) before any
    worker starts. The task is built (and its input checked) before the store is opened, so
    input the user must fix (``ValueError`` from the plugin's build) leaves no store behind.
    A run that stops before its budget records why in the store (status ``interrupted`` or
    ``failed`` and a stop reason) where the store can still be written: a
    ``KeyboardInterrupt`` propagates, a fault raises :class:`RunStopped`.
    """
    tune_allocator()  # before any thread starts: a long run's memory stays flat
    if plan.resuming and not plan.checked:
        try:
            check_resume(plan.run_dir)
        except ResumeError as exc:
            raise RunError(str(exc)) from None
    model = plan.llm.get("model")
    if model is not None and not plan.llm.get("replay"):  # a cap that cannot bind: say so now
        unpriced = unpriced_cap(model, plan.llm.get("price"), plan.budget.max_cost)
        if unpriced is not None:
            raise RunError(str(unpriced))
    resume = f"ahd evolve --resume {plan.run_dir}"
    reserve = plan.run_dir / STOP_RESERVE
    try:
        plan.run_dir.mkdir(parents=True, exist_ok=True)
        with reserve.open("wb") as handle:  # a disk already full is found before the workers
            handle.write(bytes(STOP_RESERVE_BYTES))
        pool = _start_pool(plan, echo)
    except (OSError, SandboxUnavailable) as exc:
        drop_reserve(plan.run_dir)
        then = f"; continue it with: {resume}" if plan.resuming else ""
        fault = write_fault(exc) or str(exc)
        raise RunStopped(f"{fault}; nothing was started{then}") from None
    try:
        task = plan.plugin.build(plan.task_config, pool)
        echo(f"sandbox layers: {', '.join(sorted(pool.active_layers)) or 'none'}")
        try:
            store = Store.in_run_dir(plan.run_dir)
        except StoreError as exc:
            then = f"continue it with: {resume}" if plan.resuming else "start it again"
            raise RunStopped(f"cannot write the store ({str(exc).splitlines()[0]}); make "
                             f"{plan.run_dir} writable, then {then}") from None
        with store:
            return _run(plan, task, pool, store, echo)
    finally:
        drop_reserve(plan.run_dir)
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


def drop_reserve(run_dir: Path) -> None:
    """Delete the stop reserve (:data:`STOP_RESERVE`), if there is one and it can be."""
    try:
        (run_dir / STOP_RESERVE).unlink(missing_ok=True)
    except OSError:  # a read-only directory refuses even to look
        pass


def record_stop(store: Store, status: str, reason: str) -> bool:
    """Mark the run ``status`` with ``reason``; ``False`` when the store cannot be written
    (the fault that stopped the run may be the store's own). The stop reserve is deleted
    first: on a full disk, its room is what the update is written to."""
    drop_reserve(store.path.parent)
    try:
        store.set_run_status(status, reason=reason)
    except (StoreError, sqlite3.Error, OSError):
        return False
    return True


def _stopped(plan: RunPlan, store: Store, evolution: Evolution | None, status: str,
             fault: str, calls: CallLog | None) -> RunStopped:
    """Record a fault (where the store can be written) and the one line that reports it."""
    if store.run is None:  # before the run was created: nothing to resume
        return RunStopped(fault)
    if calls is not None:
        try:
            calls.flush()
        except (StoreError, sqlite3.Error, OSError):
            pass
    where = "" if evolution is None else f" in round {evolution.round}"
    kept = ("" if record_stop(store, status, f"{fault}{where}")
            else " (the store could not record it)")
    return RunStopped(f"{fault}; the run stopped{where}{kept}, its finished rounds are saved; "
                      f"fix it, then continue with: ahd evolve --resume {plan.run_dir}")


def _run(plan: RunPlan, task: Task, pool: Any, store: Store,
         echo: Callable[[str], None]) -> RunOutcome:
    evolution: Evolution | None = None
    calls: CallLog | None = None
    try:
        if plan.resuming:
            store.open_run()
            store.set_run_status("running")  # the first write: a read-only store stops here
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
        result = evolution.run()
        calls.flush()
        stats = proposer.stats if isinstance(proposer, LLMProposer) else None
        if stats is not None and stats.all_failed:
            raise RunStopped(f"every LLM request failed ({stats.failed} of {stats.calls}); "
                             f"the last: {stats.last_error}")
        summary = task.summarise(result, store, plan.run_dir)
        fields = {"seed_train": result.seed_train, "seed_validation": result.seed_validation,
                  "failures": result.failures, "stop": result.stop_reason, **summary.fields}
        if summary.exported is not None:
            fields["exported"] = str(summary.exported)
        write_summary(plan.run_dir, fields)
        store.set_run_status("finished", reason=result.stop_reason)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM through ahd.interrupts
        where = "" if evolution is None else f" in round {evolution.round}"
        if calls is not None:
            calls.flush()
        record_stop(store, "interrupted", f"interrupted ({what(exc)}){where}")
        raise
    except ClusterLost as exc:
        raise _stopped(plan, store, evolution, "interrupted", str(exc), calls) from None
    except (LLMConfigError, RunStopped) as exc:
        raise _stopped(plan, store, evolution, "failed", str(exc), calls) from None
    except (OSError, sqlite3.OperationalError) as exc:
        raise _stopped(plan, store, evolution, "interrupted", write_fault(exc) or str(exc),
                       calls) from None
    except ValueError as exc:  # input or state the user must fix (one line)
        raise _stopped(plan, store, evolution, "failed", str(exc).splitlines()[0],
                       calls) from None
    except Exception as exc:  # a defect: recorded, and raised with its traceback
        record_stop(store, "failed", f"{type(exc).__name__}: {exc}"[:500])
        raise
    return RunOutcome(result, summary, members_table(store, result, f"winner ({task.problem})"))
