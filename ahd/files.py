"""Files a run writes, written so that a reader (or a later run) never sees half of one.

Every file ``ahd`` leaves for others to read (state, summaries, exports, reports, cache
entries) goes through :func:`write_atomic`: a temporary file in the same folder, flushed to
disk, then renamed over the target. A run killed mid-write, or a full disk, leaves the old file
or none, never a truncated one; the temporary file is removed on any failure.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: str | bytes, *, shared: bool = False
                 ) -> Path:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` atomically; return the path.

    Parameters
    ----------
    shared
        Give the file the permissions the umask allows (``mkstemp`` makes it private), for
        files meant to be read by others, such as reports and exports.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        if shared:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
