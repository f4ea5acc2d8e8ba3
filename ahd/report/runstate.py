"""Is a run still going on? Finished, running, or killed, decided without writing anything.

A killed ``ahd evolve`` leaves its store saying ``running``, exactly like a live one, so the
store's status alone cannot tell them apart. SQLite can: in WAL mode every open connection holds
a shared POSIX lock on one byte of the ``-shm`` file (the "DMS" slot) for as long as it is open,
and the kernel drops the lock when the process dies. Asking the kernel who holds that byte
(``F_GETLK``) therefore says whether some process has the store open, and which, without taking
any lock and without touching the file.
"""

from __future__ import annotations

import fcntl
import os
import struct
from pathlib import Path

from .model import RunStatus

#: Byte of the ``-shm`` file on which every connection holds a shared lock (SQLite's
#: ``UNIX_SHM_DMS``: 120 bytes of header plus 8 lock slots).
SHM_DMS_OFFSET = 128
#: ``struct flock`` on Linux: l_type, l_whence, (pad), l_start, l_len, l_pid, (pad).
_FLOCK = "hhxxxxqqi4x"


def store_holder(db_path: Path) -> int | None:
    """Pid of a process that has the SQLite store open, ``None`` when no process has.

    Must be called before this process opens the store itself: POSIX locks are per process,
    and closing the probe's descriptor would drop a connection's locks held by this process.

    Raises
    ------
    OSError
        When the kernel cannot be asked (another operating system, no permission).
    """
    shm = Path(f"{db_path}-shm")
    if not shm.exists():
        return None  # nobody opened the store in WAL mode since it was last closed cleanly
    fd = os.open(shm, os.O_RDONLY)
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, SHM_DMS_OFFSET, 1, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
    finally:
        os.close(fd)
    lock_type, _, _, _, pid = struct.unpack(_FLOCK, answer)
    if lock_type == fcntl.F_UNLCK:
        return None
    return pid if pid > 0 else -1  # -1: held from another pid namespace


def probe(db_path: Path) -> tuple[int | None, str | None]:
    """:func:`store_holder`, with the reason instead of an exception when it cannot tell."""
    try:
        return store_holder(db_path), None
    except OSError as exc:
        return None, str(exc)


def run_status(
    store_status: str, has_summary: bool, holder: int | None, probe_error: str | None = None
) -> RunStatus:
    """Classify a run from its store's status, ``summary.json`` and the store's lock holder.

    Parameters
    ----------
    store_status
        ``runs.status`` of the run (``running``, ``finished``, ``failed``, ``interrupted``).
    has_summary
        Whether ``summary.json`` exists: ``ahd evolve`` writes it last.
    holder, probe_error
        What :func:`probe` found before the store was opened by this process.
    """
    if store_status == "finished":
        if has_summary:
            return RunStatus("finished", "the store says finished and summary.json is written")
        return RunStatus("finished", "the store says finished, but summary.json is missing "
                                     "(stopped while writing the summary?)")
    if store_status in ("interrupted", "failed"):
        return RunStatus(store_status, f"the store says {store_status}; resume with "
                                       "ahd evolve --resume RUN_DIR")
    if probe_error is not None:
        return RunStatus("unknown", f"the store says {store_status}, and whether a process "
                                    f"still has it open cannot be checked here ({probe_error})")
    if holder is None:
        return RunStatus("killed", f"the store says {store_status} but no process has it "
                                   "open, so the run was killed; resume it with ahd evolve "
                                   "--resume RUN_DIR")
    who = f"process {holder}" if holder > 0 else "a process"
    return RunStatus("running", f"{who} has the store open: the run is going on")
