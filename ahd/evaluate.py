"""The trusted evaluation path of routing candidates: sandboxed LNS runs, scored by the parent.

Trust boundary
--------------
A candidate's code runs only in a sandbox child (:mod:`ahd.sandbox`), inside
:func:`run_candidate_lns`. Everything that child sends back is treated as hostile: it may have
patched the engine, the verifier, or this very module before the result was packed. So the child
returns *routes and diagnostics only*, never a cost, and the parent (this process)

1. checks the returned structure strictly (:func:`validate_child_output`): a plain ``dict`` with
   exactly the expected keys and types; a field that looks like a score (``cost``,
   ``objective``, ``score``) makes the whole result ``"invalid"``;
2. re-verifies the routes with :func:`ahd.problems.verify.verify` against its *own* copy of the
   instance (the one it built, never one that came back), and
3. takes the objective from that verification and nothing else.

Before anything is sandboxed, every candidate source goes through :func:`ahd.static_check`
plus this module's role-contract check (:func:`contract_messages`); a source that fails is
recorded as ``"static"`` with the messages and never reaches the sandbox.

Requests and results
--------------------
A :class:`RoutingEvaluation` names the operator pool of each role: candidate sources
(:class:`SourceOperator` or a :class:`~ahd.candidate.Candidate`), seed operators by registry
name, or ``None`` for the problem's default seed pool. :meth:`RoutingEvaluation.for_candidate`
builds the usual request: the candidate alone in its role(s), the rest of the team from seeds or
partner candidates. The instance is a :class:`~ahd.problems.instance.RoutingInstance` (pickled
to the child) or an :class:`InstanceSpec` the child rebuilds with the same generator.

:func:`evaluate_candidates` returns one :class:`EvaluationRecord` per request;
:func:`iter_evaluations` yields them as they finish; :func:`evaluate_and_store` evaluates what a
store still lacks and commits every finished batch at once, so a killed run loses only the
evaluations in flight.

Record statuses
---------------
``ok`` (verified objective), ``error`` (the candidate raised, broke the engine's contract
(``OperatorError``), or filled its output), ``timeout`` (wall clock or CPU limit), ``crashed``
(a signal, named in the error), ``memory``, ``infeasible`` (the routes fail verification),
``invalid`` (the child's result is malformed or claims a score), ``static`` (rejected before
running). The store has no ``static`` status: :meth:`EvaluationRecord.to_evaluation` stores it as
``invalid`` with ``metrics["stage"] == "static"``.

Secrets
-------
Sandbox workers start with a scrubbed environment. As a second line of defence, every text that
comes back from a child (error messages, compile errors) has the values of this process's
secret-looking environment variables, and any other value of 16 characters or more that is not
a path, replaced by ``[redacted]`` before it is recorded, so no secret from ``os.environ``
reaches the store. (A candidate that dumps its own scrubbed environment into an error message
still shows the harmless rest, such as ``PATH``.)
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import dataclasses
import hashlib
import linecache
import math
import os
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ahd.candidate import Candidate
from ahd.problems.engine.config import LNSConfig
from ahd.problems.instance import RoutingInstance
from ahd.problems.verify import InfeasibleSolution, verify
from ahd.sandbox.records import SandboxLimits, SandboxResult
from ahd.sandbox.worker import is_secret
from ahd.static_check import SAFE_BUILTINS, RoleSpec, parse_source, static_check
from ahd.store import Evaluation, Store, evaluation_context, pending_work

#: The routing roles, in the order the engine takes them.
ROUTING_ROLES = ("destroy", "repair", "improve")
#: The child's entry point, as a sandbox function spec.
CHILD_SPEC = "ahd.evaluate:run_candidate_lns"
#: The worker warmup that compiles the engine once per worker (pass as ``warmup=``).
WARMUP_SPEC = "ahd.evaluate:warm_engine"
#: Record statuses (see the module docstring).
RECORD_STATUSES = (
    "ok", "error", "timeout", "crashed", "memory", "infeasible", "invalid", "static",
)
#: Keys of the child's result, with their exact types.
CHILD_KEYS = (
    "routes", "iterations", "python_mode", "compile_errors", "stats", "pairs", "elapsed",
)
#: A returned key containing one of these (case-insensitively) is a forged score.
SCORE_WORDS = ("cost", "objective", "score", "fitness")
#: Columns of the engine's per-operator statistics (``ahd.problems.engine.lns.STAT_COLUMNS``).
STAT_COLUMNS = ("chosen", "improved", "new_best", "accepted", "seconds", "gain")
#: Roles the engine reports statistics for.
STAT_ROLES = ("destroy", "repair")
#: Module whose primitives candidates call; all of its public names are pre-provided.
STATE_MODULE = "ahd.problems.engine.state"
#: Names the candidate namespace provides besides the state helpers.
PREAMBLE_NAMES = ("np", "numpy", "math", "numba", "njit", "prange")
#: Longest error or compile-error text kept per record.
MAX_ERROR_CHARS = 4000
#: How sandbox statuses map onto record statuses (``ok`` and ``error`` are looked into).
SANDBOX_STATUS = {
    "timeout": "timeout",
    "cpu_limit": "timeout",
    "memory": "memory",
    "crashed": "crashed",
    "killed": "crashed",
    "output_limit": "error",
    "bad_result": "invalid",
}
_WRAPPER = "ahd.evaluate.CandidateError: "
_FRAMES_HEADER = "\nTraceback (candidate frames):\n"


# ------------------------------------------------------------------------------ requests


@dataclass(frozen=True)
class InstanceSpec:
    """A generated instance, rebuilt identically by the child and the parent.

    ``problem`` is ``"cvrp"`` (:func:`~ahd.problems.generators.uniform_cvrp`), ``"tsp"``
    (:func:`~ahd.problems.generators.uniform_tsp`, where ``n`` counts every city), ``"ovrp"``
    (open-route :func:`uniform_cvrp`) or a generator name from :data:`GENERATORS`.
    """

    problem: str
    n: int
    seed: int

    def __post_init__(self) -> None:
        if self.problem not in GENERATORS:
            raise ValueError(f"unknown generator {self.problem!r}; known: {sorted(GENERATORS)}")
        for name in ("n", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"InstanceSpec.{name} must be an int, got {value!r}")

    def build(self) -> RoutingInstance:
        return GENERATORS[self.problem](self.n, self.seed)

    def to_dict(self) -> dict[str, Any]:
        return {"problem": self.problem, "n": self.n, "seed": self.seed}


def _ovrp(n: int, seed: int) -> RoutingInstance:
    from ahd.problems.generators import ovrp_from, uniform_cvrp

    return ovrp_from(uniform_cvrp(n, seed))


def _generator(name: str) -> Callable[[int, int], RoutingInstance]:
    def build(n: int, seed: int) -> RoutingInstance:
        from ahd.problems import generators

        return getattr(generators, name)(n, seed)

    build.__name__ = name
    return build


#: Generators an :class:`InstanceSpec` may name: ``(n, seed) -> RoutingInstance``.
GENERATORS: dict[str, Callable[[int, int], RoutingInstance]] = {
    "cvrp": _generator("uniform_cvrp"),
    "tsp": _generator("uniform_tsp"),
    "ovrp": _ovrp,
    **{name: _generator(name) for name in ("uniform_cvrp", "uniform_tsp", "kool_cvrp", "x_cvrp")},
}


@dataclass(frozen=True)
class SourceOperator:
    """Operator code given as source text.

    ``entry`` is the function to call (default: the role name); ``name`` labels the operator in
    the engine's statistics (default: the entry name).
    """

    source: str
    entry: str = ""
    name: str = ""


OperatorSpec = str | SourceOperator | Candidate


def _pool(value: Any, role: str) -> tuple[OperatorSpec, ...] | None:
    if value is None:
        return None
    if isinstance(value, (str, SourceOperator, Candidate)):
        value = (value,)
    pool = tuple(value)
    for op in pool:
        if not isinstance(op, (str, SourceOperator, Candidate)):
            raise TypeError(
                f"{role} operators must be registry names, SourceOperator or Candidate, "
                f"got {type(op).__name__}"
            )
        if isinstance(op, Candidate) and role not in op.roles:
            raise ValueError(f"candidate with roles {op.roles} cannot fill the {role} role")
    return pool


@dataclass(frozen=True, eq=False)
class RoutingEvaluation:
    """One sandboxed LNS run: operator pools per role, an instance, a config and a seed.

    A role left ``None`` gets the problem's default seed pool (``improve``: none by default).
    ``seed`` overrides ``config.seed`` when given.
    """

    instance: RoutingInstance | InstanceSpec
    config: LNSConfig
    destroy: Any = None
    repair: Any = None
    improve: Any = None
    seed: int | None = None

    def __post_init__(self) -> None:
        instance = self.instance
        if isinstance(instance, tuple):
            instance = InstanceSpec(*instance)
            object.__setattr__(self, "instance", instance)
        if not isinstance(instance, (RoutingInstance, InstanceSpec)):
            raise TypeError("instance must be a RoutingInstance, an InstanceSpec or a tuple")
        if not isinstance(self.config, LNSConfig):
            raise TypeError("config must be an LNSConfig")
        for role in ROUTING_ROLES:
            object.__setattr__(self, role, _pool(getattr(self, role), role))

    @classmethod
    def for_candidate(
        cls,
        candidate: Candidate,
        instance: RoutingInstance | InstanceSpec | tuple,
        config: LNSConfig,
        partners: Mapping[str, Any] | None = None,
        seed: int | None = None,
    ) -> RoutingEvaluation:
        """The candidate alone in each of its roles; other roles from ``partners`` (registry
        names, sources or other candidates) or, when not named there, the default seeds."""
        partners = dict(partners or {})
        unknown = set(candidate.roles) - set(ROUTING_ROLES)
        if unknown:
            raise ValueError(f"not routing roles: {sorted(unknown)}")
        clash = set(partners) & set(candidate.roles)
        if clash:
            raise ValueError(f"partners fill roles the candidate fills itself: {sorted(clash)}")
        pools = {role: partners.get(role) for role in ROUTING_ROLES}
        for role in candidate.roles:
            pools[role] = (candidate,)
        return cls(instance, config, seed=seed, **pools)

    def effective_config(self) -> LNSConfig:
        if self.seed is None:
            return self.config
        return dataclasses.replace(self.config, seed=int(self.seed))


# ------------------------------------------------------------------------------ records


@dataclass
class EvaluationRecord:
    """The outcome of one :class:`RoutingEvaluation`.

    ``objective`` is the cost the parent verified (``None`` unless ``status == "ok"``);
    ``time`` the sandbox's wall-clock seconds (compilation included); ``metrics`` holds
    ``iterations``, ``python_mode``, ``operator_stats``, ``compile_errors``, the child's own
    ``search_seconds`` (informative only), ``cpu_time``, ``max_rss`` and ``sandbox_status``;
    ``routes`` the verified routes (not stored).
    """

    instance: str
    status: str
    objective: float | None = None
    time: float | None = None
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    routes: list[list[int]] | None = None
    candidate_id: int | None = None

    def __post_init__(self) -> None:
        if self.status not in RECORD_STATUSES:
            raise ValueError(f"status must be one of {RECORD_STATUSES}, got {self.status!r}")

    def to_evaluation(
        self, candidate_id: int | None = None, split: str = "train", context: str = ""
    ) -> Evaluation:
        """The store's :class:`~ahd.store.Evaluation` (``static`` becomes ``invalid``)."""
        cid = self.candidate_id if candidate_id is None else candidate_id
        if cid is None:
            raise ValueError("to_evaluation needs a candidate id")
        status, metrics = self.status, dict(self.metrics)
        if status == "static":
            status = "invalid"
            metrics["stage"] = "static"
        objective = self.objective if status == "ok" else None
        return Evaluation(
            cid, self.instance, split, status, objective, self.time, self.error, metrics,
            context,
        )


class InvalidOutput(ValueError):
    """The child's result does not have the required shape; the message says where."""


class CandidateError(RuntimeError):
    """Raised in the child for any failure of the candidate's run.

    Its message is ``"<kind>|<text>"``: ``kind`` is ``infeasible`` (the engine's own check
    found the best solution infeasible) or ``error``; ``text`` is the original exception's
    type and message, the candidate's own frames, and notes (e.g. a failed numba compilation).
    It is a claim of failure only, so the parent may believe it.
    """


# ------------------------------------------------------------------------------ static checks


def _contract_for(role: str, entry: str, node: ast.FunctionDef) -> list[str]:
    returns: list[ast.Return] = []
    stack: list[ast.AST] = list(node.body)
    while stack:  # the function's own returns, not those of nested functions or lambdas
        item = stack.pop()
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(item, ast.Return):
            returns.append(item)
        stack.extend(ast.iter_child_nodes(item))
    returns.sort(key=lambda r: r.lineno)
    signature = f"def {entry}({', '.join(RoleSpec.routing(role).params)})"
    out = []
    if role in ("repair", "improve"):
        for ret in returns:
            if ret.value is not None and not (
                isinstance(ret.value, ast.Constant) and ret.value.value is None
            ):
                out.append(
                    f"line {ret.lineno}: '{entry}' returns a value, but the {role} role returns "
                    f"nothing: it changes sol in place ('{signature}' -> None)"
                )
        return out
    valued = [r for r in returns if r.value is not None]
    if not valued:
        out.append(
            f"line {node.lineno}: '{entry}' never returns the number of removed customers; the "
            f"destroy role must return k, an int, after writing them to removed[0:k]"
        )
    for ret in returns:
        value = ret.value
        what = None
        if value is None or (isinstance(value, ast.Constant) and value.value is None):
            what = "nothing"
        elif isinstance(value, ast.Constant) and (
            isinstance(value.value, bool) or not isinstance(value.value, int)
        ):
            what = f"{type(value.value).__name__} {value.value!r}"
        elif isinstance(
            value,
            (ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp,
             ast.GeneratorExp, ast.JoinedStr),
        ):
            what = f"a {type(value).__name__.lower().replace('comp', ' comprehension')}"
        if what is not None and valued:
            out.append(
                f"line {ret.lineno}: '{entry}' returns {what}; the destroy role returns k, the "
                f"int count of customers written to removed[0:k]"
            )
    return out


def contract_messages(source: str, role_entries: Mapping[str, str]) -> list[str]:
    """What the entry points break of their role's return contract, found from the source.

    repair and improve must not return a value; destroy must return an int count (a literal
    float, ``None``, a list or a tuple is reported). Numba would otherwise drop or truncate such
    values silently, or make the operator run as plain Python. Assumes the source parses and
    defines the entry points (run :func:`~ahd.static_check.static_check` first).
    """
    tree, _ = parse_source(source)
    if tree is None:
        return []
    top = {
        stmt.name: stmt for stmt in tree.body if isinstance(stmt, ast.FunctionDef)
    }
    out: list[str] = []
    for role, entry in role_entries.items():
        node = top.get(entry)
        if node is not None and role in ROUTING_ROLES:
            out.extend(_contract_for(role, entry, node))
    return out


def default_allowed_names() -> frozenset[str]:
    """Names candidate code may use unbound: safe builtins and what the namespace provides."""
    return SAFE_BUILTINS | frozenset(PREAMBLE_NAMES) | frozenset(_state_names())


def _state_names() -> list[str]:
    import importlib

    module = importlib.import_module(STATE_MODULE)
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == STATE_MODULE
    )


def check_source(
    source: str,
    role_entries: Mapping[str, str],
    allowed_names: Iterable[str] | None = None,
) -> list[str]:
    """Static problems of one source filling ``role -> entry`` (empty list: it may run)."""
    if not isinstance(source, str) or not source.strip():
        return ["the source is empty: define one top-level function per role"]
    specs = [RoleSpec.routing(role, entry) for role, entry in role_entries.items()]
    names = default_allowed_names() if allowed_names is None else frozenset(allowed_names)
    messages = static_check(source, specs, allowed_names=names)
    if messages:
        return messages
    return contract_messages(source, role_entries)


# ------------------------------------------------------------------------------ the child side


def _candidate_namespace(module: types.ModuleType) -> None:
    """Pre-provide ``np``, ``numba``, ``njit``, ``math`` and the state helpers."""
    import importlib

    import numba
    import numpy as np

    state = importlib.import_module(STATE_MODULE)
    ns = module.__dict__
    ns.update(np=np, numpy=np, numba=numba, njit=numba.njit, prange=numba.prange, math=math)
    for name in _state_names():
        ns[name] = getattr(state, name)


def code_file(shared_dir: str, code: str) -> str:
    """Write ``code`` to ``shared_dir/code/c_<sha>.py`` once (parent side); return the path.

    Numba caches compiled code only for functions that live in a real file; a file named by
    its content never changes, so a candidate compiles once per run and every later sandbox
    child loads the machine code from ``__pycache__`` next to it.
    """
    digest = hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    folder = os.path.join(shared_dir, "code")
    path = os.path.join(folder, f"c_{digest}.py")
    if not os.path.isfile(path):
        os.makedirs(folder, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(code)
        os.replace(tmp, path)
    return path


def _load_file(code: str, path: str) -> tuple[types.ModuleType, str] | None:
    """Load candidate code from its content-named file, or None when the file does not hold
    exactly ``code`` (then the caller compiles from the string, uncached)."""
    import importlib.util

    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() != code:
                return None
    except OSError:
        return None
    name = "ahd_candidate_" + os.path.basename(path)[:-3]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    _candidate_namespace(module)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module, path


#: Candidate modules this child has loaded, by source. A team child runs the same operators on
#: many instances; executing the source again per instance would create new function objects,
#: so the engine would compile (or load from numba's cache) every operator per instance, about
#: a second each for a large one, and keep every copy alive until the child ran out of memory.
_LOADED: dict[tuple[str, str | None], tuple[types.ModuleType, str]] = {}


def _loaded(code: str, path: str | None = None) -> tuple[types.ModuleType, str]:
    key = (code, path)
    if key not in _LOADED:
        _LOADED[key] = _load_source(code, path)
    return _LOADED[key]


def _load_source(code: str, path: str | None = None) -> tuple[types.ModuleType, str]:
    if path:
        loaded = _load_file(code, path)
        if loaded is not None:
            return loaded
    digest = hashlib.sha1(code.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    filename = f"<candidate-{digest}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    module = types.ModuleType(f"ahd_candidate_{digest}")
    module.__file__ = filename
    _candidate_namespace(module)
    sys.modules[module.__name__] = module
    exec(compile(code, filename, "exec"), module.__dict__)  # noqa: S102 - sandboxed child
    return module, filename


def _child_instance(data: Any) -> RoutingInstance:
    if isinstance(data, RoutingInstance):
        return data
    return InstanceSpec(data["problem"], data["n"], data["seed"]).build()


def _failure(exc: BaseException, filenames: set[str], notes: list[str]) -> CandidateError:
    kind = "infeasible" if isinstance(exc, InfeasibleSolution) else "error"
    message = str(exc)
    limit = MAX_ERROR_CHARS // 2  # leaves room for frames and notes in the sandbox's cap
    if len(message) > limit:
        message = message[:limit] + f"... [{len(message) - limit} chars cut]"
    text = f"{type(exc).__name__}: {message}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in filenames]
    if frames:
        text += _FRAMES_HEADER + "".join(traceback.format_list(frames[-10:]))
    for note in notes:
        text = text.rstrip() + "\n" + note
    return CandidateError(f"{kind}|{text.rstrip()}")


def _compile_notes(sourced: list[tuple[str, Any, str]]) -> list[str]:
    """Why candidate operators ran as plain Python, read from the engine's compile cache."""
    try:
        from ahd.problems.engine import lns

        cache = lns._compiled_cache
    except (ImportError, AttributeError):  # pragma: no cover - engine internals changed
        return []
    notes = []
    for role, func, label in sourced:
        _, err = cache.get((role, func), (None, None))
        if err:
            notes.append(
                f"note: {role} operator {label!r} could not be compiled by numba and ran as "
                f"plain Python: {err}"
            )
    return notes


def _pack_result(result: Any) -> dict[str, Any]:
    """The plain-data result of a run: routes and diagnostics, never a cost."""
    return {
        "routes": [[int(c) for c in route] for route in result.routes],
        "iterations": int(result.iterations),
        "python_mode": bool(result.python_mode),
        "compile_errors": {str(k): str(v) for k, v in result.compile_errors.items()},
        "stats": {
            role: {
                str(name): {str(col): float(v) for col, v in cols.items()}
                for name, cols in result.stats[role].items()
            }
            for role in STAT_ROLES
        },
        "pairs": [[[float(v) for v in cell] for cell in row] for row in result.pair_stats],
        "elapsed": float(result.elapsed),
    }


def run_candidate_lns(request: dict) -> dict:
    """Child side (runs in the sandbox): load the sources, run the LNS, return plain data.

    ``request`` (built by the parent): ``instance`` (a RoutingInstance or an InstanceSpec as a
    dict), ``config`` (LNSConfig fields), ``operators`` (role -> list of
    ``{"registry": name}`` or ``{"source": code, "entry": name, "name": label}``).
    Returns ``{"routes", "iterations", "python_mode", "compile_errors", "stats", "elapsed"}``;
    failures raise :class:`CandidateError`.
    """
    from ahd.problems.engine.lns import Operator, run_lns

    instance = _child_instance(request["instance"])
    config = LNSConfig(**{**request["config"], "scores": tuple(request["config"]["scores"])})
    filenames: set[str] = set()
    sourced: list[tuple[str, Any, str]] = []
    try:
        pools: dict[str, list[Any]] = {}
        for role in ROUTING_ROLES:
            pool: list[Any] = []
            for op in request["operators"][role]:
                if "registry" in op:
                    pool.append(op["registry"])
                    continue
                code, entry, label = op["source"], op["entry"], op["name"]
                module, filename = _loaded(code, op.get("path"))
                filenames.add(filename)
                func = module.__dict__.get(entry)
                if not callable(func):
                    raise TypeError(f"the {role} entry point {entry!r} is not a function")
                func = getattr(func, "py_func", func)  # an @njit the candidate applied itself
                sourced.append((role, func, label))
                pool.append(Operator(label, func))
            pools[role] = pool
        result = run_lns(
            instance, config, destroy=pools["destroy"], repair=pools["repair"],
            improve=pools["improve"],
        )
    except MemoryError:
        raise  # the sandbox reports it as "memory"
    except Exception as exc:  # noqa: BLE001 - every failure goes back as a CandidateError
        raise _failure(exc, filenames, _compile_notes(sourced)) from None
    return _pack_result(result)


def warm_engine() -> None:
    """Worker warmup: compile the LNS loop and every seed operator once, before any lockdown,
    so that children only compile the candidate's own code."""
    from ahd.problems.engine.lns import run_lns
    from ahd.problems.generators import uniform_cvrp
    from ahd.problems.operators.registry import IMPROVE

    instance = uniform_cvrp(12, 0)
    config = LNSConfig(iterations=3, seed=0, min_remove=1, max_remove=3)
    run_lns(instance, config, improve=sorted(IMPROVE))
    _state_names()


# ------------------------------------------------------------------------------ the parent side


def _pathlike(value: str) -> bool:
    return all(not part or part.startswith(("/", "~", ".")) for part in value.split(os.pathsep))


def _secret_values() -> list[str]:
    """Values to keep out of records: those of secret-looking variables, and any other long
    value that is not a path (a token under an unexpected name)."""
    values = {
        v
        for k, v in os.environ.items()
        if len(v) >= 4 and (is_secret(k) or (len(v) >= 16 and not _pathlike(v)))
    }
    return sorted(values, key=len, reverse=True)


def redact(value: Any, secrets: Sequence[str] | None = None) -> Any:
    """``value`` with every secret environment value in its strings replaced."""
    secrets = _secret_values() if secrets is None else secrets
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, "[redacted]")
        return value
    if isinstance(value, dict):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    return value


def _score_like(key: str) -> bool:
    low = key.lower()
    return any(word in low for word in SCORE_WORDS)


def _is_int(x: Any) -> bool:
    return type(x) is int


def _is_real(x: Any) -> bool:
    return type(x) in (int, float) and math.isfinite(x)


def validate_child_output(
    value: Any, expected_labels: Mapping[str, Sequence[str]]
) -> tuple[list[list[int]], dict[str, Any]]:
    """Check the child's result strictly; return ``(routes, metrics)`` or raise
    :class:`InvalidOutput` naming the first problem.

    ``expected_labels``: role -> the operator labels the parent sent, which are the only keys
    the statistics may have.
    """
    if type(value) is not dict:
        raise InvalidOutput(f"the result must be a dict, got {type(value).__name__}")
    for key in value:
        if type(key) is not str:
            raise InvalidOutput(f"result keys must be strings, got {type(key).__name__}")
    forged = sorted(k for k in value if _score_like(k))
    if forged:
        raise InvalidOutput(
            f"the result carries score field(s) {forged}; the objective is computed by the "
            f"evaluator from the routes only"
        )
    extra = sorted(set(value) - set(CHILD_KEYS))
    missing = [k for k in CHILD_KEYS if k not in value]
    if extra or missing:
        raise InvalidOutput(f"result keys: unexpected {extra}, missing {missing}")
    routes = value["routes"]
    if type(routes) is not list:
        raise InvalidOutput(f"'routes' must be a list, got {type(routes).__name__}")
    for i, route in enumerate(routes):
        if type(route) is not list:
            raise InvalidOutput(f"'routes'[{i}] must be a list, got {type(route).__name__}")
        for j, c in enumerate(route):
            if not _is_int(c):
                raise InvalidOutput(
                    f"'routes'[{i}][{j}] must be an int, got {type(c).__name__} {c!r:.40}"
                )
    iterations = value["iterations"]
    if not _is_int(iterations) or iterations < 0:
        raise InvalidOutput(f"'iterations' must be an int >= 0, got {iterations!r:.40}")
    if type(value["python_mode"]) is not bool:
        raise InvalidOutput(
            f"'python_mode' must be a bool, got {type(value['python_mode']).__name__}"
        )
    elapsed = value["elapsed"]
    if not _is_real(elapsed) or elapsed < 0:
        raise InvalidOutput(f"'elapsed' must be finite seconds >= 0, got {elapsed!r:.40}")
    errors = value["compile_errors"]
    allowed = {f"{role}:{label}" for role, labels in expected_labels.items() for label in labels}
    if type(errors) is not dict:
        raise InvalidOutput(f"'compile_errors' must be a dict, got {type(errors).__name__}")
    for key, text in errors.items():
        if key not in allowed:
            raise InvalidOutput(f"'compile_errors' names an unknown operator {key!r:.80}")
        if type(text) is not str:
            raise InvalidOutput(f"'compile_errors'[{key!r}] must be a string")
    stats = value["stats"]
    if type(stats) is not dict or set(stats) != set(STAT_ROLES):
        raise InvalidOutput(f"'stats' must be a dict with exactly the keys {list(STAT_ROLES)}")
    for role in STAT_ROLES:
        per_op = stats[role]
        labels = set(expected_labels.get(role, ()))
        if type(per_op) is not dict or set(per_op) != labels:
            raise InvalidOutput(f"'stats'[{role!r}] must have exactly the keys {sorted(labels)}")
        for label, cols in per_op.items():
            if type(cols) is not dict or set(cols) != set(STAT_COLUMNS):
                raise InvalidOutput(
                    f"'stats'[{role!r}][{label!r}] must have exactly the keys {list(STAT_COLUMNS)}"
                )
            for col, x in cols.items():
                if not _is_real(x) or x < 0:
                    raise InvalidOutput(
                        f"'stats'[{role!r}][{label!r}][{col!r}] must be a finite number >= 0"
                    )
    pairs = value["pairs"]
    shape = (len(stats["destroy"]), len(stats["repair"]), 2)
    try:
        array = np.asarray(pairs, dtype=float)
    except (TypeError, ValueError):
        raise InvalidOutput("'pairs' must be a nested list of numbers") from None
    if array.size == 0 and 0 in shape:
        array = array.reshape(shape)
    if array.shape != shape or not np.all(np.isfinite(array)) or np.any(array < 0):
        raise InvalidOutput(f"'pairs' must be a {shape} array of finite numbers >= 0")
    metrics = {
        "iterations": iterations,
        "python_mode": value["python_mode"],
        "compile_errors": {k: v[:MAX_ERROR_CHARS] for k, v in errors.items()},
        "operator_stats": stats,
        "pair_stats": array.tolist(),
        "search_seconds": float(elapsed),
    }
    return routes, metrics


@dataclass
class _Prepared:
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


def _prepare(request: RoutingEvaluation, built: dict[InstanceSpec, RoutingInstance]) -> _Prepared:
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
    return _Prepared(instance, payload, labels, sources)


def _strip_wrapper(text: str) -> tuple[str, str]:
    """``(kind, message)`` from a sandbox error; unwraps :class:`CandidateError`."""
    if not text.startswith(_WRAPPER):
        return "error", text
    body = text[len(_WRAPPER):]
    cut = body.rfind(_FRAMES_HEADER)
    if cut >= 0 and "evaluate.py" in body[cut:]:
        body = body[:cut]  # the sandbox's frames of this module, not the candidate's
    kind, sep, message = body.partition("|")
    if not sep or kind not in ("error", "infeasible"):
        return "error", body
    return kind, message


def _clip(text: str) -> str:
    if len(text) > MAX_ERROR_CHARS:
        return text[:MAX_ERROR_CHARS] + f"... [{len(text) - MAX_ERROR_CHARS} chars cut]"
    return text


def record_from_result(prepared: _Prepared, result: SandboxResult) -> EvaluationRecord:
    """Turn a sandbox result into a record: validate, re-verify, score (trusted side)."""
    secrets = _secret_values()
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
        return EvaluationRecord(name, status, None, wall, redact(_clip(error), secrets), metrics)

    if result.status == "error":
        kind, message = _strip_wrapper(result.error or "")
        return failed("infeasible" if kind == "infeasible" else "error", message)
    if result.status != "ok":
        status = SANDBOX_STATUS.get(result.status, "error")
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


def _static_record(prepared: _Prepared, messages: list[str], seconds: float) -> EvaluationRecord:
    text = "\n".join(messages)
    return EvaluationRecord(
        prepared.instance.name, "static", None, seconds, redact(_clip(text)),
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
    prepared = [_prepare(req, built) for req in requests]
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
    futures = {pool.submit(CHILD_SPEC, (prepared[i].payload,), limits): i for i in runnable}
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
        pool_ = _pool(value, role) or ()
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
