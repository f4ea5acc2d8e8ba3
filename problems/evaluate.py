"""The trusted evaluation path of routing candidates: sandboxed LNS runs, scored by the parent.

Trust boundary
--------------
A candidate's code runs only in a sandbox child, in
:func:`ahd.problems.child.run_candidate_lns`.
Everything that child sends back is treated as hostile: it may have patched the engine, the
verifier, or this very module before the result was packed. So the child returns *routes and
diagnostics only*, never a cost, and the parent (this process)

1. checks the returned structure strictly (:func:`~ahd.problems.checks.validate_child_output`);
2. re-verifies the routes with :func:`ahd.problems.verify.verify` against its *own* copy of the
   instance (the one it built, never one that came back), and
3. takes the objective from that verification and nothing else.

:func:`evaluate_candidates` returns one :class:`EvaluationRecord` per request;
:func:`iter_evaluations` yields them as they finish; :func:`evaluate_and_store` evaluates what a
store still lacks and commits every finished batch at once, so a killed run loses only the
evaluations in flight. Error texts are clipped and redacted (:mod:`ahd.trust`).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ahd.candidate import Candidate
from ahd.sandbox.records import SandboxLimits, SandboxResult
from ahd.store import Store, evaluation_context, pending_work
from ahd.trust import InvalidOutput, clip, record_status, redact, secret_values

from .checks import (
    check_source,
    contract_messages,
    default_allowed_names,
    validate_child_output,
)
from .child import FRAMES_HEADER, code_file, may_compile, run_candidate_lns, warm_engine
from .engine.config import LNSConfig
from .instance import RoutingInstance
from .requests import (
    GENERATORS,
    ROUTING_ROLES,
    CandidateError,
    EvaluationRecord,
    InstanceSpec,
    RoutingEvaluation,
    SourceOperator,
    as_pool,
)
from .verify import InfeasibleSolution, verify

#: The child's entry point and the worker warm-up that compiles the engine once per worker.
CHILD_SPEC = run_candidate_lns
WARMUP_SPEC = warm_engine
__all__ = [
    "CHILD_SPEC", "GENERATORS", "WARMUP_SPEC", "CandidateError", "EvaluationRecord",
    "InstanceSpec", "InvalidOutput", "RoutingEvaluation", "SourceOperator", "check_source",
    "code_file", "contract_messages", "default_allowed_names", "evaluate_and_store",
    "evaluate_candidates", "iter_batches", "iter_evaluations", "prepare", "record_from_result",
    "redact", "run_candidate_lns", "unwrap_error", "validate_child_output", "warm_engine",
]
#: How a :class:`CandidateError` raised in the child reads in the sandbox's error text.
WRAPPER = f"{CandidateError.__module__}.{CandidateError.__qualname__}: "

@dataclass
class Prepared:
    """A request made ready to send: the child's plain request, what to check, what to expect."""

    instance: RoutingInstance
    payload: dict[str, Any]
    labels: dict[str, list[str]]
    sources: dict[str, dict[str, str]]  # source -> role -> entry


def _unique(label: str, taken: set[str]) -> str:
    out, i = label, 2
    while out in taken:
        out, i = f"{label}#{i}", i + 1
    taken.add(out)
    return out


def prepare(request: RoutingEvaluation, built: dict[InstanceSpec, RoutingInstance]) -> Prepared:
    from ahd.problems.operators.registry import DEFAULT_POOLS, REGISTRIES

    if isinstance(request.instance, InstanceSpec):
        spec = request.instance
        if spec not in built:
            built[spec] = spec.build()
        instance = built[spec]
        sent: Any = spec.to_dict()
    else:
        instance = sent = request.instance
    problem = instance.kind
    operators: dict[str, list[dict[str, str]]] = {}
    labels: dict[str, list[str]] = {}
    sources: dict[str, dict[str, str]] = {}
    for role in ROUTING_ROLES:
        pool = getattr(request, role)
        if pool is None:
            pool = tuple(DEFAULT_POOLS[problem].get(role, ()))
        taken: set[str] = set()
        ops, names = [], []
        for op in pool:
            if isinstance(op, str):
                if op not in REGISTRIES[role]:
                    raise ValueError(
                        f"unknown {role} operator {op!r}; known: {sorted(REGISTRIES[role])}"
                    )
                if op in taken:
                    raise ValueError(f"{role} operator {op!r} named twice")
                taken.add(op)
                ops.append({"registry": op})
                names.append(op)
                continue
            if isinstance(op, Candidate):
                entry = op.entry_points[role]
                code = op.source
                label = f"candidate{op.id}" if op.id is not None else entry
            else:
                entry = op.entry or role
                code = op.source
                label = op.name or entry
            label = _unique(label, taken)
            ops.append({"source": code, "entry": entry, "name": label})
            names.append(label)
            entries = sources.setdefault(code, {})
            if entries.get(role, entry) != entry:
                raise ValueError(f"one source fills the {role} role with two entry points")
            entries[role] = entry
        if role in ("destroy", "repair") and not ops:
            raise ValueError(f"the {role} pool is empty")
        operators[role] = ops
        labels[role] = names
    config = dataclasses.asdict(request.effective_config())
    config["scores"] = list(config["scores"])
    payload = {"instance": sent, "config": config, "operators": operators}
    return Prepared(instance, payload, labels, sources)


def unwrap_error(text: str) -> tuple[str, str]:
    """``(kind, message)`` from a sandbox error; unwraps :class:`CandidateError`."""
    if not text.startswith(WRAPPER):
        return "error", text
    body = text[len(WRAPPER):]
    cut = body.rfind(FRAMES_HEADER)
    if cut >= 0 and "child.py" in body[cut:]:
        body = body[:cut]  # the sandbox's frames of this module, not the candidate's
    kind, sep, message = body.partition("|")
    if not sep or kind not in ("error", "infeasible"):
        return "error", body
    return kind, message


def record_from_result(prepared: Prepared, result: SandboxResult) -> EvaluationRecord:
    """Turn a sandbox result into a record: validate, re-verify, score (trusted side)."""
    secrets = secret_values()
    metrics: dict[str, Any] = {
        "sandbox_status": result.status,
        "cpu_time": float(result.cpu_time),
        "max_rss": int(result.max_rss),
    }
    name = prepared.instance.name
    wall = float(result.wall_time)
    if result.signal:
        metrics["signal"] = result.signal

    def failed(status: str, error: str) -> EvaluationRecord:
        return EvaluationRecord(name, status, None, wall, redact(clip(error), secrets), metrics)

    if result.status == "error":
        kind, message = unwrap_error(result.error or "")
        return failed("infeasible" if kind == "infeasible" else "error", message)
    if result.status != "ok":
        status = record_status(result.status)
        error = result.error or result.status
        if result.status == "crashed" and result.signal and result.signal not in error:
            error = f"{error} ({result.signal})"
        return failed(status, error)
    try:
        routes, found = validate_child_output(result.value, prepared.labels)
    except InvalidOutput as exc:
        return failed("invalid", f"invalid result from the sandbox: {exc}")
    metrics.update(redact(found, secrets))
    try:
        objective = verify(prepared.instance, routes)
    except InfeasibleSolution as exc:
        return failed("infeasible", f"InfeasibleSolution: {exc}")
    return EvaluationRecord(name, "ok", float(objective), wall, None, metrics, routes)


def _static_record(prepared: Prepared, messages: list[str], seconds: float) -> EvaluationRecord:
    text = "\n".join(messages)
    return EvaluationRecord(
        prepared.instance.name, "static", None, seconds, redact(clip(text)),
        {"static_messages": len(messages)},
    )


def iter_batches(
    requests: Sequence[RoutingEvaluation],
    pool: Any = None,
    *,
    backend: str = "local",
    scheduler: Any = None,
    n_jobs: int | None = None,
    limits: SandboxLimits | None = None,
    check_static: bool = True,
    allowed_names: Iterable[str] | None = None,
    dask_chunk: int = 16,
    **pool_options: Any,
) -> Iterator[list[tuple[int, EvaluationRecord]]]:
    """Yield lists of ``(index, record)``: the records that became known together.

    The first list holds the statically rejected requests (they never reach the sandbox); then
    each list holds the sandboxed results that finished since the last one. Local backend:
    ``pool`` (a :class:`~ahd.sandbox.SandboxPool`, ideally started with
    ``warmup=WARMUP_SPEC``) or this process's shared pool for ``n_jobs`` workers and
    ``pool_options`` (``warmup`` defaults to :data:`WARMUP_SPEC`). Dask backend: requests go
    out in chunks of ``dask_chunk`` through :func:`ahd.sandbox.evaluate_many`, one list per
    chunk. ``limits`` apply to every request (default: the pool's). ``check_static=False``
    skips the static checks (trusted code, or tests of the parent-side checks);
    ``allowed_names`` overrides :func:`default_allowed_names`.
    """
    requests = list(requests)
    for i, req in enumerate(requests):
        if not isinstance(req, RoutingEvaluation):
            raise TypeError(f"request {i} is a {type(req).__name__}, not a RoutingEvaluation")
    if backend not in ("local", "dask"):
        raise ValueError(f"backend must be 'local' or 'dask', not {backend!r}")
    if backend == "dask" and pool is not None:
        raise ValueError("pool= is for the local backend")
    built: dict[InstanceSpec, RoutingInstance] = {}
    prepared = [prepare(req, built) for req in requests]
    names = None if allowed_names is None else frozenset(allowed_names)
    checked: dict[tuple, list[str]] = {}
    runnable: list[int] = []
    rejected: list[tuple[int, EvaluationRecord]] = []
    for i, prep in enumerate(prepared):
        problems: list[str] = []
        t0 = time.perf_counter()
        if check_static:
            for code, entries in prep.sources.items():
                key = (code, tuple(sorted(entries.items())))
                if key not in checked:
                    checked[key] = check_source(code, entries, names)
                problems.extend(checked[key])
        if problems:
            rejected.append((i, _static_record(prep, problems, time.perf_counter() - t0)))
        else:
            runnable.append(i)
    if rejected:
        yield rejected
    if not runnable:
        return
    if backend == "dask":
        from ahd.sandbox import evaluate_many

        pool_options.setdefault("warmup", WARMUP_SPEC)
        step = max(1, dask_chunk)
        for start in range(0, len(runnable), step):
            chunk = runnable[start:start + step]
            results = evaluate_many(
                [(CHILD_SPEC, (prepared[i].payload,)) for i in chunk], backend="dask",
                scheduler=scheduler, limits=limits, **pool_options,
            )
            yield [
                (i, record_from_result(prepared[i], r))
                for i, r in zip(chunk, results, strict=True)
            ]
        return
    if pool is None:
        from ahd.sandbox import shared_pool

        pool_options.setdefault("warmup", WARMUP_SPEC)
        pool = shared_pool(n_jobs, **pool_options)
    shared_dir = getattr(pool, "shared_dir", None)
    if shared_dir:
        for i in runnable:
            for ops in prepared[i].payload["operators"].values():
                for op in ops:
                    if "source" in op:
                        op["path"] = code_file(shared_dir, op["source"])
    futures = {pool.submit(CHILD_SPEC, (prepared[i].payload,), limits,
                           compiles=may_compile(prepared[i].payload)): i for i in runnable}
    waiting = set(futures)
    try:
        while waiting:
            done, waiting = cf.wait(waiting, return_when=cf.FIRST_COMPLETED)
            order = sorted(futures[f] for f in done)
            results = {futures[f]: f.result() for f in done}
            yield [(i, record_from_result(prepared[i], results[i])) for i in order]
    finally:
        for future in waiting:
            future.cancel()


def iter_evaluations(
    requests: Sequence[RoutingEvaluation], pool: Any = None, **options: Any
) -> Iterator[tuple[int, EvaluationRecord]]:
    """Yield ``(index, record)`` for every request as soon as it is known (options: see
    :func:`iter_batches`)."""
    for batch in iter_batches(requests, pool, **options):
        yield from batch


def evaluate_candidates(
    requests: Sequence[RoutingEvaluation], pool: Any = None, **options: Any
) -> list[EvaluationRecord]:
    """Evaluate every request; one record each, in request order (see :func:`iter_evaluations`
    for the options)."""
    requests = list(requests)
    out: list[EvaluationRecord | None] = [None] * len(requests)
    for i, record in iter_evaluations(requests, pool, **options):
        out[i] = record
    return out  # type: ignore[return-value]


def _instance_name(instance: RoutingInstance | InstanceSpec | tuple) -> tuple[str, Any]:
    if isinstance(instance, tuple):
        instance = InstanceSpec(*instance)
    if isinstance(instance, InstanceSpec):
        return instance.build().name, instance
    if isinstance(instance, RoutingInstance):
        return instance.name, instance
    raise TypeError(f"instances must be RoutingInstance or InstanceSpec, got {instance!r}")


def evaluate_and_store(
    store: Store,
    run_id: int | None,
    candidates: Sequence[Candidate],
    instances: Sequence[RoutingInstance | InstanceSpec | tuple],
    config: LNSConfig,
    *,
    partners: Mapping[str, Any] | None = None,
    split: str = "train",
    context: str | None = None,
    seed: int | None = None,
    pool: Any = None,
    on_record: Callable[[EvaluationRecord], None] | None = None,
    **options: Any,
) -> list[EvaluationRecord]:
    """Evaluate what the store still lacks for ``candidates`` x ``instances``, storing as it goes.

    Candidates are added to run ``run_id`` (the store's current run when ``None``; duplicates
    return the stored id), :func:`~ahd.store.pending_work` says which ``(candidate, instance)``
    pairs have no evaluation yet under ``split`` and ``context``, and only those are sandboxed.
    Every batch of results that finish together is committed in one transaction as it arrives,
    so a kill loses only the evaluations in flight; calling again resumes.

    ``context`` defaults to ``""`` without ``partners`` and to
    :func:`~ahd.store.evaluation_context` of the partners otherwise (candidate ids, or registry
    names joined by ``+``); pass it explicitly when ``config`` or ``seed`` differ from the run's
    usual setting. ``options`` go to :func:`iter_batches`. Returns the records of the
    evaluations performed now, in pending order.
    """
    ids: list[int] = []
    by_id: dict[int, Candidate] = {}
    for cand in candidates:
        cid, _ = store.add_candidate(cand, run_id)
        if cid not in by_id:
            ids.append(cid)
            by_id[cid] = cand.with_id(cid)
    resolved: dict[str, Any] = {}
    keys: dict[str, int | str] = {}
    for role, value in (partners or {}).items():
        pool_ = as_pool(value, role) or ()
        ops, tags = [], []
        for op in pool_:
            if isinstance(op, Candidate):
                pid, _ = store.add_candidate(op, run_id)
                ops.append(op.with_id(pid))
                tags.append(str(pid))
            elif isinstance(op, SourceOperator):
                raise TypeError(
                    "partners of evaluate_and_store must be registry names or candidates, "
                    "so that the evaluation context can name them"
                )
            else:
                ops.append(op)
                tags.append(op)
        resolved[role] = tuple(ops)
        keys[role] = "+".join(tags)
    if context is None:
        context = evaluation_context(keys) if keys else ""
    named: dict[str, Any] = {}
    for inst in instances:
        name, obj = _instance_name(inst)
        if name in named:
            raise ValueError(f"two instances are named {name!r}")
        named[name] = obj
    todo = pending_work(store, ids, list(named), split, context)
    requests = [
        RoutingEvaluation.for_candidate(by_id[cid], named[name], config, resolved, seed)
        for cid, name in todo
    ]
    records: list[EvaluationRecord | None] = [None] * len(todo)
    # Results that finish together share one transaction, committed before waiting again.
    for batch in iter_batches(requests, pool, **options):
        for i, record in batch:
            record.candidate_id = todo[i][0]
            records[i] = record
        store.add_evaluations([rec.to_evaluation(split=split, context=context) for _, rec in batch])
        if on_record is not None:
            for _, record in batch:
                on_record(record)
    return [r for r in records if r is not None]
