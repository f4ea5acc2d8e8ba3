"""Isolation layers applied inside a forked sandbox child, one small function each.

Every function here runs in the child after ``fork()``, raises ``OSError`` when the kernel refuses,
and must not import anything: the worker imports this module (and ``pyseccomp``) before it forks,
so the child only makes system calls.  The order in :func:`lock_down` matters: namespaces and
mounts need capabilities, capabilities go before ``no_new_privs``, Landlock needs ``no_new_privs``,
and seccomp comes last because it forbids some of the calls made before it.

The seccomp layer lives in :mod:`ahd.sandbox.seccomp` (imported here, so the worker still
imports it before forking); its public names can still be imported from this module.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import stat
from dataclasses import dataclass, replace

from ahd.sandbox.seccomp import CLONE_THREAD as CLONE_THREAD
from ahd.sandbox.seccomp import install_seccomp
from ahd.sandbox.seccomp import prepare_seccomp as prepare_seccomp
from ahd.sandbox.seccomp import seccomp_available as seccomp_available

#: Every layer this module knows, in the order ``lock_down`` applies them.
ALL_LAYERS = ("netns", "mountns", "rlimits", "caps", "no_new_privs", "landlock", "seccomp")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int
_libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
_libc.unshare.argtypes = [ctypes.c_int]
_libc.mount.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_char_p,
]

_MACHINE = platform.machine()
# Landlock's numbers are the same on every architecture; capset's are not.
_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(_MACHINE)

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
_CAP_SYS_ADMIN = 1 << 21

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_GET_NO_NEW_PRIVS = 39
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

MS_NOSUID = 2
MS_NODEV = 4
MS_REC = 16384
MS_PRIVATE = 1 << 18

# Landlock access rights (linux/landlock.h) and the ABI version that introduced them.
_LL_FS_EXECUTE = 1 << 0
_LL_FS_WRITE_FILE = 1 << 1
_LL_FS_READ_FILE = 1 << 2
_LL_FS_READ_DIR = 1 << 3
_LL_FS_WRITES_V1 = sum(1 << i for i in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12))
_LL_FS_REFER = 1 << 13  # ABI 2
_LL_FS_TRUNCATE = 1 << 14  # ABI 3
_LL_FS_IOCTL_DEV = 1 << 15  # ABI 5
_LL_NET_ALL = (1 << 0) | (1 << 1)  # bind and connect TCP, ABI 4
_LL_SCOPE_ALL = (1 << 0) | (1 << 1)  # abstract unix sockets and signals, ABI 6
_LL_RULE_PATH_BENEATH = 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _check(ret: int) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(_libc.prctl(option, arg2, arg3, arg4, arg5))


@dataclass(frozen=True)
class ChildLimits:
    """Resource limits for one child, in the units ``setrlimit`` wants."""

    memory_bytes: int
    cpu_seconds: int
    file_bytes: int
    #: ``RLIMIT_NPROC``; None leaves it alone. The kernel ignores it for uid 0, and for other
    #: users it counts threads too, so 0 stops threads as well as fork.
    processes: int | None = 0


# --- the layers -------------------------------------------------------------------------------


def _has_capabilities(mask: int) -> bool:
    """Whether any capability in ``mask`` is effective or permitted (in our user namespace)."""
    with open("/proc/self/status") as f:
        fields = {k: v.strip() for k, _, v in (line.partition(":") for line in f)}
    return bool((int(fields["CapEff"], 16) | int(fields["CapPrm"], 16)) & mask)


def _unshare(flags: int) -> None:
    """``unshare(flags)``; without CAP_SYS_ADMIN, inside a new user namespace of our own."""
    if _has_capabilities(_CAP_SYS_ADMIN):
        _check(_libc.unshare(flags))
        return
    uid, gid = os.geteuid(), os.getegid()
    _check(_libc.unshare(CLONE_NEWUSER | flags))
    # Map our ids so files we create are not owned by the overflow id.
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")


def unshare_net() -> None:
    """A private network namespace: only a loopback device, and it is down."""
    _unshare(CLONE_NEWNET)


def private_tmpfs(workdir: str, size_bytes: int) -> None:
    """Mount a size-capped tmpfs on ``workdir`` in a private mount namespace.

    Caps the disk a child can fill (``RLIMIT_FSIZE`` caps one file, not how many) and frees it
    when the child's namespace dies.
    """
    _unshare(CLONE_NEWNS)
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None))
    opts = f"size={max(size_bytes, 1 << 20)},mode=0700".encode()
    _check(_libc.mount(b"ahd-sandbox", workdir.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts))


def _lower(which: int, soft: int, hard: int) -> None:
    """Set a limit, never above the hard limit already in force (raising it needs privilege)."""
    _, current = resource.getrlimit(which)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(which, (soft, hard))


def set_rlimits(limits: ChildLimits) -> None:
    """Hard limits equal (or just above) the soft ones, so the child cannot raise them."""
    _lower(resource.RLIMIT_CORE, 0, 0)
    _lower(resource.RLIMIT_AS, limits.memory_bytes, limits.memory_bytes)
    # Soft CPU limit -> SIGXCPU; the hard one a second later -> SIGKILL.
    _lower(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1)
    _lower(resource.RLIMIT_FSIZE, limits.file_bytes, limits.file_bytes)
    if limits.processes is not None:
        _lower(resource.RLIMIT_NPROC, limits.processes, limits.processes)


def drop_capabilities() -> None:
    """Empty the bounding, ambient, effective, permitted and inheritable capability sets."""
    if _SYS_CAPSET is None:
        raise OSError(errno.ENOSYS, f"capset number unknown on {_MACHINE}")
    for cap in range(64):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # past the last capability this kernel knows
                break
            if exc.errno == errno.EPERM and not _has_capabilities(~0):
                # An unprivileged process: nothing to drop, and with no_new_privs and exec
                # denied the bounding set cannot come into play.
                return
            raise
    try:
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # kernels before 4.3 have no ambient set
            raise
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(_libc.syscall(_SYS_CAPSET, ctypes.byref(header), ctypes.byref(data)))


def set_no_new_privs() -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    if _libc.prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1:
        raise OSError(errno.EPERM, "no_new_privs did not stick")


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is absent or disabled."""
    ret = _libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(int(ret), 0)


def landlock_restrict(
    writable_dir: str, readable: tuple[str, ...] | None = None, shared_dir: str | None = None
) -> int:
    """Allow file writes only beneath ``writable_dir``; no exec, no TCP, scoped signals.

    Depending on the ABI: TCP bind/connect are denied (ABI 4) and signals and abstract unix
    sockets may only reach processes inside this domain (ABI 6); Landlock also keeps the child
    from ptrace-style access (``/proc/PID/environ``, ``/proc/PID/mem``) to processes outside it.
    Reads stay unrestricted unless ``readable`` lists the files and directories that may be read
    (``writable_dir`` always may; paths that do not exist are skipped).
    Returns the ABI version used.
    """
    abi = landlock_abi()
    if abi < 1:
        raise OSError(errno.EOPNOTSUPP, "Landlock is not available")
    writes = _LL_FS_WRITES_V1
    if abi >= 2:
        writes |= _LL_FS_REFER
    if abi >= 3:
        writes |= _LL_FS_TRUNCATE
    if abi >= 5:
        writes |= _LL_FS_IOCTL_DEV
    reads = 0 if readable is None else _LL_FS_READ_FILE | _LL_FS_READ_DIR
    attr = _RulesetAttr(
        handled_access_fs=writes | reads | _LL_FS_EXECUTE,
        handled_access_net=_LL_NET_ALL if abi >= 4 else 0,
        scoped=_LL_SCOPE_ALL if abi >= 6 else 0,
    )
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    ruleset = _check(
        _libc.syscall(
            _SYS_LANDLOCK_CREATE_RULESET,
            ctypes.byref(attr),
            ctypes.c_size_t(size),
            ctypes.c_uint32(0),
        )
    )
    try:
        _landlock_allow(ruleset, writable_dir, writes | reads, required=True)
        if shared_dir is not None:
            _landlock_allow(ruleset, shared_dir, writes | reads, required=True)
        for path in readable or ():
            _landlock_allow(ruleset, path, reads, required=False)
        _check(
            _libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0))
        )
    finally:
        os.close(ruleset)
    return abi


def _landlock_allow(ruleset: int, path: str, access: int, required: bool) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        if required:
            raise
        return
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):  # directory-only rights are invalid here
            access &= _LL_FS_READ_FILE | _LL_FS_WRITE_FILE | _LL_FS_TRUNCATE | _LL_FS_IOCTL_DEV
        rule = _PathBeneathAttr(allowed_access=access, parent_fd=fd)
        _check(
            _libc.syscall(
                _SYS_LANDLOCK_ADD_RULE,
                ctypes.c_int(ruleset),
                ctypes.c_int(_LL_RULE_PATH_BENEATH),
                ctypes.byref(rule),
                ctypes.c_uint32(0),
            )
        )
    finally:
        os.close(fd)


def default_readable_paths() -> tuple[str, ...]:
    """What Python, numpy and numba need to read after lockdown: the interpreter's prefixes,
    ``sys.path``, system libraries, and a few device and proc files."""
    import sys

    paths = [
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        *sys.path,
        "/usr",
        "/lib",
        "/lib64",
        "/etc/ld.so.cache",
        "/etc/localtime",
        "/dev/null",
        "/dev/zero",
        "/dev/urandom",
        "/proc/self",
        "/proc/cpuinfo",
        "/proc/meminfo",
        "/sys/devices/system/cpu",
    ]
    seen: dict[str, None] = {}
    for p in paths:
        if p and os.path.exists(p):
            seen.setdefault(os.path.realpath(p), None)
    return tuple(seen)


# --- together ---------------------------------------------------------------------------------


def lock_down(
    layers: frozenset[str],
    workdir: str,
    limits: ChildLimits,
    tmpfs_bytes: int,
    readable: tuple[str, ...] | None = None,
    shared_dir: str | None = None,
) -> None:
    """Apply ``layers`` (a subset of :data:`ALL_LAYERS`) to the calling process, in order.

    ``readable``: with Landlock, the only paths (besides ``workdir``) that may be read; None
    leaves reads unrestricted. ``shared_dir``: a second directory the child may write (and
    read), shared by all children of a pool, e.g. numba's cache of candidate code.
    """
    if "netns" in layers:
        unshare_net()
    if "mountns" in layers:
        private_tmpfs(workdir, tmpfs_bytes)
    os.chdir(workdir)
    if "rlimits" in layers:
        # With seccomp stopping fork, leave RLIMIT_NPROC alone: for non-root users it would
        # stop threads too. Without seccomp it is the only guard against fork.
        set_rlimits(replace(limits, processes=None) if "seccomp" in layers else limits)
    if "caps" in layers:
        drop_capabilities()
    if layers & {"no_new_privs", "landlock", "seccomp"}:  # the latter two need it
        set_no_new_privs()
    if "landlock" in layers:
        landlock_restrict(workdir, readable, shared_dir)
    if "seccomp" in layers:
        install_seccomp()
