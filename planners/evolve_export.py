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

#: The header comment by which an exported heuristic names the search it was evolved for
#: (a name of ``ahd plan-eval``'s ``ahd:FILE.py:SEARCH``), read by :func:`declared_search`.
SEARCH_TAG = "# ahd-search: "
#: Header lines :func:`declared_search` reads at most (the tag sits in the provenance block).
HEADER_LINES = 40


def search_name(search: str, lazy: bool, preferred: bool, landmarks: bool) -> str:
    """The ``ahd:FILE.py:SEARCH`` name of a planning task's search settings."""
    if search != "gbfs":
        return search
    return {(False, False, False): "eager", (True, False, False): "lazy",
            (True, True, False): "lazy-pref", (True, True, True): "lama",
            (False, False, True): "lm", (True, False, True): "lazy-lm"}[
        (lazy, preferred, landmarks)]


def declared_search(path: str | os.PathLike[str]) -> str | None:
    """The search a heuristic file says it was evolved for (its ``# ahd-search:`` line among
    the first :data:`HEADER_LINES`), or ``None``; an unreadable file declares none."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for _, line in zip(range(HEADER_LINES), fh, strict=False):
                if line.startswith(SEARCH_TAG):
                    return line[len(SEARCH_TAG):].strip() or None
    except OSError:
        return None
    return None


def export_heuristic(source: str, out_dir: str | os.PathLike[str], domain: str,
                     header: list[str], search: str | None = None) -> Path:
    """Write a winning heuristic as a standalone module (atomically); return its path.

    The file is the candidate's source under a provenance comment; it defines ``h`` (and
    maybe ``init``), so ``ahd plan DOMAIN PROBLEM --heuristic FILE`` and
    :func:`ahd.planners.load_heuristic` take it as it is. ``search`` (a
    :func:`search_name`) is written as the :data:`SEARCH_TAG` line, so that ``ahd plan-eval``
    runs the heuristic with the search it was evolved for.
    """
    digest = hashlib.sha256(source.encode()).hexdigest()[:8]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# " + "-" * 98, f"# Exported by ahd evolve on {stamp}."]
    lines += [f"# {h}" for h in header]
    if search is not None:
        lines.append(SEARCH_TAG + search)
    lines += ["# Usage:", "#   ahd plan DOMAIN.pddl PROBLEM.pddl --heuristic THIS_FILE.py",
              "#   ahd.planners.solve(domain, problem, heuristic='THIS_FILE.py')",
              "# " + "-" * 98, ""]
    text = "\n".join(lines) + "\n" + source.rstrip() + "\n"
    compile(text, "heuristic.py", "exec")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"planning_{re.sub(r'[^A-Za-z0-9_-]+', '_', domain)}_{digest}.py"
    return write_atomic(path, text, shared=True)
