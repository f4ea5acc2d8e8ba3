"""What a planning run leaves behind: the winner as a standalone heuristic file.

The file runs without the evolution machinery: ``ahd plan --heuristic FILE`` and
:func:`ahd.planners.load_heuristic` take it as it is.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from ahd.files import write_atomic


def export_heuristic(source: str, out_dir: str | os.PathLike[str], domain: str,
                     header: list[str]) -> Path:
    """Write a winning heuristic as a standalone module (atomically); return its path.

    The file is the candidate's source under a provenance comment; it defines ``h`` (and
    maybe ``init``), so ``ahd plan DOMAIN PROBLEM --heuristic FILE`` and
    :func:`ahd.planners.load_heuristic` take it as it is.
    """
    digest = hashlib.sha256(source.encode()).hexdigest()[:8]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# " + "-" * 98, f"# Exported by ahd evolve on {stamp}."]
    lines += [f"# {h}" for h in header]
    lines += ["# Usage:", "#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py",
              "#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')",
              "# " + "-" * 98, ""]
    text = "\n".join(lines) + "\n" + source.rstrip() + "\n"
    compile(text, "heuristic.py", "exec")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"planning_{re.sub(r'[^A-Za-z0-9_-]+', '_', domain)}_{digest}.py"
    return write_atomic(path, text, shared=True)
