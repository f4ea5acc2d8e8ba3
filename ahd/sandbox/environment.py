"""What a worker's environment may hold: no secrets, and one thread per numeric library.

The pool starts its workers with a scrubbed copy of its own environment
(:func:`scrubbed_environ`) and each worker scrubs itself again first thing
(:func:`scrub_environ`), so no API key or token in the parent's environment can be read by a
candidate. :data:`WORKER_ENV` pins numba and the BLAS libraries to one thread, since every
worker runs one candidate at a time on one core.
"""

from __future__ import annotations

import fnmatch
import os
import tempfile

#: Environment variables whose names match these (case-insensitively) never reach a worker.
SECRET_PATTERNS = ("*KEY*", "*TOKEN*", "*SECRET*", "*PASSWORD*", "*PASSWD*", "*CREDENTIAL*")

#: Set in every worker before numpy or numba is imported.
WORKER_ENV = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def is_secret(name: str, extra: tuple[str, ...] = ()) -> bool:
    """Whether variable ``name`` matches :data:`SECRET_PATTERNS` or ``extra``."""
    upper = name.upper()
    return any(fnmatch.fnmatchcase(upper, p.upper()) for p in (*SECRET_PATTERNS, *extra))


def scrubbed_environ(environ: dict[str, str], extra: tuple[str, ...] = ()) -> dict[str, str]:
    """A copy of ``environ`` without secret-looking variables (``extra``: more names/patterns)."""
    return {k: v for k, v in environ.items() if not is_secret(k, extra)}


def scrub_environ(extra: tuple[str, ...] = ()) -> None:
    """Remove secret-looking variables from this process's own environment."""
    for name in [k for k in os.environ if is_secret(k, extra)]:
        del os.environ[name]


def checked_cache_dir() -> str:
    """Where sandbox workers keep numba's on-disk cache of code compiled with bounds checks.

    numba's cache key does not include ``NUMBA_BOUNDSCHECK``: a worker that compiled the engine
    with bounds checks into the package's own ``__pycache__`` made every later trusted process
    (``ahd solve``, the benchmarks) load the checked machine code, about 1.8x slower. Workers
    therefore cache under this separate, persistent directory (``NUMBA_CACHE_DIR`` for them
    only): ``$NUMBA_CACHE_DIR/ahd-boundscheck`` when the user set one, else
    ``$XDG_CACHE_HOME/ahd/numba-boundscheck`` (``~/.cache``), else a per-user temp directory.
    """
    user = os.environ.get("NUMBA_CACHE_DIR")
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidates = [os.path.join(user, "ahd-boundscheck")] if user else []
    candidates += [os.path.join(home, "ahd", "numba-boundscheck"),
                   os.path.join(tempfile.gettempdir(), f"ahd-numba-boundscheck-{os.getuid()}")]
    for path in candidates:
        try:
            os.makedirs(path, exist_ok=True)
        except OSError:
            continue
        if os.access(path, os.W_OK):
            return path
    return candidates[-1]
