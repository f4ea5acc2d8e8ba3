"""The adaptive LNS loop, compiled once for every operator pool.

Operators arrive as typed lists of first-class functions of the role's fixed signature, so the
loop below is compiled a single time per process; evolved operators cost only their own
compilation. When an operator cannot be compiled, the very same loop runs as Python
(``python_mode``): slower, flagged in the result, but otherwise identical.

Over 400 lines: the compiled loop with its acceptance and operator-selection kernels, plus
the Python driver that builds the typed operator lists; not split yet.
"""

from __future__ import annotations

import functools
import os
import time
from collections import namedtuple
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import njit, types
from numba.typed import List

from ..instance import RoutingInstance
from ..problem import get_problem
from ..verify import verify
from .config import LNSConfig
from .construction import insertion_solution, savings_solution
from .local_search import GRANULARITY, descend, local_search, reverse_neighbours
from .signatures import ROLES, compile_operator, function_type, layout_of
from .state import (
    compact,
    copy_solution,
    make_inst,
    new_solution,
    to_routes,
    total_cost,
    total_excess,
    unassigned_count,
)

Params = namedtuple(
    "Params",
    "time_limit max_iters seed acceptance t_start t_end rrt0 segment reaction s_best s_better"
    " s_accept lo_remove hi_remove use_ls penalty0 target epoch0 reheat",
)

#: Columns of the per-operator statistics arrays.
#: ``gain`` sums the drop of the penalised objective over the iterations that improved on the
#: current solution: the magnitude behind ``improved``, which credit assignment needs.
STAT_COLUMNS = ("chosen", "improved", "new_best", "accepted", "seconds", "gain")
#: Columns of the destroy x repair pair arrays (same meaning as above).
PAIR_COLUMNS = ("chosen", "gain")
TRACE_CAPACITY = 20000
#: Status codes the loop returns.
OK, BAD_DESTROY, BAD_REPAIR, BAD_IMPROVE = 0, 1, 2, 3
MAX_LS_MOVES = 100_000


@njit(cache=True)
def _now():
    with numba.objmode(t="float64"):
        t = time.perf_counter()
    return t


@njit(cache=True)
def _roulette(weights):
    total = 0.0
    for w in weights:
        total += w
    x = np.random.random() * total
    for i in range(weights.shape[0]):
        x -= weights[i]
        if x <= 0.0:
            return i
    return weights.shape[0] - 1


@njit(cache=True)
def _search(
    inst, cur, cand, best, destroys, repairs, improves, p, wd, wr, sd, sr, pair, trace, out
):
    """The LNS loop. ``out`` receives [iterations, n_trace, best, penalty, status, op, ls_s, secs].

    ``pair[d, r]`` receives the uses and gain of each destroy/repair combination.

    ``cur`` holds the start solution; ``best`` receives the best feasible solution.
    """
    np.random.seed(p.seed)
    n = inst.n
    removed = np.zeros(n + 1, dtype=np.int64)
    ls_k = min(GRANULARITY, inst.neighbors.shape[1])
    rptr, ridx = reverse_neighbours(inst, ls_k)
    nd = len(destroys)
    nr = len(repairs)
    seg_score_d = np.zeros(nd)
    seg_use_d = np.zeros(nd)
    seg_score_r = np.zeros(nr)
    seg_use_r = np.zeros(nr)
    pen = p.penalty0
    cur_f = total_cost(cur) + pen * total_excess(inst, cur)
    best_cost = np.inf
    if total_excess(inst, cur) <= 1e-9:
        copy_solution(cur, best)
        best_cost = total_cost(cur)
    n_trace = 0
    t0 = _now()
    if best_cost < np.inf:
        trace[0, 0] = 0.0
        trace[0, 1] = 0.0
        trace[0, 2] = best_cost
        n_trace = 1
    feas = 0
    window = 0
    ls_time = 0.0
    status = OK
    bad_op = -1
    it = 0
    ep_start = 0  # anytime schedule (p.epoch0 > 0): this epoch's first iteration,
    ep_len = p.epoch0  # its length (doubling), and its start temperature
    ep_t0 = p.t_start
    log_ratio = np.log(p.t_end / ep_t0)
    while True:
        if p.max_iters >= 0 and it >= p.max_iters:
            break
        elapsed = _now() - t0
        if elapsed >= p.time_limit:
            break
        progress = 0.0
        if p.epoch0 > 0:
            if it - ep_start >= ep_len:
                ep_start = it
                ep_len *= 2
                ep_t0 = max(p.t_end, p.t_start * p.reheat)
                log_ratio = np.log(p.t_end / ep_t0)
                if best_cost < np.inf:  # each epoch anneals from the best solution so far
                    copy_solution(best, cur)
                    cur_f = total_cost(cur) + pen * total_excess(inst, cur)
            progress = (it - ep_start) / ep_len
        else:
            if p.time_limit < np.inf:
                progress = elapsed / p.time_limit
            if p.max_iters > 0:
                progress = max(progress, it / p.max_iters)
        d = _roulette(wd)
        r = _roulette(wr)
        copy_solution(cur, cand)
        k_max = p.lo_remove + np.random.randint(0, p.hi_remove - p.lo_remove + 1)
        ta = _now()
        k = destroys[d](inst, cand, k_max, removed)
        tb = _now()
        if k < 0 or k > n:
            status = BAD_DESTROY
            bad_op = d
            break
        repairs[r](inst, cand, removed, k, pen)
        tc = _now()
        sd[d, 4] += tb - ta
        sr[r, 4] += tc - tb
        if unassigned_count(cand) > 0:
            status = BAD_REPAIR
            bad_op = r
            break
        if p.use_ls:
            descend(inst, cand, pen, removed, k, MAX_LS_MOVES, ls_k, rptr, ridx)
        for i in range(len(improves)):
            improves[i](inst, cand, pen)
            if unassigned_count(cand) > 0:
                status = BAD_IMPROVE
                bad_op = i
                break
        if status != OK:
            break
        compact(cand)
        ls_time += _now() - tc
        dist_c = total_cost(cand)
        exc = total_excess(inst, cand)
        f_c = dist_c + pen * exc
        feasible = exc <= 1e-9
        score = 0.0
        sd[d, 0] += 1
        sr[r, 0] += 1
        pair[d, r, 0] += 1
        if f_c < cur_f - 1e-9:
            sd[d, 1] += 1
            sr[r, 1] += 1
            sd[d, 5] += cur_f - f_c
            sr[r, 5] += cur_f - f_c
            pair[d, r, 1] += cur_f - f_c
        if feasible and dist_c < best_cost - 1e-9:
            best_cost = dist_c
            copy_solution(cand, best)
            score = p.s_best
            sd[d, 2] += 1
            sr[r, 2] += 1
            j = min(n_trace, trace.shape[0] - 1)
            trace[j, 0] = _now() - t0
            trace[j, 1] = it + 1
            trace[j, 2] = dist_c
            n_trace = j + 1
        if p.acceptance == 0:
            temp = ep_t0 * np.exp(log_ratio * progress)
            accept = f_c < cur_f or np.random.random() < np.exp((cur_f - f_c) / temp)
        else:
            ref = best_cost if best_cost < np.inf else cur_f
            accept = f_c <= ref * (1.0 + p.rrt0 * (1.0 - progress))
        if accept:
            if score == 0.0:
                score = p.s_better if f_c < cur_f - 1e-9 else p.s_accept
            sd[d, 3] += 1
            sr[r, 3] += 1
            copy_solution(cand, cur)
            cur_f = f_c
        seg_score_d[d] += score
        seg_use_d[d] += 1
        seg_score_r[r] += score
        seg_use_r[r] += 1
        it += 1
        if it % p.segment == 0:
            for i in range(nd):
                if seg_use_d[i] > 0:
                    wd[i] = (1 - p.reaction) * wd[i] + p.reaction * seg_score_d[i] / seg_use_d[i]
                    wd[i] = max(wd[i], 0.05)
                seg_score_d[i] = 0.0
                seg_use_d[i] = 0.0
            for i in range(nr):
                if seg_use_r[i] > 0:
                    wr[i] = (1 - p.reaction) * wr[i] + p.reaction * seg_score_r[i] / seg_use_r[i]
                    wr[i] = max(wr[i], 0.05)
                seg_score_r[i] = 0.0
                seg_use_r[i] = 0.0
        feas += 1 if feasible else 0
        window += 1
        if window == 100:
            frac = feas / window
            if frac < p.target - 0.05:
                pen = min(pen * 1.25, 1e9)
            elif frac > p.target + 0.05:
                pen = max(pen * 0.85, 1e-6)
            feas = 0
            window = 0
            cur_f = total_cost(cur) + pen * total_excess(inst, cur)
    out[0] = it
    out[1] = n_trace
    out[2] = best_cost
    out[3] = pen
    out[4] = status
    out[5] = bad_op
    out[6] = ls_time
    out[7] = _now() - t0


@dataclass
class Operator:
    """An operator of one role: a name and a Python function with the role's signature."""

    name: str
    func: object


@dataclass
class LNSResult:
    """What a run returns. ``cost`` is recomputed by the trusted verifier from ``routes``."""

    routes: list[list[int]]
    cost: float
    iterations: int
    elapsed: float
    trace: np.ndarray
    destroy_stats: dict[str, dict[str, float]]
    repair_stats: dict[str, dict[str, float]]
    python_mode: bool = False
    compile_errors: dict[str, str] = field(default_factory=dict)
    status: str = "ok"
    local_search_seconds: float = 0.0
    final_penalty: float = 0.0
    #: ``pair_stats[d, r]``: :data:`PAIR_COLUMNS` of destroy ``d`` with repair ``r`` (pool order).
    pair_stats: np.ndarray | None = None

    @property
    def stats(self) -> dict[str, dict[str, dict[str, float]]]:
        return {"destroy": self.destroy_stats, "repair": self.repair_stats}


class OperatorError(RuntimeError):
    """An operator broke the engine's contract (e.g. left customers unassigned)."""


def _registry(role: str) -> dict:
    from ..operators.registry import REGISTRIES

    return REGISTRIES[role]


def as_operators(ops, role: str, problem: str) -> list[Operator]:
    """Operator records for a pool given as registry names, functions or records.

    ``None`` is the problem's default seed pool for ``role``. Shared by :func:`run_lns` and the
    OR-Tools operator (:mod:`ahd.problems.ortools_model`), so both accept the same pools.
    """
    if ops is None:
        names = get_problem(problem).pools.as_dict().get(role, ())
        return [Operator(name, _registry(role)[name]) for name in names]
    out = []
    for op in ops:
        if isinstance(op, Operator):
            out.append(op)
        elif isinstance(op, str):
            reg = _registry(role)
            if op not in reg:
                raise ValueError(f"unknown {role} operator {op!r}; known: {sorted(reg)}")
            out.append(Operator(op, reg[op]))
        else:
            func = getattr(op, "py_func", op)
            out.append(Operator(getattr(func, "__name__", "op"), func))
    return out


def compile_pool(ops: list[Operator], role: str, errors: dict[str, str],
                 layout: str = "matrix") -> list:
    """Each operator compiled against its role's signature for ``layout`` (memoised per
    function and layout).

    An operator numba cannot compile comes back as its Python function, with the reason in
    ``errors[f"{role}:{name}"]``; callers decide whether plain Python is acceptable.
    """
    compiled = []
    for op in ops:
        fn, err = _compiled_cache.get((role, layout, op.func), (None, None))
        if fn is None:
            fn, err = compile_operator(op.func, role, cache=_cacheable(op.func), layout=layout)
            _compiled_cache[(role, layout, op.func)] = (fn, err)
        if err is not None:
            errors[f"{role}:{op.name}"] = err
        compiled.append(fn)
    return compiled


_compiled_cache: dict = {}


def compile_error(role: str, func: object) -> str | None:
    """Why numba could not compile operator ``func`` of ``role`` in this process (it then ran
    as plain Python), or ``None`` if it compiled or was never tried."""
    for layout in ("matrix", "coords"):
        err = _compiled_cache.get((role, layout, func), (None, None))[1]
        if err is not None:
            return err
    return None


@functools.cache
def _pusher(role: str, layout: str):
    """An eagerly typed ``lst.append(f)`` for the role's function type.

    ``typed.List.append`` called from Python compiles a specialisation for the *dispatcher's*
    own type, about a second per new operator; with the argument declared as the role's
    first-class function type the dispatcher is only converted (its address taken), so adding
    an evolved operator to a pool costs microseconds.
    """
    ftype = function_type(role, layout)

    @njit(types.void(types.ListType(ftype), ftype), cache=True)
    def push(lst, f):
        lst.append(f)

    return push


for _role in ROLES:  # the matrix layout's pushers are always needed: compile them up front
    _pusher(_role, "matrix")


def _cacheable(func) -> bool:
    """Numba can cache code that lives in a file; source compiled from a string cannot."""
    code = getattr(func, "__code__", None)
    return code is not None and os.path.isfile(code.co_filename)


def _params(config: LNSConfig, start_cost: float, n: int, nroutes: int, inst) -> Params:
    arc = start_cost / max(1, n + nroutes)
    if arc <= 0:
        arc = 1.0
    max_demand = float(inst.demand.max()) if inst.demand.max() > 0 else 1.0
    penalty0 = float(np.clip(inst.dist.max() / max_demand, 1e-3, 1e6))
    hi = max(1, min(n, config.max_remove, int(np.ceil(config.max_remove_fraction * n))))
    lo = max(1, min(config.min_remove, hi))
    return Params(
        float(config.time_limit) if config.time_limit is not None else np.inf,
        int(config.iterations) if config.iterations is not None else -1,
        int(config.seed),
        0 if config.acceptance == "sa" else 1,
        config.start_temp * arc,
        config.end_temp * arc,
        float(config.rrt_threshold),
        int(config.segment),
        float(config.reaction),
        float(config.scores[0]),
        float(config.scores[1]),
        float(config.scores[2]),
        int(lo),
        int(hi),
        bool(config.local_search),
        penalty0,
        float(config.penalty_target),
        int(config.epoch_iterations(n)) if config.uses_anytime(n) else 0,
        float(config.reheat),
    )


@njit(cache=True)
def seed_numba_rng(seed):
    """Seed numba's own global RNG, which compiled operators draw from."""
    np.random.seed(seed)


def run_lns(
    instance: RoutingInstance,
    config: LNSConfig,
    destroy=None,
    repair=None,
    improve=None,
    initial_routes: list[list[int]] | None = None,
) -> LNSResult:
    """Run the adaptive LNS on ``instance`` and return the verified best solution.

    Parameters
    ----------
    destroy, repair, improve
        Operator pools: names from the registry, Python functions with the role's signature,
        or :class:`Operator` records. ``None`` takes the problem's default seed pool (and no
        extra improvement operator).
    initial_routes
        Start from these routes (e.g. an OR-Tools solution) instead of cheapest insertion.
    """
    problem = instance.kind
    dops = as_operators(destroy, "destroy", problem)
    rops = as_operators(repair, "repair", problem)
    iops = as_operators(improve, "improve", problem)
    if not dops or not rops:
        raise ValueError("need at least one destroy and one repair operator")
    errors: dict[str, str] = {}
    inst = make_inst(instance)
    layout = layout_of(inst)
    dfun = compile_pool(dops, "destroy", errors, layout)
    rfun = compile_pool(rops, "repair", errors, layout)
    ifun = compile_pool(iops, "improve", errors, layout)
    python_mode = bool(errors) or bool(numba.config.DISABLE_JIT)

    cur = new_solution(inst)
    cand = new_solution(inst)
    best = new_solution(inst)
    seed_numba_rng(config.seed)
    np.random.seed(config.seed)
    if initial_routes is not None:
        verify(instance, initial_routes)
        from .state import from_routes

        cur = from_routes(inst, initial_routes)
    elif not (config.uses_savings(instance.n, int(inst.max_routes))
              and savings_solution(inst, cur, int(cur.routes.shape[1]))):
        insertion_solution(inst, cur, 1e9 * max(1.0, float(inst.dist.max())))
    if (config.uses_decomposition(instance.n, instance.coords is not None)
            and int(cur.nroutes[0]) > 1  # routes to divide (not the TSP's one tour)
            and float(total_excess(inst, cur)) <= 1e-9):  # a feasible start to improve
        penalty = 1e9 * max(1.0, float(inst.dist.max()))
        no_seeds = np.zeros(1, dtype=np.int64)
        local_search(inst, cur, penalty, no_seeds, 0, 0)  # compiles only: not timed
        t0 = time.perf_counter()
        if config.local_search:  # one descent of the whole first: sub-problems then start
            local_search(inst, cur, penalty, no_seeds, 0, 1 << 40)  # from its optimum
        from .decompose import run_decomposed

        return run_decomposed(instance, config, (dops, rops, iops), to_routes(cur),
                              time.perf_counter() - t0, python_mode, errors)
    start_cost = float(total_cost(cur))
    params = _params(config, start_cost, instance.n, int(cur.nroutes[0]), inst)

    wd = np.ones(len(dops))
    wr = np.ones(len(rops))
    sd = np.zeros((len(dops), len(STAT_COLUMNS)))
    sr = np.zeros((len(rops), len(STAT_COLUMNS)))
    pair = np.zeros((len(dops), len(rops), len(PAIR_COLUMNS)))
    trace = np.zeros((TRACE_CAPACITY, 3))
    out = np.zeros(8)
    if python_mode:
        d_list, r_list, i_list = list(dfun), list(rfun), list(ifun)
        search = getattr(_search, "py_func", _search)  # plain function under DISABLE_JIT
    else:
        d_list = List.empty_list(function_type("destroy", layout))
        r_list = List.empty_list(function_type("repair", layout))
        i_list = List.empty_list(function_type("improve", layout))
        for role, lst, funcs in (
            ("destroy", d_list, dfun), ("repair", r_list, rfun), ("improve", i_list, ifun)
        ):
            for f in funcs:
                _pusher(role, layout)(lst, f)
        search = _search
    search(
        inst, cur, cand, best, d_list, r_list, i_list, params, wd, wr, sd, sr, pair, trace, out
    )
    elapsed = float(out[7])  # measured inside the loop: excludes numba's first compilation
    status_code = int(out[4])
    if status_code != OK:
        role, ops = {
            BAD_DESTROY: ("destroy", dops), BAD_REPAIR: ("repair", rops),
            BAD_IMPROVE: ("improve", iops),
        }[status_code]
        name = ops[int(out[5])].name
        raise OperatorError(
            f"{role} operator {name!r} broke the contract"
            + (" (returned a removal count outside 0..n)" if role == "destroy"
               else " (left customers unassigned)")
        )
    if not np.isfinite(out[2]):
        raise OperatorError("no feasible solution found")
    routes = to_routes(best)
    cost = verify(instance, routes)
    n_trace = int(out[1])

    def stats(ops, arr):
        return {
            op.name: dict(zip(STAT_COLUMNS, map(float, arr[i]), strict=True))
            for i, op in enumerate(ops)
        }

    return LNSResult(
        routes=routes,
        cost=cost,
        iterations=int(out[0]),
        elapsed=elapsed,
        trace=trace[:n_trace].copy(),
        destroy_stats=stats(dops, sd),
        repair_stats=stats(rops, sr),
        python_mode=python_mode,
        compile_errors=errors,
        local_search_seconds=float(out[6]),
        final_penalty=float(out[3]),
        pair_stats=pair,
    )
