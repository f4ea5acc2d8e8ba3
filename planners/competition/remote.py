"""The dask worker's side of ``ahd plan-eval --scheduler``: run one (planner, task), send back
what happened.

Nothing may rely on a file system shared with the evaluating process, so a request carries
everything a run needs as data: the domain and problem PDDL text, the planner's spec and the
files it names (an evolved heuristic's source; see :meth:`.planner_base.Planner.portable`), and
the limits. :func:`run_remote` writes them into a temporary folder of its own, rebuilds the
planner there, runs it under the limits exactly as a local run (:func:`.execution.execute`) and
returns the plan's text with the run's statistics, its exit status and the tail of its log. It
validates nothing: the evaluating process checks every plan against its own copy of the task
(:mod:`.cluster_runner`), so a worker's claim of a plan is never taken on trust.

:func:`run_remote` and the two records are module-level, as dask requires of what it sends to
worker processes (started with ``spawn``, they import this module by name).
"""

from __future__ import annotations

import socket
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from .execution import Execution, execute
from .planner_base import Limits, Planner, PlannerSpecError
from .results import now
from .suite import Task

__all__ = ["LOG_TAIL_BYTES", "RunReply", "RunRequest", "build_planner", "request_for",
           "run_remote"]

#: The end of a run's log that travels back (the planner's verdict is read on the worker, from
#: the whole log; this part is only kept for people to read).
LOG_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class RunRequest:
    """One run as plain data: what a worker needs, with no path of the evaluating machine.

    Attributes
    ----------
    label : str
        The planner's label.
    spec : str
        ``KIND:CONFIG`` with the configuration to rebuild it from on the worker
        (:meth:`Planner.portable`), which names no file of the evaluating machine.
    config : str
        That configuration.
    files : dict
        File name -> content, written next to where the planner is rebuilt.
    key, domain, split, name : str
        The task's identity, as :class:`.suite.Task` has it.
    domain_pddl, problem_pddl : bytes
        The task's PDDL files, byte for byte.
    limits : Limits
        Time, memory and grace of the run.
    """

    label: str
    spec: str
    config: str
    key: str
    domain: str
    split: str
    name: str
    domain_pddl: bytes
    problem_pddl: bytes
    limits: Limits
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class RunReply:
    """What a worker sends back.

    Attributes
    ----------
    run : Execution
        Status and statistics (``plan_file`` is None: the worker's paths mean nothing here).
    plan : bytes or None
        The plan of a ``plan`` run, as the planner wrote it.
    log : str
        The last :data:`LOG_TAIL_BYTES` of the planner's output.
    started : str
        When the run started, by the worker's clock.
    host : str
        The worker's host name.
    """

    run: Execution
    plan: bytes | None
    log: str
    started: str
    host: str


def request_for(planner: Planner, task: Task, limits: Limits,
                domains: dict[Path, bytes] | None = None) -> RunRequest:
    """The request for ``planner`` on ``task``.

    ``domains`` caches domain files already read (one serves every task of its domain);
    problem files are read each time, so a large suite is never held in memory at once.
    """
    cache = {} if domains is None else domains
    if task.domain_file not in cache:
        cache[task.domain_file] = task.domain_file.read_bytes()
    config, files = planner.portable(task)
    kind = planner.spec.partition(":")[0]
    return RunRequest(
        label=planner.label, spec=f"{kind}:{config}", config=config, key=task.key,
        domain=task.domain, split=task.split, name=task.name,
        domain_pddl=cache[task.domain_file], problem_pddl=task.problem_file.read_bytes(),
        limits=limits, files=dict(files),
    )


def build_planner(request: RunRequest, folder: Path) -> Planner:
    """The request's planner, rebuilt in ``folder`` from its spec and shipped files.

    Raises
    ------
    PlannerSpecError
        When this machine has no such planner kind (a plugin installed only on the evaluating
        machine) or cannot use the configuration.
    """
    from .planners_registry import planner_kinds

    folder.mkdir(parents=True, exist_ok=True)
    for name, content in request.files.items():
        if Path(name).name != name or name in ("", ".", ".."):
            raise PlannerSpecError(f"{request.spec}: shipped file name {name!r} is not a name")
        (folder / name).write_bytes(content)
    kind = request.spec.partition(":")[0]
    kinds = planner_kinds()
    if kind not in kinds:
        raise PlannerSpecError(f"{request.spec}: planner kind {kind!r} is not installed here")
    return kinds[kind].from_spec(request.label, request.spec, request.config, folder)


def _tail(path: Path) -> str:
    if not path.is_file():
        return ""
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - LOG_TAIL_BYTES))
        return fh.read().decode(errors="replace")


def run_remote(request: RunRequest) -> RunReply:
    """Run one request in a fresh temporary folder (removed afterwards) and report it.

    A planner this worker cannot build or run comes back ``unavailable``, naming the host, so
    the pair is tried again when the evaluation is resumed.
    """
    started, host = now(), socket.gethostname()
    with tempfile.TemporaryDirectory(prefix="ahd-plan-eval-") as tmp:
        root = Path(tmp)
        (root / "task").mkdir()
        domain_file, problem_file = root / "task" / "domain.pddl", root / "task" / "problem.pddl"
        domain_file.write_bytes(request.domain_pddl)
        problem_file.write_bytes(request.problem_pddl)
        task = Task(request.key, request.domain, request.split, request.name, domain_file,
                    problem_file)
        try:
            planner = build_planner(request, root / "planner")
        except PlannerSpecError as exc:
            return RunReply(Execution("unavailable", error=f"{exc} (dask worker on {host})"),
                            None, "", started, host)
        planner.prepare()  # once per worker process; a failure shows in the runs
        run = execute(planner, task, request.limits, root / "run")
        if run.status == "unavailable":
            run = replace(run, error=f"{run.error} (dask worker on {host})")
        plan = run.plan_file.read_bytes() if run.plan_file is not None else None
        log = _tail(root / "run" / "log.txt")
    return RunReply(replace(run, plan_file=None), plan, log, started, host)
