"""The seccomp layer: a system-call filter (libseccomp through ``pyseccomp``) for the child.

The filter denies what a candidate never needs and what would get it out of its sandbox: new
processes, exec, sockets, signals to other processes, mounts and namespaces, kernel modules.
Most of it does not depend on the child, so the worker builds it once before forking
(:func:`prepare_seccomp`) and each child only adds its own pid and loads it
(:func:`install_seccomp`). It has a module of its own because of its size (the deny list) and
its optional dependency: without ``pyseccomp`` or ``libseccomp.so`` the layer is simply absent
(:func:`seccomp_available`). Like :mod:`ahd.sandbox.layers`, nothing here imports anything
after the fork.
"""

from __future__ import annotations

import errno
import os

try:  # libseccomp through ctypes; absent or without libseccomp.so -> no seccomp layer
    import pyseccomp as _seccomp
except Exception:  # noqa: BLE001 - RuntimeError when libseccomp.so is missing
    _seccomp = None

#: ``clone`` flag of a new thread (as opposed to a new process).
CLONE_THREAD = 0x00010000

# Denied with EPERM. fork/vfork do not exist on aarch64 (glibc uses clone there), which is why
# unknown names are skipped. io_uring would bypass the socket rules; the rest are admin calls.
_DENIED_SYSCALLS = (
    "fork",
    "vfork",
    "execve",
    "execveat",
    "socket",
    "socketpair",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "tkill",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "setns",
    "unshare",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsmount",
    "fspick",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "keyctl",
    "add_key",
    "request_key",
    "setrlimit",
    "open_by_handle_at",
    "name_to_handle_at",
)


def seccomp_available() -> bool:
    """Whether ``pyseccomp`` and ``libseccomp.so`` could be loaded."""
    return _seccomp is not None


def _static_seccomp_filter():
    sc = _seccomp
    eperm = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(sc.ALLOW)
    for name in _DENIED_SYSCALLS:
        try:
            flt.add_rule(eperm, name)
        except Exception:  # noqa: BLE001 - syscall unknown on this architecture
            continue
    flt.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    flt.add_rule(eperm, "prlimit64", sc.Arg(2, sc.NE, 0))  # reading limits stays allowed
    return flt


_prepared_filter = None


def prepare_seccomp() -> None:
    """Build the pid-independent part of the filter now, in the worker, before it forks.

    Each child then adds only its own pid rules to its copy and loads it: about 1 ms instead of
    about 6 ms when every child initialises libseccomp and builds the filter afresh.
    """
    global _prepared_filter
    if _seccomp is not None:
        _prepared_filter = _static_seccomp_filter()


def install_seccomp() -> None:
    """Deny new processes, exec, sockets and signals to other processes; allow threads.

    ``clone`` is denied unless it carries ``CLONE_THREAD`` (Python and LLVM threads keep
    working); ``clone3`` hides its flags in memory a filter cannot read, so it answers
    ``ENOSYS`` and glibc falls back to ``clone``. Meant for a forked child: it uses (and
    changes) this process's copy of the filter :func:`prepare_seccomp` built.
    """
    global _prepared_filter
    if _seccomp is None:
        raise OSError(errno.ENOSYS, "pyseccomp/libseccomp not available")
    sc = _seccomp
    flt, _prepared_filter = _prepared_filter or _static_seccomp_filter(), None
    pid = os.getpid()
    for name in ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
        flt.add_rule(sc.ERRNO(errno.EPERM), name, sc.Arg(0, sc.NE, pid))  # only to itself
    flt.load()
