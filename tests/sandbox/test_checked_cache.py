"""Bounds-checked code compiled by sandbox workers never reaches trusted processes' cache.

numba's on-disk cache does not key on ``NUMBA_BOUNDSCHECK``. Workers compile with bounds
checks, so a worker warming up a module with a cold cache used to write checked machine code
next to the module's source; every later trusted process then loaded it (the LNS engine ran
about 1.8x slower in ``ahd solve`` and the benchmarks after any sandboxed run). Workers now
cache under their own directory.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ahd.sandbox import SandboxPool

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the sandbox needs fork()")

MODULE = """
import numba
import numpy as np


@numba.njit(cache=True)
def get(a, i):
    return a[i]


def warm():
    get(np.zeros(2), 0)
"""

#: a[2] on a two-element view of a larger buffer: IndexError with bounds checks, else a read
#: inside the buffer.
PROBE = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import bcmod
try:
    bcmod.get(np.zeros(8)[:2], 2)
    print("unchecked", bcmod.get.stats.cache_hits)
except IndexError:
    print("checked", bcmod.get.stats.cache_hits)
"""


def probe(folder) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_BOUNDSCHECK",
                                                            "NUMBA_CACHE_DIR")}
    out = subprocess.run([sys.executable, "-c", PROBE, str(folder)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()[0]


@pytest.mark.timeout(300)
def test_a_workers_checked_compilation_does_not_reach_the_trusted_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = tmp_path / "mod"
    folder.mkdir()
    (folder / "bcmod.py").write_text(MODULE)
    with SandboxPool(1, warmup=f"file:{folder / 'bcmod.py'}:warm", prewarm_numba="none",
                     boundscheck=True) as pool:
        assert pool.run("math:sqrt", (4.0,)).value == 2.0
    assert probe(folder) == "unchecked"  # was "checked": the worker's code, from the cache
    checked = list((tmp_path / "xdg" / "ahd" / "numba-boundscheck").rglob("*.nbi"))
    assert checked, "the worker's checked code was not cached in its own directory"
