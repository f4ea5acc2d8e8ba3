"""The worker's side of a request: fork a child, wait for it, and say how it went.

:func:`run_request` forks the child (:func:`ahd.sandbox.child.run_child`), waits for its
result, its exit or the wall-clock deadline, SIGKILLs its process group, reads its CPU time and
peak memory, and classifies the outcome into a plain dict the pool turns into a
:class:`~ahd.sandbox.records.SandboxResult`. :func:`run_inline` is the fallback without a fork.
Children that reported and parked are reaped off the critical path (:func:`reap_parked`).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import tempfile
import time

from ahd.sandbox.child import call_spec, flush_std, run_child, unframe
from ahd.sandbox.records import SandboxLimits
from ahd.sandbox.safe_pickle import plain_loads, safe_loads


def _kill_group(pid: int) -> None:
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _tail(fd: int, n: int) -> tuple[str, int]:
    """The last ``n`` bytes of the output file, read through the worker's own descriptor (the
    child cannot swap the file under it for a link to something else)."""
    try:
        size = os.fstat(fd).st_size
        return os.pread(fd, n, max(0, size - n)).decode("utf-8", errors="replace"), size
    except OSError:
        return "", 0


_MEMORY_HINTS = (
    "MemoryError",
    "bad_alloc",
    "Cannot allocate memory",
    "out of memory",
    "Allocation failed",
)


class PoolGone(Exception):
    """The pool closed its end of the socket while a request ran."""


def run_request(
    spec,
    args,
    limits: SandboxLimits,
    active: frozenset[str],
    base_dir: str,
    allowed: frozenset[tuple[str, str]],
    control_fd: int | None = None,
    readable: tuple[str, ...] | None = None,
    shared_dir: str | None = None,
) -> dict:
    """Fork a child for one request, wait for it and say how it went (a plain dict).

    ``readable``: with Landlock, the only paths the child may read (plus its own directory and,
    for a ``file`` spec, that file); None leaves reads unrestricted.
    """
    if readable is not None and spec[0] == "file":
        readable = (*readable, spec[1])
    if readable is not None and shared_dir is not None:
        readable = (*readable, shared_dir)
    reap_parked()
    rdir = tempfile.mkdtemp(prefix="req-", dir=base_dir)
    workdir = os.path.join(rdir, "work")
    os.mkdir(workdir, 0o700)
    out_path = os.path.join(rdir, "output")
    out_fd = os.open(out_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
    res_r, res_w = os.pipe()
    flush_std()
    t0 = time.monotonic()
    try:
        pid = os.fork()
    except OSError:
        os.close(res_r)
        os.close(res_w)
        os.close(out_fd)
        shutil.rmtree(rdir, ignore_errors=True)
        raise
    if pid == 0:
        run_child(
            spec, args, limits, active, workdir, out_fd, res_w, os.getppid(), readable, shared_dir
        )
    os.close(res_w)
    buf = bytearray()
    cap = limits.result_bytes + 4096  # the envelope around the value
    reason = None
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(res_r, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    if control_fd is not None:
        poller.register(control_fd, select.POLLIN)
    deadline = t0 + limits.wall_time
    exited = parked = False
    usage = None
    try:
        while not (exited or parked or reason):
            left = deadline - time.monotonic()
            if left <= 0:
                reason = "timeout"
                break
            for fd, _ in poller.poll(max(1, int(left * 1000))):
                if fd == res_r:
                    chunk = os.read(res_r, 1 << 20)
                    if chunk:
                        buf += chunk
                        if len(buf) > cap:
                            reason = "oversize"
                    else:
                        poller.unregister(res_r)
                        # A whole message and a closed pipe: the child has parked.
                        parked = unframe(bytes(buf)) is not None
                elif fd == pidfd:
                    exited = True
                elif fd == control_fd:
                    raise PoolGone
        if exited and not reason:  # drain what the child wrote before it exited
            os.set_blocking(res_r, False)
            with contextlib.suppress(BlockingIOError, OSError):
                while len(buf) <= cap and (chunk := os.read(res_r, 1 << 20)):
                    buf += chunk
            if len(buf) > cap:
                reason = "oversize"
        wall = time.monotonic() - t0
        if parked:
            usage = _proc_usage(pid)
    finally:
        _kill_group(pid)  # before reaping: until then the pid and group id stay ours
        if usage is not None:
            _UNREAPED.append(pid)  # reaped before the next fork, off the critical path
        else:
            _, status, ru = os.wait4(pid, 0)
            usage = (ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024)
        if parked:
            status = 0  # it reported in full and parked: as good as a clean exit
        wall = time.monotonic() - t0 if not parked else wall
        os.close(res_r)
        os.close(pidfd)
        tail, out_size = _tail(out_fd, limits.output_tail_bytes)
        os.close(out_fd)
        shutil.rmtree(rdir, ignore_errors=True)
    record = {
        "status": "crashed",
        "payload": b"",
        "error": "",
        "signal": None,
        "wall_time": wall,
        "cpu_time": usage[0],
        "max_rss": usage[1],
        "output_tail": tail,
    }
    _classify(record, reason, status, bytes(buf), limits, out_size, allowed)
    return record


_UNREAPED: list[int] = []
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def reap_parked(block: bool = False) -> None:
    """Collect children that parked and were killed; without ``block``, only those already
    gone (at most a few are left waiting, so their teardown overlaps the next request)."""
    for pid in list(_UNREAPED):
        wait = block or len(_UNREAPED) > 4
        try:
            done, _ = os.waitpid(pid, 0 if wait else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _UNREAPED.remove(pid)


def _proc_usage(pid: int) -> tuple[float, int] | None:
    """CPU seconds and peak RSS bytes of a live child, from the kernel's /proc files."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/status") as f:
            hwm = next(line for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration, IndexError):
        return None
    cpu = (int(fields[11]) + int(fields[12])) / _CLK_TCK  # all threads, in clock ticks
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/schedstat") as f:  # main thread, in ns: finer when it is alone
            cpu = max(cpu, int(f.read().split()[0]) / 1e9)
    return cpu, int(hwm.split()[1]) * 1024


def _classify(
    record: dict,
    reason: str | None,
    status: int,
    data: bytes,
    limits: SandboxLimits,
    out_size: int,
    allowed,
) -> None:
    if reason == "timeout":
        record.update(status="timeout", error=f"wall-clock limit of {limits.wall_time:g} s")
        return
    if reason == "oversize":
        record.update(status="bad_result", error=f"result larger than {limits.result_bytes} bytes")
        return
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        record["signal"] = name
        if sig == signal.SIGXCPU or (
            sig == signal.SIGKILL and record["cpu_time"] >= limits.cpu_seconds - 0.05
        ):
            record.update(status="cpu_limit", error=f"CPU limit of {limits.cpu_seconds} s")
        elif sig == signal.SIGXFSZ:
            record.update(status="output_limit", error=f"output over {limits.output_bytes} bytes")
        elif sig == signal.SIGKILL:
            record.update(status="killed", error="killed by SIGKILL from outside the sandbox")
        elif any(h in record["output_tail"] for h in _MEMORY_HINTS):
            record.update(status="memory", error=f"{name} after a failed allocation")
        else:
            record.update(status="crashed", error=f"killed by {name}")
        return
    code = os.WEXITSTATUS(status)
    try:
        kind, payload, info = plain_loads(unframe(data))
        kind, info = str(kind), str(info)
    except Exception:  # noqa: BLE001 - no message, or garbage the candidate wrote itself
        record.update(status="error", error=f"exited with status {code} without a result")
        return
    if kind == "setup_error":
        record.update(status="crashed", error=info)
        return
    if kind not in ("ok", "error", "memory", "output_limit", "bad_result"):
        record.update(status="error", error=f"exited with status {code} and a bad message")
        return
    if out_size >= limits.output_bytes and kind in ("ok", "error"):
        kind, info = "output_limit", f"output reached the cap of {limits.output_bytes} bytes"
    record.update(status=kind, error=info)
    if kind == "ok":
        try:
            safe_loads(bytes(payload), allowed)  # validate here; the pool loads it again
        except Exception as exc:  # noqa: BLE001
            record.update(status="bad_result", error=f"unsafe or broken result: {exc}")
            return
        record["payload"] = bytes(payload)


def run_inline(spec, args, limits: SandboxLimits, allowed) -> dict:
    """No fork available: run in this process (only with ``allow_unsandboxed``)."""
    t0 = time.monotonic()
    c0 = time.process_time()
    status, payload, info = call_spec(spec, args, limits.result_bytes)
    record = {
        "status": status,
        "payload": payload,
        "error": info,
        "signal": None,
        "wall_time": time.monotonic() - t0,
        "cpu_time": time.process_time() - c0,
        "max_rss": 0,
        "output_tail": "",
    }
    if status == "ok":
        try:
            safe_loads(payload, allowed)
        except Exception as exc:  # noqa: BLE001
            record.update(status="bad_result", payload=b"", error=f"unsafe result: {exc}")
    return record
