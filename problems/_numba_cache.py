"""Drop stale numba caches when any engine or operator source changes.

numba keys a cached function by its own file only, so the compiled search loop would keep an
old copy of the local search (or of a state primitive it inlines) after that other file
changes. Hashing all engine and operator sources together and clearing every cache of those
packages on a mismatch makes ``cache=True`` safe across edits and upgrades; it costs well under
a millisecond per process.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_PACKAGES = ("engine", "operators")
_MARKER = ".numba-sources"


def clear_stale_caches(root: Path | None = None) -> bool:
    """Clear the numba caches of the engine and operators if their sources changed.

    Returns True when caches were cleared. Read-only installs are left alone.
    """
    root = root or Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for pkg in _PACKAGES:
        for src in sorted((root / pkg).glob("*.py")):
            digest.update(src.name.encode())
            digest.update(src.read_bytes())
    stamp = digest.hexdigest()
    marker = root / "engine" / "__pycache__" / _MARKER
    try:
        if marker.read_text() == stamp:
            return False
    except OSError:
        pass
    try:
        for pkg in _PACKAGES:
            for pattern in ("*.nbi", "*.nbc"):
                for f in (root / pkg / "__pycache__").glob(pattern):
                    f.unlink(missing_ok=True)
        marker.parent.mkdir(exist_ok=True)
        marker.write_text(stamp)
    except OSError:
        return False
    return True
