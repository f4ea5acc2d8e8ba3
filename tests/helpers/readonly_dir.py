"""Run an ``ahd`` command on a directory it cannot write to, and check it changed nothing.

Permissions alone do not stop root (it ignores them), and test machines often run as root. So
as root, the command runs in a mount namespace of its own where the directory is bind-mounted
read-only over itself (``unshare -m``; the mount is private to that namespace and goes away
with it): writes there fail with ``EROFS`` even for root. For other users ``chmod`` is enough.
Where neither works (root without the right to make a mount namespace),
:func:`read_only_command` runs the command unchanged and :func:`truly_read_only` says so:
tests still check that nothing changed, but cannot show that nothing *could* have.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

#: ``sh -c`` script: bind-mount ``$1`` read-only over itself, then run the rest of the argv.
_RO_MOUNT = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"'
#: A Python line that runs ``ahd``'s command line with the arguments after it.
AHD = [sys.executable, "-c", "from ahd.cli import app; app()"]


def snapshot(directory: Path) -> dict[str, str]:
    """Every entry under ``directory``: relative path -> SHA-256 of a file's bytes (``dir``
    for a directory), to compare before and after a command."""
    out = {}
    for path in sorted(directory.rglob("*")):
        rel = str(path.relative_to(directory))
        out[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@contextmanager
def read_only(directory: Path) -> Iterator[None]:
    """``chmod`` ``directory`` and the files in it read-only; restored afterwards (so the
    temporary directory can be removed)."""
    modes = {path: stat.S_IMODE(path.stat().st_mode) for path in [directory, *directory.iterdir()]}
    write_bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    try:
        for path, mode in modes.items():
            path.chmod(mode & ~write_bits)
        yield
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def _wrap(directory: Path, argv: list[str]) -> list[str]:
    if os.geteuid() != 0 or not _mount_namespace_works():
        return argv
    return ["unshare", "-m", "sh", "-c", _RO_MOUNT, "sh", str(directory), *argv]


@cache
def _mount_namespace_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = Path(os.environ.get("TMPDIR", "/tmp"))  # any directory: the mount is private
    argv = ["unshare", "-m", "sh", "-c", _RO_MOUNT, "sh", str(probe), "sh", "-c",
            'test ! -w "$0"', str(probe)]
    try:
        return subprocess.run(argv, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def truly_read_only() -> bool:
    """Whether :func:`read_only_command` really takes the right to write away (see above)."""
    return os.geteuid() != 0 or _mount_namespace_works()


def read_only_command(directory: Path, args: list[str], cwd: Path,
                      timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``ahd ARGS`` with ``directory`` read-only for it (``directory`` should be under
    :func:`read_only` too, for non-root users); wide terminal, so tables are not wrapped."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(_wrap(directory, [*AHD, *args]), cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=timeout)
