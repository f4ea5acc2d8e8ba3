"""``ahd solve --heuristic FILE``: the file's operators run in a sandbox child, under a deadline.

The file is imported and run only in children of a :class:`~ahd.user_file.UserFileRunner`,
one per step:

1. :func:`describe_file` reads what it defines (its ``PROBLEM`` and operator names, which the
   command needs before it can build the instance and print its header), under the deadline:
   a file that loops, sleeps or exits at import is stopped here.
2. :func:`compile_file` compiles its operators into numba's cache beside the file, with a
   budget of its own (:data:`COMPILE_BUDGET_S`) that the time limit does not count, as it never
   counted first-use compilation: nine seed-sized operators take about 30 s on 2 busy cores
   the first time, well under a second once cached.
3. :func:`run_file_pipeline` runs the chosen pipeline with the pools exactly as the command did
   in process (same loader, same engine, same seed), under the deadline.

The parent side, :class:`SandboxedHeuristic`, believes only the routes: it checks their shape,
recomputes the cost with the trusted verifier and rebuilds the
:class:`~ahd.problems.pipelines.PipelineResult` the command prints.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ahd.trust import InvalidOutput, is_int, is_real
from ahd.user_file import UserFileFailure, UserFileRunner, one_line

from .engine.config import LNSConfig
from .heuristic_file import HeuristicFileError, load_heuristic_file
from .instance import RoutingInstance
from .pipelines import PipelineResult, Stage, run_pipeline
from .verify import InfeasibleSolution, verify

#: Worker warm-up: the LNS engine and the seed operators, loaded before any child forks.
WARMUP = "ahd.problems.child:warm_engine"
#: Seconds the file's operators may take to compile (step 2) before the child is killed.
COMPILE_BUDGET_S = 300.0
#: Relative slack when a stage's reported cost is compared with the verified best.
COST_SLACK = 1e-9
_MAX_TEXT = 2000
_MAX_STAGES = 16

# ----------------------------------------------------------------------------- the child side


def describe_file(request: dict) -> dict:
    """Child side: import the file; its ``PROBLEM`` and the one-line description of its pools.

    Returns ``{"problem", "describe", "error"}``; ``error`` is the loader's one-line message
    for a file that cannot be used (then the other two are ``None``).
    """
    os.chdir(request["cwd"])  # relative paths mean what they meant to the user
    try:
        pools = load_heuristic_file(request["path"])
    except HeuristicFileError as exc:
        return {"problem": None, "describe": None, "error": str(exc)}
    return {"problem": pools.problem, "describe": pools.describe(), "error": None}


def compile_file(request: dict) -> dict:
    """Child side: compile the file's operators as :func:`~ahd.problems.engine.lns.run_lns`
    does, which caches them beside the file for the run that follows.

    Returns ``{"error": None}``, or ``{"error": text}`` when loading raised. An operator numba
    cannot compile is no error here: the run reports it (and runs it as plain Python).
    """
    from .engine.lns import as_operators, compile_pool

    os.chdir(request["cwd"])
    try:
        pools = load_heuristic_file(request["path"])
        for role, ops in pools.lns_kwargs().items():
            if ops is not None:
                compile_pool(as_operators(ops, role, request["problem"]), role, {})
    except HeuristicFileError as exc:  # edited since it was described
        return {"error": str(exc).removeprefix(f"{request['path']}: ")}
    except Exception as exc:  # noqa: BLE001 - said as the run would say it
        return {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())}"}
    return {"error": None}


def run_file_pipeline(request: dict) -> dict:
    """Child side: the pipeline with the file's pools; plain data, routes never a claim.

    ``request``: ``cwd``, ``path``, ``pipeline``, ``instance``, ``time_limit``, ``config``.
    Returns ``{"error": None, "routes", "stages"}``, or ``{"error": text}`` when loading or
    running raised (the text the command prints after the file's name).
    """
    os.chdir(request["cwd"])
    try:
        pools = load_heuristic_file(request["path"])
        result = run_pipeline(
            request["pipeline"], request["instance"], request["time_limit"],
            config=request["config"], **pools.lns_kwargs(),
        )
    except HeuristicFileError as exc:  # edited since it was described
        return {"error": str(exc).removeprefix(f"{request['path']}: ")}
    except Exception as exc:  # noqa: BLE001 - an operator can fail in many ways; say which
        return {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())}"}
    stages = [
        {"name": s.name, "cost": None if s.cost is None else float(s.cost),
         "seconds": float(s.seconds), "detail": _plain_detail(s.detail)}
        for s in result.stages
    ]
    routes = [[int(c) for c in route] for route in result.routes]
    return {"error": None, "routes": routes, "stages": stages}


def _plain_detail(detail: dict) -> dict:
    """A stage's counters as plain ``str -> int | float | bool | str``."""
    out: dict[str, Any] = {}
    for key, value in detail.items():
        if isinstance(value, bool | int | float | str):
            out[str(key)] = value if isinstance(value, bool | str) else type(value)(value)
        elif hasattr(value, "item"):  # numpy scalar
            out[str(key)] = value.item()
    return out


# ----------------------------------------------------------------------------- the parent side


@dataclass(frozen=True)
class FileInfo:
    """What the file defines, as its child reported it: ``problem`` and its pools' line."""

    problem: str | None
    text: str

    def describe(self) -> str:
        return self.text


class SandboxedHeuristic:
    """A heuristic file whose code runs only in ``runner``'s children.

    Raises :class:`~ahd.problems.heuristic_file.HeuristicFileError` where the in-process
    command failed with a message (a file that cannot be loaded, an operator that raised) and
    :class:`~ahd.user_file.UserFileFailure` where the file misbehaved (ran too long, exited,
    died, returned something other than routes).
    """

    def __init__(self, path: Path, runner: UserFileRunner):
        self.path, self.runner = path, runner

    def _request(self, **extra: Any) -> dict:
        return {"cwd": os.getcwd(), "path": str(self.path), **extra}

    def describe(self) -> FileInfo:
        """Import the file in a child: its ``PROBLEM`` and the description of its pools."""
        value = self.runner.call(f"{__name__}:describe_file", self._request())
        if type(value) is not dict or set(value) != {"problem", "describe", "error"}:
            raise self._invalid("describing the file did not return the expected fields")
        error, problem, text = value["error"], value["problem"], value["describe"]
        if error is not None:
            if type(error) is not str:
                raise self._invalid("the loader's error is not text")
            raise HeuristicFileError(one_line(error, _MAX_TEXT))
        if type(text) is not str or (problem is not None and type(problem) is not str):
            raise self._invalid("PROBLEM or the description is not text")
        return FileInfo(problem, one_line(text, _MAX_TEXT))

    def run(
        self, pipeline: str, instance: RoutingInstance, time_limit: float, config: LNSConfig
    ) -> PipelineResult:
        """Compile the file's operators, then run the pipeline with them, each in a child;
        the routes verified here."""
        value = self.runner.call_uncharged(
            "compiling its operators", COMPILE_BUDGET_S, f"{__name__}:compile_file",
            self._request(problem=instance.kind))
        if type(value) is not dict or set(value) != {"error"}:
            raise self._invalid("compiling did not return the expected fields")
        request = self._request(pipeline=pipeline, instance=instance, time_limit=time_limit,
                                config=config)
        if value["error"] is None:
            value = self.runner.call(f"{__name__}:run_file_pipeline", request)
        try:
            return self._check(value, instance, pipeline)
        except InvalidOutput as exc:
            raise self._invalid(str(exc)) from None
        except InfeasibleSolution as exc:
            raise self._invalid(f"its routes fail the check: {exc}") from None

    def _invalid(self, why: str) -> UserFileFailure:
        return UserFileFailure(f"heuristic file {self.path}: returned an invalid result ({why})")

    def _check(self, value: Any, instance: RoutingInstance, pipeline: str) -> PipelineResult:
        if type(value) is not dict or "error" not in value:
            raise InvalidOutput("expected a dict with an 'error' field")
        if value["error"] is not None:
            if type(value["error"]) is not str or set(value) != {"error"}:
                raise InvalidOutput("a failure must be an error text alone")
            raise HeuristicFileError(f"{self.path}: {one_line(value['error'], _MAX_TEXT)}")
        if set(value) != {"error", "routes", "stages"}:
            raise InvalidOutput(f"unexpected fields {sorted(map(str, value))}")
        routes = value["routes"]
        if type(routes) is not list or any(
            type(r) is not list or not all(is_int(c) for c in r) for r in routes
        ):
            raise InvalidOutput("routes must be lists of customer ids")
        cost = verify(instance, routes)
        return PipelineResult(pipeline, routes, cost, _stages(value["stages"], cost))


def _stages(raw: Any, best: float) -> list[Stage]:
    """The child's stage reports, checked for shape; none may beat the verified best cost."""
    if type(raw) is not list or not 1 <= len(raw) <= _MAX_STAGES:
        raise InvalidOutput("stages must be a short non-empty list")
    stages = []
    for item in raw:
        if type(item) is not dict or set(item) != {"name", "cost", "seconds", "detail"}:
            raise InvalidOutput("each stage needs exactly name, cost, seconds and detail")
        name, cost, seconds, detail = item["name"], item["cost"], item["seconds"], item["detail"]
        if type(name) is not str or len(name) > 40:
            raise InvalidOutput("a stage name must be a short text")
        if cost is not None and (not is_real(cost) or cost < best - COST_SLACK * max(1, best)):
            raise InvalidOutput(f"stage {name!r} reports a cost below the verified best")
        if not is_real(seconds) or seconds < 0:
            raise InvalidOutput(f"stage {name!r} reports bad seconds")
        if type(detail) is not dict or any(
            type(k) is not str or type(v) not in (bool, int, float, str) for k, v in detail.items()
        ):
            raise InvalidOutput(f"stage {name!r} has bad counters")
        if any(type(v) is float and not math.isfinite(v) for v in detail.values()):
            raise InvalidOutput(f"stage {name!r} has non-finite counters")
        clean = {k: one_line(v, _MAX_TEXT) if type(v) is str else v for k, v in detail.items()}
        stages.append(Stage(name, cost, float(seconds), clean))
    return stages
