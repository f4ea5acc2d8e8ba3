"""The warm fork-server worker: one process per pool slot, one forked child per request.

Started by :class:`ahd.sandbox.pool.SandboxPool` as ``python -c '...worker.main(...)' FD``, FD
being its end of a unix socket pair. At start it scrubs secrets from its environment, imports numpy
and numba, compiles a throwaway function (the first jit of a process is the slow one), runs the
caller's ``warmup`` and probes the isolation layers, all before anything untrusted runs. Then,
for every request, it forks a child that

1. becomes the leader of a new session (so the whole group can be killed at once),
2. points stdin at /dev/null and stdout/stderr at a capped file, closes every other inherited
   descriptor (the socket to the pool included) but the result pipe,
3. applies the isolation layers (:func:`ahd.sandbox.layers.lock_down`) and moves into a fresh
   private directory,
4. resolves the function spec, calls it, and writes ``(status, pickled value, error)`` down
   the result pipe.

The worker waits with a wall-clock deadline, reads at most ``result_bytes``, SIGKILLs the
child's process group on timeout, and classifies how the child ended. It stays single-threaded,
so forking it is safe.

Function specs (normalised by :func:`normalize_spec`):

- ``"package.module:qualname"``: an importable function;
- ``"file:/path/to/candidate.py:run"``: a module file, loaded in the child;
- ``("source", code, "function_name")``: source text compiled in the child.
"""

from __future__ import annotations

import contextlib
import errno
import faulthandler
import fnmatch
import gc
import hashlib
import importlib
import importlib.util
import linecache
import os
import pickle
import select
import shutil
import signal
import struct
import sys
import tempfile
import time
import traceback
import types
from multiprocessing.connection import Connection
from typing import Any

from ahd.sandbox import layers as L
from ahd.sandbox.probe import probe_layers
from ahd.sandbox.records import SandboxLimits
from ahd.sandbox.safe_pickle import allow_list, plain_loads, safe_loads

#: Environment variables whose names match these (case-insensitively) never reach a worker.
SECRET_PATTERNS = ("*KEY*", "*TOKEN*", "*SECRET*", "*PASSWORD*", "*PASSWD*", "*CREDENTIAL*")

#: Set in every worker before numpy or numba is imported.
WORKER_ENV = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

_SANDBOX_DIR = os.path.dirname(os.path.abspath(__file__))
_MAX_MESSAGE = 4000
_MAX_FRAMES = 10


# --- environment -----------------------------------------------------------------------------


def is_secret(name: str, extra: tuple[str, ...] = ()) -> bool:
    upper = name.upper()
    return any(fnmatch.fnmatchcase(upper, p.upper()) for p in (*SECRET_PATTERNS, *extra))


def scrubbed_environ(environ: dict[str, str], extra: tuple[str, ...] = ()) -> dict[str, str]:
    """A copy of ``environ`` without secret-looking variables (``extra``: more names/patterns)."""
    return {k: v for k, v in environ.items() if not is_secret(k, extra)}


def scrub_environ(extra: tuple[str, ...] = ()) -> None:
    """Remove secret-looking variables from this process's own environment."""
    for name in [k for k in os.environ if is_secret(k, extra)]:
        del os.environ[name]


# --- function specs --------------------------------------------------------------------------


def normalize_spec(func: Any) -> tuple[str, str, str]:
    """Turn any accepted function spec into ``(kind, where, name)``; see the module docstring."""
    if isinstance(func, tuple):
        if len(func) == 3 and func[0] == "source":
            _, code, name = func
            if not isinstance(code, str) or not isinstance(name, str):
                raise TypeError("('source', code, name) needs two strings")
            return ("source", code, name)
        if len(func) == 3 and func[0] in ("module", "file"):
            return tuple(func)  # already normalised
        raise ValueError(f"bad function spec tuple: {func[:1]!r}...")
    if isinstance(func, str):
        if func.startswith("file:"):
            path, sep, name = func[len("file:") :].rpartition(":")
            if not sep or not path or not name:
                raise ValueError(f"expected 'file:/path/to/x.py:function', got {func!r}")
            return ("file", os.path.abspath(path), name)
        module, sep, name = func.partition(":")
        if not sep or not module or not name:
            raise ValueError(f"expected 'module:qualname', got {func!r}")
        return ("module", module, name)
    if callable(func):
        module, qual = getattr(func, "__module__", None), getattr(func, "__qualname__", "")
        if not module or not qual or "<" in qual or module == "__main__":
            raise ValueError(f"{func!r} is not importable by name; pass 'module:qualname'")
        return ("module", module, qual)
    raise TypeError(f"not a function spec: {func!r}")


def resolve_spec(spec: tuple[str, str, str]) -> tuple[Any, str | None]:
    """Load the function a spec names; also return the file its frames come from."""
    kind, where, name = spec
    if kind == "module":
        obj: Any = importlib.import_module(where)
        filename = getattr(obj, "__file__", None)
    elif kind == "file":
        mod_name = "ahd_candidate_" + hashlib.sha1(where.encode()).hexdigest()[:12]
        file_spec = importlib.util.spec_from_file_location(mod_name, where)
        if file_spec is None or file_spec.loader is None:
            raise ImportError(f"cannot load {where}")
        if mod_name in sys.modules:  # loaded by the worker's warmup: keep what it prepared
            obj = sys.modules[mod_name]
        else:
            obj = importlib.util.module_from_spec(file_spec)
            sys.modules[mod_name] = obj
            file_spec.loader.exec_module(obj)
        filename = where
    elif kind == "source":
        digest = hashlib.sha1(where.encode()).hexdigest()[:12]
        filename = f"<candidate-{digest}>"
        lines = where.splitlines(keepends=True)
        linecache.cache[filename] = (len(where), None, lines, filename)
        obj = types.ModuleType(f"ahd_candidate_{digest}")
        obj.__file__ = filename
        sys.modules[obj.__name__] = obj
        exec(compile(where, filename, "exec"), obj.__dict__)  # noqa: S102 - sandboxed child
    else:
        raise ValueError(f"unknown spec kind {kind!r}")
    for part in name.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"{name} is not callable")
    return obj, filename


def format_error(exc: BaseException, candidate_file: str | None) -> str:
    """``Type: message`` plus the frames of the candidate's own file (or, failing that, all but
    the sandbox's)."""
    kind = type(exc).__qualname__
    if type(exc).__module__ not in ("builtins", "__main__"):
        kind = f"{type(exc).__module__}.{kind}"
    message = str(exc)
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + f"... [{len(message) - _MAX_MESSAGE} chars cut]"
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if candidate_file and f.filename == candidate_file]
    if not mine:
        mine = [f for f in frames if not f.filename.startswith(_SANDBOX_DIR)]
    text = f"{kind}: {message}"
    if mine:
        if len(mine) > _MAX_FRAMES:
            text += f"\n({len(mine) - _MAX_FRAMES} earlier frames cut)"
            mine = mine[-_MAX_FRAMES:]
        text += "\nTraceback (candidate frames):\n" + "".join(traceback.format_list(mine))
    return text.rstrip()


# --- the child -------------------------------------------------------------------------------


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


_HEADER = struct.Struct("<Q")


def _frame(message: tuple) -> bytes:
    body = pickle.dumps(message, protocol=5)
    return _HEADER.pack(len(body)) + body


def _unframe(data: bytes) -> bytes | None:
    """The message body when ``data`` is exactly one whole frame, else None."""
    if len(data) < _HEADER.size:
        return None
    (n,) = _HEADER.unpack_from(data)
    return data[_HEADER.size :] if len(data) == _HEADER.size + n else None


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - EFBIG at the output cap, or a closed stream
            pass


def _call(spec: tuple[str, str, str], args: tuple, result_bytes: int) -> tuple[str, bytes, str]:
    candidate_file = None
    try:
        func, candidate_file = resolve_spec(spec)
        value = func(*args)
    except MemoryError as exc:
        return "memory", b"", format_error(exc, candidate_file) or "MemoryError"
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
        status = "error"
        if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
            status = "output_limit"
        return status, b"", format_error(exc, candidate_file)
    try:
        payload = pickle.dumps(value, protocol=5)
    except BaseException as exc:  # noqa: BLE001
        return "bad_result", b"", f"return value cannot be pickled: {type(exc).__name__}: {exc}"
    if len(payload) > result_bytes:
        return "bad_result", b"", f"pickled result is {len(payload)} bytes, over {result_bytes}"
    return "ok", payload, ""


def _tolerate_cache_writes() -> None:
    """Let numba compile without saving to its on-disk cache when the sandbox forbids it.

    A child may need a specialisation the worker's warm-up did not cover; numba then tries to
    write the cache file next to the (read-only, after Landlock) source and raises
    ``PermissionError``, failing a perfectly good evaluation. The compiled code is only lost
    to later children, who compile it again.
    """
    caching = sys.modules.get("numba.core.caching")
    if caching is None or getattr(caching.Cache.save_overload, "_ahd_tolerant", False):
        return
    original = caching.Cache.save_overload

    def save_overload(self, sig, data):
        try:
            original(self, sig, data)
        except OSError:
            pass

    save_overload._ahd_tolerant = True
    caching.Cache.save_overload = save_overload


def _child(
    spec,
    args,
    limits: SandboxLimits,
    active: frozenset[str],
    workdir: str,
    out_fd: int,
    res_w: int,
    worker_pid: int,
    readable: tuple[str, ...] | None,
    shared_dir: str | None = None,
) -> None:
    """Body of the forked child. Never returns."""
    try:
        try:
            os.setsid()
            L.prctl(L.PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != worker_pid:  # the worker died between fork and prctl
                os._exit(0)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(out_fd, 1)
            os.dup2(out_fd, 2)
            os.closerange(3, res_w)
            os.closerange(res_w + 1, 1 << 20)
            faulthandler.enable(file=sys.stderr)
            child_limits = L.ChildLimits(
                memory_bytes=limits.memory_bytes,
                cpu_seconds=limits.cpu_seconds,
                file_bytes=limits.output_bytes,
                processes=0,
            )
            L.lock_down(
                active, workdir, child_limits, limits.tmpfs_bytes, readable, shared_dir
            )
            os.environ.update(HOME=workdir, TMPDIR=workdir)
            tempfile.tempdir = workdir
            _tolerate_cache_writes()
            sys.dont_write_bytecode = True
        except BaseException as exc:  # noqa: BLE001
            _write_all(res_w, _frame(("setup_error", b"", f"sandbox setup failed: {exc!r}")))
            os._exit(70)
        status, payload, info = _call(spec, args, limits.result_bytes)
        _flush_std()
        _write_all(res_w, _frame((status, payload, info)))
        # Park instead of exiting: the worker reads our CPU time and peak memory from /proc,
        # answers the pool, and only then SIGKILLs us, so tearing down this process's copy
        # of the worker's memory is not on the request's critical path.
        os.close(res_w)
        while True:
            signal.pause()
    except BaseException:  # noqa: BLE001 - e.g. EPIPE when the worker stopped reading
        os._exit(71)


# --- the worker's side of a request ----------------------------------------------------------


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
    _flush_std()
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
        _child(
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
                        parked = _unframe(bytes(buf)) is not None
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
        kind, payload, info = plain_loads(_unframe(data))
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
    status, payload, info = _call(spec, args, limits.result_bytes)
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


# --- the worker process ----------------------------------------------------------------------


PREWARM_LEVELS = ("none", "basic", "operators")


def _prewarm_operators(np, numba, math):  # noqa: ANN001 - modules passed in, imported lazily
    """Typical LNS-operator features, compiled once so every child finds them compiled."""

    @numba.njit(cache=False)
    def _operators(n, seed):
        np.random.seed(seed)
        a = np.empty(n, dtype=np.int64)
        for i in range(n):
            a[i] = np.random.randint(0, n)
        b = np.zeros(n, dtype=np.float64)
        b[0] = np.random.random() + np.random.rand()
        keep = np.ones(n, dtype=np.bool_)
        keep[0] = False
        kept = a[keep]
        picked = b[kept]
        b[1:] = b[:-1]
        a[:2] = kept[:2]
        order = np.argsort(b)
        s = b.copy()
        s.sort()
        perm = np.random.permutation(n)
        np.random.shuffle(perm)
        full = np.full(n, np.inf)
        both = np.concatenate((kept, perm))
        d = np.zeros((n, n))
        d[0, 1] = math.sqrt(abs(b[0]))
        lst = [0]
        lst.append(int(np.argmin(b)) + int(np.argmax(b)))
        return (
            picked.sum()
            + order[0]
            + s[0]
            + full.min()
            + both.max()
            + d[0, 1]
            + len(lst)
            + a.sum()
            + b.max()
        )

    _operators(8, 1)


def prewarm_numba(level: str = "basic") -> None:
    """Compile throwaway functions so that children forked afterwards do not pay for it.

    A process's first jit costs 1.5-3 s (``"basic"`` pays it). Beyond that, numba compiles its
    own implementation of a numpy feature the first time a process uses it: measured on 2 cores,
    slice assignment cost 8 s the first time and 1 s after, ``argsort`` 4 s / 0.6 s, boolean
    masks 1.8 s / 0.4 s. A forked child starts from the worker's state every time, so
    ``"operators"`` compiles those common features once in the worker (10-20 s at start) and a
    45-line destroy/repair candidate then compiles in about 2 s instead of 8 s.
    """
    if level not in PREWARM_LEVELS:
        raise ValueError(f"prewarm level must be one of {PREWARM_LEVELS}, not {level!r}")
    if level == "none":
        return
    try:
        import math

        import numba
        import numpy as np
    except ImportError:
        return

    @numba.njit(cache=False)
    def _sum(a):
        s = 0.0
        for x in a:
            s += x
        return s

    _sum(np.arange(3.0))
    if level == "operators":
        _prewarm_operators(np, numba, math)


def _send(conn: Connection, msg: tuple) -> None:
    conn.send_bytes(pickle.dumps(msg, protocol=5))


def serve(conn: Connection) -> int:
    config = conn.recv()  # from the pool, trusted
    scrub_environ(tuple(config.get("scrub_env", ())))
    for path in config.get("sys_path", ()):
        if path not in sys.path:
            sys.path.append(path)
    try:
        prewarm_numba(config.get("prewarm_numba", "basic"))
        warmup = config.get("warmup")
        if warmup is not None:
            func, _ = resolve_spec(normalize_spec(warmup))
            func()
        probe = probe_layers()
        L.prepare_seccomp()
        base_dir = tempfile.mkdtemp(prefix="ahd-sandbox-")
        gc.collect()
        gc.freeze()  # children then do not copy-on-write the worker's objects when they collect
    except BaseException:  # noqa: BLE001
        _send(conn, ("failed", traceback.format_exc()))
        return 1
    allowed = allow_list(config.get("safe_globals", ()))
    readable = config.get("readable")
    readable = None if readable is None else tuple(readable)
    shared_dir = config.get("shared_dir")
    _send(conn, ("ready", {"pid": os.getpid(), "probe": probe, "base_dir": base_dir}))
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                return 0
            if msg[0] == "exit":
                return 0
            _, req_id, spec, args, limits_dict, active, inline = msg
            limits = SandboxLimits(**limits_dict)
            if inline:
                record = run_inline(spec, args, limits, allowed)
            else:
                try:
                    record = run_request(
                        spec,
                        args,
                        limits,
                        frozenset(active),
                        base_dir,
                        allowed,
                        control_fd=conn.fileno(),
                        readable=readable,
                        shared_dir=shared_dir,
                    )
                except PoolGone:
                    return 0
            _send(conn, ("result", req_id, record))
    finally:
        reap_parked(block=True)
        shutil.rmtree(base_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    scrub_environ()  # before anything else runs in this process
    os.environ.update(WORKER_ENV)
    argv = sys.argv[1:] if argv is None else argv
    conn = Connection(int(argv[0]))
    try:
        return serve(conn)
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
