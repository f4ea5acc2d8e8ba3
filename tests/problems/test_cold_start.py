"""What a first search compiles with an empty numba cache: only what its run uses, once.

A fresh install pays numba's compilation of everything the first ``ahd solve`` reaches
(``benchmarks/cold_start.py`` times it). These tests pin down the habits that keep that
bill down, by what numba actually compiles in a process whose on-disk cache starts empty:
each engine kernel one signature (no copies specialised on literal arguments that never
run), no string-formatting machinery for error messages the engine cannot raise, and no
operator outside the run's pools.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from numba.core.dispatcher import Dispatcher

from ahd.problems.engine import local_search

#: Runs a tiny search with one destroy and one repair operator and prints, as JSON, every
#: function numba compiled (module, qualified name, argument types, dispatcher id).
CHILD = """
import json
import numpy as np
from numba.core import event

compiled = []


class Recorder(event.Listener):
    def on_start(self, ev):
        dispatcher = ev.data["dispatcher"]
        f = dispatcher.py_func
        compiled.append([f.__module__, f.__qualname__, str(ev.data["args"]), id(dispatcher)])

    def on_end(self, ev):
        pass


event.register("numba:compile", Recorder())
from ahd.problems.engine.config import LNSConfig
from ahd.problems.engine.lns import run_lns
from ahd.problems.generators import x_cvrp

result = run_lns(x_cvrp(5, np.random.default_rng(0)), LNSConfig(iterations=30, seed=0),
                 destroy=["random_removal"], repair=["greedy_repair"])
print(json.dumps({"compiled": compiled, "cost": result.cost}))
"""


@pytest.fixture(scope="module")
def cold_compile(tmp_path_factory):
    """What the child compiled, with ``NUMBA_CACHE_DIR`` a new empty folder (a cold start)."""
    cache = tmp_path_factory.mktemp("numba-cache")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    proc = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert list(cache.rglob("*.nbc")), "the child did not use the empty cache folder"
    return {**out, "cache": cache}


@pytest.mark.slow
def test_every_engine_kernel_is_compiled_for_one_signature(cold_compile):
    # by dispatcher: one closure per role (lns's list pushers) or an object-mode block shares
    # its function's name, but is a dispatcher of its own
    seen: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    for module, name, args, dispatcher in cold_compile["compiled"]:
        if module.startswith("ahd.problems.engine."):
            seen.setdefault(dispatcher, []).append(args)
            names[dispatcher] = f"{module}.{name}"
    assert "ahd.problems.engine.local_search._add" in names.values()  # the search compiled
    repeated = {names[d]: sigs for d, sigs in seen.items() if len(sigs) > 1}
    assert repeated == {}


@pytest.mark.slow
def test_no_string_machinery_is_compiled(cold_compile):
    # numba compiles int-to-str and string concatenation only to build error messages (e.g.
    # the shape mismatch of a slice assignment); the engine's kernels need none of them.
    strings = [(m, n) for m, n, _, _ in cold_compile["compiled"]
               if m.startswith("numba.cpython.unicode") or "str_generic" in n
               or "repr_generic" in n]
    assert strings == []


@pytest.mark.slow
def test_only_the_pools_operators_are_compiled(cold_compile):
    operators = {n for m, n, _, _ in cold_compile["compiled"]
                 if m.startswith("ahd.problems.operators.") and not n.startswith("_")}
    assert operators == {"random_removal", "greedy_repair"}


def test_private_local_search_kernels_have_no_python_wrapper():
    kernels = {name: obj for name, obj in vars(local_search).items()
               if isinstance(obj, Dispatcher)}
    private = {name for name in kernels if name.startswith("_")}
    assert {"_scan", "_apply", "_add"} <= private
    with_wrapper = [name for name in private
                    if not kernels[name].targetoptions.get("no_cpython_wrapper")]
    assert with_wrapper == []
    # the public kernels stay callable from Python
    assert not kernels["local_search"].targetoptions.get("no_cpython_wrapper")


#: With the engine cached and the operators not, :func:`compile_in_parallel` compiles the
#: pools in a forked child; this process then runs the same search and prints what it compiled
#: after the child was done.
PARALLEL_PREFIX = """
from ahd.problems.engine.first_run import compile_in_parallel
from ahd.problems.engine.lns import as_operators

forked = compile_in_parallel("cvrp", {
    "destroy": as_operators(["random_removal"], "destroy", "cvrp"),
    "repair": as_operators(["greedy_repair"], "repair", "cvrp")})
compiled.clear()
"""
PARALLEL_CHILD = CHILD.replace("result = run_lns(", PARALLEL_PREFIX + "result = run_lns(").replace(
    '"cost": result.cost', '"cost": result.cost, "forked": forked')


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2 or not hasattr(os, "fork"),
                    reason="the parallel first run needs fork and two CPUs")
def test_a_first_run_compiles_the_operators_in_a_child_with_the_same_result(
        cold_compile, tmp_path):
    cache = cold_compile["cache"]
    for f in [*cache.rglob("destroy.*"), *cache.rglob("repair.*")]:
        f.unlink()  # operators cold again; the engine stays cached
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    proc = subprocess.run([sys.executable, "-c", PARALLEL_CHILD], env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["forked"] is not None  # a child ran (how much it took depends on the load)
    cached = {f.name.split("-")[0] for f in cache.rglob("*.nbi")}
    assert {"destroy.random_removal", "repair.greedy_repair"} <= cached  # the child's work
    # this process loaded the operators from that cache instead of compiling them
    assert [n for m, n, _, _ in out["compiled"] if m.startswith("ahd.problems.operators.")] == []
    assert out["cost"] == cold_compile["cost"]
