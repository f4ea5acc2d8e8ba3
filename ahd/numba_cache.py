"""Drop stale numba caches when any source of a group of compiled packages changes.

numba keys a cached function by its own file only, so a compiled loop keeps an old copy of a
function it calls from another file (the routing engine's local search, the planner's h_FF
inside its search kernel) after that other file changes. Hashing all sources of the packages
together and clearing every cache of those packages on a mismatch makes ``cache=True`` safe
across edits and upgrades; it costs well under a millisecond per process. Each application
calls :func:`clear_stale_caches` for its own packages when it is imported.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_MARKER = ".numba-sources"


def cache_dirs(root: Path, pkg: str) -> list[Path]:
    """Where numba caches ``root/pkg``'s functions (``pkg`` may be ``"."``): next to the
    sources, and, when
    ``NUMBA_CACHE_DIR`` is set (sandbox workers compiling with bounds checks set it, see
    :func:`ahd.sandbox.environment.checked_cache_dir`), numba's mirror of that folder there."""
    source_dir = os.path.abspath(root / pkg)
    dirs = [Path(source_dir) / "__pycache__"]
    user = os.environ.get("NUMBA_CACHE_DIR")
    if user:
        digest = hashlib.sha1(source_dir.encode()).hexdigest()  # numba's own naming
        dirs.append(Path(user) / f"{os.path.basename(source_dir)}_{digest}")
    return dirs


def clear_stale_caches(root: Path, packages: tuple[str, ...]) -> bool:
    """Clear the numba caches of ``root``'s ``packages`` (folders, ``"."`` for ``root``
    itself) if any of their sources changed since the caches were written.

    Each cache location keeps its own marker, so the bounds-checked cache of sandbox workers
    is cleared as well as the package's own. Returns True when caches were cleared. Read-only
    locations are left alone.
    """
    digest = hashlib.sha256()
    for pkg in packages:
        for src in sorted((root / pkg).glob("*.py")):
            digest.update(src.name.encode())
            digest.update(src.read_bytes())
    stamp = digest.hexdigest()
    cleared = False
    for location in range(len(cache_dirs(root, packages[0]))):
        dirs = [cache_dirs(root, pkg)[location] for pkg in packages]
        marker = dirs[0] / _MARKER
        try:
            if marker.read_text() == stamp:
                continue
        except OSError:
            pass
        try:
            for folder in dirs:
                for pattern in ("*.nbi", "*.nbc"):
                    for f in folder.glob(pattern):
                        f.unlink(missing_ok=True)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(stamp)
        except OSError:
            continue
        cleared = True
    return cleared
