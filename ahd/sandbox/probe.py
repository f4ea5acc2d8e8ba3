"""Which isolation layers this host allows, tested in throwaway forked children.

Each layer is applied in its own child and then checked for effect (a namespace that did not
change, or a filter that lets ``fork`` through, counts as absent). A last child applies all
available layers together and starts a thread, the way numba and Python still must.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
import threading
import time

from ahd.sandbox import layers as L

#: Keys of :func:`probe_layers`: ``fork`` (process isolation at all) plus every layer.
PROBE_KEYS = ("fork", *L.ALL_LAYERS)

_PROBE_TIMEOUT_S = 10.0
_cache: dict[str, bool] | None = None


def _check_netns() -> None:
    before = os.readlink("/proc/self/ns/net")
    L.unshare_net()
    assert os.readlink("/proc/self/ns/net") != before
    with socket.socket() as s:  # loopback is down in a fresh namespace
        s.settimeout(1.0)
        try:
            s.connect(("127.0.0.1", 9))
        except ConnectionRefusedError as exc:
            raise AssertionError("host loopback still reachable") from exc
        except OSError:
            pass


def _check_mountns(tmp: str) -> None:
    work = os.path.join(tmp, "work")
    os.mkdir(work)
    L.private_tmpfs(work, 4 << 20)
    with open(os.path.join(work, "f"), "w") as f:
        f.write("x")
    assert os.statvfs(work).f_blocks * os.statvfs(work).f_frsize <= 8 << 20


def _check_rlimits() -> None:
    import resource

    lim = L.ChildLimits(memory_bytes=1 << 40, cpu_seconds=30, file_bytes=1 << 20, processes=0)
    L.set_rlimits(lim)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    assert 0 <= soft <= 1 << 40 and soft == hard  # (never above a hard limit already there)
    assert 0 <= resource.getrlimit(resource.RLIMIT_CPU)[0] <= 30
    assert 0 <= resource.getrlimit(resource.RLIMIT_FSIZE)[0] <= 1 << 20


def _check_caps() -> None:
    L.drop_capabilities()
    with open("/proc/self/status") as f:
        caps = {k: v.strip() for k, _, v in (line.partition(":") for line in f)}
    assert int(caps["CapEff"], 16) == 0 and int(caps["CapPrm"], 16) == 0


def _check_landlock(tmp: str) -> None:
    work = os.path.join(tmp, "work")
    os.mkdir(work)
    L.set_no_new_privs()
    L.landlock_restrict(work)
    with open(os.path.join(work, "inside"), "w") as f:
        f.write("x")
    try:
        open(os.path.join(tmp, "outside"), "w").close()
    except PermissionError:
        return
    raise AssertionError("write outside the allowed directory succeeded")


def _check_seccomp() -> None:
    L.set_no_new_privs()
    L.install_seccomp()
    box = []
    t = threading.Thread(target=box.append, args=(1,))
    t.start()
    t.join()
    assert box == [1], "threads must still start"
    for attempt in (os.fork, lambda: socket.socket(), lambda: os.kill(os.getppid(), 0)):
        try:
            attempt()
        except PermissionError:
            continue
        os._exit(3)  # a forked grandchild (or we) must not go on
    return


def _check_all(tmp: str, active: frozenset[str]) -> None:
    work = os.path.join(tmp, "work")
    os.mkdir(work)
    # (the address-space cap is far above any worker's size: this checks the layers, not limits)
    lim = L.ChildLimits(memory_bytes=1 << 40, cpu_seconds=30, file_bytes=1 << 20, processes=0)
    L.lock_down(active, work, lim, 4 << 20)
    if "seccomp" in active or "rlimits" not in active or os.geteuid() == 0:
        # (as a non-root user without seccomp, RLIMIT_NPROC=0 stops threads on purpose)
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()


def _in_child(fn, *args) -> bool:
    """Run ``fn(*args)`` in a forked child; True when it returned without raising."""
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid == 0:  # child: never return into the caller's stack
        code = 1
        try:
            os.setsid()
            fn(*args)
            code = 0
        except BaseException:  # noqa: BLE001 - any failure means "layer absent"
            code = 2
        finally:
            os._exit(code)
    deadline = time.monotonic() + _PROBE_TIMEOUT_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return False
        time.sleep(0.002)


def probe_layers(refresh: bool = False) -> dict[str, bool]:
    """Test which layers this host allows; ``{"fork": bool, "netns": bool, ...}``.

    The result is cached per process. ``fork`` False means no process isolation at all (every
    other key is then False too).
    """
    global _cache
    if _cache is not None and not refresh:
        return dict(_cache)
    result = dict.fromkeys(PROBE_KEYS, False)
    tmp = tempfile.mkdtemp(prefix="ahd-probe-")
    try:
        result["fork"] = _in_child(lambda: None)
        if result["fork"]:
            checks = {
                "netns": (_check_netns,),
                "mountns": (_check_mountns, tmp),
                "rlimits": (_check_rlimits,),
                "caps": (_check_caps,),
                "no_new_privs": (L.set_no_new_privs,),
                "landlock": (_check_landlock, tmp),
                "seccomp": (_check_seccomp,),
            }
            for name, (fn, *args) in checks.items():
                if name == "seccomp" and not L.seccomp_available():
                    continue
                result[name] = _in_child(fn, *args)
                _clean(tmp)
            active = frozenset(k for k in L.ALL_LAYERS if result[k])
            if active and not _in_child(_check_all, tmp, active):
                # The layers work alone but not together: fall back to none rather than guess.
                result.update(dict.fromkeys(L.ALL_LAYERS, False))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _cache = dict(result)
    return result


def _clean(tmp: str) -> None:
    for entry in os.listdir(tmp):
        shutil.rmtree(os.path.join(tmp, entry), ignore_errors=True)
        try:
            os.unlink(os.path.join(tmp, entry))
        except OSError:
            pass


def active_layers(probe: dict[str, bool]) -> frozenset[str]:
    """The layers a probe result says are usable."""
    return frozenset(k for k in L.ALL_LAYERS if probe.get(k))
