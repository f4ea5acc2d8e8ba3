"""Export a winning priority function as a self-contained module, and load one back.

The exported file is the candidate's source under a provenance comment (run, candidate,
scores, proposer, code hash), preceded by the imports of the names the evaluation provides
(``np``, ``math``) when the candidate used them without importing. It defines
``priority(item, bins)``, so it works both with this package's compiled engine
(:func:`load_priority` + :func:`ahd_binpacking.engine.pack`) and in any FunSearch-style
evaluator that calls it from Python.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from ahd.static_check import free_names

from .engine import CompiledPriority, compile_priority

_IMPORTS = {"np": "import numpy as np", "numpy": "import numpy", "math": "import math"}

USAGE = [
    "from ahd_binpacking import load_priority, pack, weibull_5k",
    "priority = load_priority('THIS_FILE.py')   # compiled with numba",
    "inst = weibull_5k()[0]",
    "packing = pack(inst.items, inst.capacity, priority)   # packing.n_bins",
]


def export_priority(source: str, out_dir: str | os.PathLike[str], header: Sequence[str],
                    stem: str = "binpacking") -> Path:
    """Write ``source`` as ``OUT_DIR/STEM_<hash>.py`` (atomically) and return the path.

    Raises
    ------
    SyntaxError
        When the resulting file does not compile (it is checked before it is written).
    """
    digest = hashlib.sha256(source.encode()).hexdigest()[:8]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# " + "-" * 78, f"# Exported by ahd evolve (problem binpacking) on {stamp}."]
    lines += [f"# {h}" for h in header]
    lines += ["# Usage:"] + [f"#   {u}" for u in USAGE] + ["# " + "-" * 78, ""]
    needed = sorted(_IMPORTS[name] for name in free_names(source) if name in _IMPORTS)
    body = ("\n".join(needed) + "\n\n" if needed else "") + source.rstrip() + "\n"
    text = "\n".join(lines) + "\n" + body
    compile(text, "priority.py", "exec")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{re.sub(r'[^A-Za-z0-9_-]+', '_', stem)}_{digest}.py"
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".export-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
    return path


def load_priority(path: str | os.PathLike[str]) -> CompiledPriority:
    """Compile the ``priority`` of a module file *in this process* (trusted files only).

    Raises
    ------
    ahd_binpacking.engine.PriorityCompileError
        When numba cannot compile it.
    """
    return compile_priority(Path(path).read_text(encoding="utf-8"))


__all__ = ["USAGE", "export_priority", "load_priority"]
