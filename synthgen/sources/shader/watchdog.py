"""Shader programs run in a child process under a watchdog.

A fragment program can loop forever (GPU drivers without a display have no timeout) or crash
the driver and the process with it. So GL lives in a child process
(`python -m synthgen.sources.shader.watchdog`), and the parent waits for each sample with a
deadline: a hang or a crash costs that one sample (and excludes its program), not the render.
Memory is bounded too: the child runs under a data limit (RLIMIT_DATA: heap and anonymous memory,
not the libraries or the shared frames) of what it holds once started plus `memory_mb`, so a
program that asks the compiler for gigabytes (a huge array, a macro bomb, megabytes of code) ends
the child, a crash of that one program, instead of drawing the OOM killer onto a neighbour. And a
program longer than `max_source_bytes` is never sent.

Requests and replies are 4-byte big-endian lengths followed by JSON, over the child's stdin and
stdout. Pixels do not go through the pipe: the child reads them from GL straight into a shared
memory-mapped file, one slot per request in flight. Two requests are in flight, so the child
renders the next sample while the parent takes the last one.
"""

from __future__ import annotations

import collections
import ctypes
import json
import mmap
import os
import resource
import selectors
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import IO, Any

from synthgen.faults import failpoint
from synthgen.processes import die_with_parent
from synthgen.sources.shader.config import DEFAULT_MAX_SOURCE_BYTES, DEFAULT_MEMORY_MB
from synthgen.sources.shader.gl import Frame, ShaderCompileError, ShaderRenderer, read_frame

_LENGTH = struct.Struct(">I")
# Start-up of a fresh child: Python, numpy, moderngl and the GL driver.
START_TIMEOUT = 60.0
IN_FLIGHT = 2
# The child's exit status when Python itself ran out of memory under the limit.
OUT_OF_MEMORY_EXIT = 75
# Compiled programs are dropped from the child's cache once its anonymous memory has grown by this
# share of `memory_mb`: the rest is for the program being compiled. Without it, a cache full of
# large programs would make the next program fail, which program depending on what the worker
# had rendered before, not on the program.
_CACHE_SHARE = 3


class ShaderHang(Exception):
    """The program did not finish within the watchdog's time."""


class ShaderCrash(Exception):
    """The render process died while running the program (out of memory included)."""


class ShaderTooLarge(Exception):
    """The program is longer than the watchdog allows; it was not compiled."""


RenderJob = tuple[str, str, Sequence[float]]  # (program key, code, iTime of each view)


class GuardedRenderer:
    """Renders programs in a child process, restarted after a hang or a crash."""

    def __init__(
        self,
        width: int,
        height: int,
        max_views: int,
        device_index: int | None = None,
        frame_seconds: float = 5.0,
        compile_seconds: float = 30.0,
        memory_mb: int = DEFAULT_MEMORY_MB,
        max_source_bytes: int = DEFAULT_MAX_SOURCE_BYTES,
    ) -> None:
        self.width, self.height = width, height
        self.device_index = device_index
        self.frame_seconds, self.compile_seconds = frame_seconds, compile_seconds
        self.memory_mb, self.max_source_bytes = memory_mb, max_source_bytes
        self.frame_bytes = width * height * 4
        self.slot_bytes = max_views * self.frame_bytes
        # Shared pixels: a file both processes map (in RAM where /dev/shm exists). It is unlinked
        # at once and handed to the child as an open descriptor, so no process that dies, however
        # it dies, leaves it behind.
        folder = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self._shared_fd, path = tempfile.mkstemp(prefix="synthgen-frames-", dir=folder)
        os.unlink(path)
        os.ftruncate(self._shared_fd, IN_FLIGHT * self.slot_bytes)
        self._shared = mmap.mmap(self._shared_fd, IN_FLIGHT * self.slot_bytes)
        self._process: subprocess.Popen[bytes] | None = None
        self.renderer_name = ""
        self._start()

    def _start(self) -> None:
        options = {
            "width": self.width,
            "height": self.height,
            "device_index": self.device_index,
            "shared_fd": self._shared_fd,
            "shared_bytes": IN_FLIGHT * self.slot_bytes,
            "memory_mb": self.memory_mb,
            "parent": os.getpid(),
        }
        self._process = subprocess.Popen(
            [sys.executable, "-m", "synthgen.sources.shader.watchdog", json.dumps(options)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            pass_fds=(self._shared_fd,),
        )
        failpoint("gl.start")
        try:
            reply = self._receive(START_TIMEOUT)
        except (ShaderHang, ShaderCrash) as err:
            self._kill()
            raise RuntimeError(f"the GL render process did not start: {err}") from None
        if reply.get("status") != "ready":
            self._kill()
            raise RuntimeError(reply.get("message", "the GL render process did not start"))
        self.renderer_name = reply.get("renderer", "")

    def render(self, key: str, code: str, times: Sequence[float]) -> list[Frame]:
        """Render one program at each time; raises ShaderCompileError, ShaderHang, ShaderCrash or
        ShaderTooLarge."""
        [result] = self.render_many([(key, code, times)])
        if isinstance(result, Exception):
            raise result
        return result

    def render_many(self, jobs: Sequence[RenderJob]) -> list[list[Frame] | Exception]:
        """Render each job; a job's result is its frames or the ShaderCompileError, ShaderHang,
        ShaderCrash or ShaderTooLarge it ended with. A hang or a crash restarts the child, and the
        jobs that were in flight with it are sent again.

        A job may take compile_seconds + views x frame_seconds, counted from when the one before
        it finished."""
        results: list[list[Frame] | Exception | None] = [None] * len(jobs)
        # A program that failed once fails its later jobs in this call without running them.
        failed: dict[str, Exception] = {}
        in_flight: collections.deque[int] = collections.deque()
        following = 0
        while following < len(jobs) or in_flight:
            while following < len(jobs) and len(in_flight) < IN_FLIGHT:
                if jobs[following][0] in failed:
                    results[following] = failed[jobs[following][0]]
                    following += 1
                    continue
                length = len(jobs[following][1].encode("utf-8", "surrogatepass"))
                if length > self.max_source_bytes:
                    results[following] = failed[jobs[following][0]] = ShaderTooLarge(
                        f"{length:,} bytes of code, over watchdog.max_source_bytes ({self.max_source_bytes:,})"
                    )
                    following += 1
                    continue
                try:
                    self._send(following, jobs[following])
                except ShaderCrash as err:
                    results[following] = err
                    following += 1
                    continue
                in_flight.append(following)
                following += 1
            if not in_flight:
                continue
            job = in_flight.popleft()
            limit = self.compile_seconds + len(jobs[job][2]) * self.frame_seconds
            try:
                reply = self._receive(limit)
            except (ShaderHang, ShaderCrash) as err:
                self._kill()
                if isinstance(err, ShaderHang):
                    err = ShaderHang(f"no result after {limit:g} s")
                results[job] = failed[jobs[job][0]] = err
                # The jobs sent after it never ran: send them again to a fresh child.
                following = in_flight[0] if in_flight else following
                in_flight.clear()
                continue
            if reply["status"] == "compile_error":
                results[job] = failed[jobs[job][0]] = ShaderCompileError(reply["message"])
            else:
                offset = (job % IN_FLIGHT) * self.slot_bytes
                results[job] = [
                    read_frame(self._shared, offset + view * self.frame_bytes, self.height, self.width)
                    for view in range(len(jobs[job][2]))
                ]
        return results  # type: ignore[return-value]

    def _send(self, job: int, request: RenderJob) -> None:
        if self._process is None:
            self._start()
        key, code, times = request
        if len(times) * self.frame_bytes > self.slot_bytes:
            raise ValueError(f"{len(times)} views do not fit the shared frames")
        message = json.dumps({"key": key, "code": code, "times": list(times), "slot": job % IN_FLIGHT}).encode()
        try:
            assert self._process is not None and self._process.stdin is not None
            self._process.stdin.write(_LENGTH.pack(len(message)) + message)
            self._process.stdin.flush()
        except OSError:
            self._kill()
            raise ShaderCrash("the GL render process had exited") from None

    def _receive(self, timeout: float) -> dict[str, Any]:
        assert self._process is not None and self._process.stdout is not None
        deadline = time.monotonic() + timeout
        (length,) = _LENGTH.unpack(self._read_exact(_LENGTH.size, deadline))
        return json.loads(self._read_exact(length, deadline))

    def _read_exact(self, n: int, deadline: float) -> bytes:
        assert self._process is not None and self._process.stdout is not None
        fd = self._process.stdout.fileno()
        chunks: list[bytes] = []
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while n > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise ShaderHang("timed out")
                chunk = os.read(fd, n)
                if not chunk:
                    raise ShaderCrash(self._death())
                chunks.append(chunk)
                n -= len(chunk)
        return b"".join(chunks)

    def _death(self) -> str:
        """How the child ended, for the crash message (its output has just closed)."""
        assert self._process is not None
        try:
            status: int | None = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = None
        if status == OUT_OF_MEMORY_EXIT:
            how = "out of memory"
        elif status is not None and status < 0:
            try:
                how = f"signal {signal.Signals(-status).name}"
            except ValueError:
                how = f"signal {-status}"
        else:
            how = f"exit status {status}"
        # A native library that runs out of memory under the limit ends with SIGSEGV or SIGABRT.
        return f"the GL render process died ({how}; its memory limit: watchdog.memory_mb {self.memory_mb})"

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    stream.close()
            self._process = None

    def close(self) -> None:
        if self._process is not None and self._process.stdin is not None:
            try:
                self._process.stdin.close()  # the child exits at the end of its input
                self._process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()
        try:
            self._shared.close()
        except BufferError:
            # A frame read that Ctrl-C interrupted still holds a view of the map (its traceback
            # keeps it alive); the map goes with this process, and the interruption must show.
            pass
        os.close(self._shared_fd)


def _requests(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    while header := stream.read(_LENGTH.size):
        yield json.loads(stream.read(_LENGTH.unpack(header)[0]))


def _reply(out: IO[bytes], message: dict[str, Any]) -> None:
    data = json.dumps(message).encode()
    out.write(_LENGTH.pack(len(data)) + data)
    out.flush()


def memory_in_use(field: str = "VmData") -> int | None:
    """A memory figure of this process from /proc/self/status, in bytes (Linux; None elsewhere).

    VmData is what RLIMIT_DATA counts; RssAnon is the anonymous memory resident now."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class _MemoryGuard:
    """The child's memory limit, set once GL is up, and the program cache that gives way before it.

    The limit is RLIMIT_DATA (private writable memory: the heap, anonymous maps, the compiler's and
    the JIT's memory), not RLIMIT_AS: address space counts the libraries and the ranges a GPU driver
    reserves without using, which differ by driver and machine. It is set after the GL context is
    made, at what the process holds then plus the headroom, for the same reason: the limit bounds
    what programs take, whatever the driver needs to start. Where /proc is missing (not Linux), no
    limit is set.
    """

    def __init__(self, renderer: ShaderRenderer, megabytes: int) -> None:
        self.renderer = renderer
        self.share = (megabytes << 20) // _CACHE_SHARE
        self.cache_ceiling: int | None = None
        held = memory_in_use("VmData")
        if held is None:
            return
        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        limit = held + (megabytes << 20)
        # Never raise a limit the process was given.
        for given in (soft, hard):
            if given != resource.RLIM_INFINITY:
                limit = min(limit, given)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
        resident = memory_in_use("RssAnon")
        if resident is not None:
            self.cache_ceiling = resident + self.share

    def before_compile(self) -> None:
        if self.cache_ceiling is None:
            return
        resident = memory_in_use("RssAnon")
        if resident is not None and resident > self.cache_ceiling:
            self.renderer.clear_cache()
            _return_freed_memory()
            # Memory the cache did not hold stays: the cache gets its share above that, rather
            # than being emptied before every program.
            after = memory_in_use("RssAnon") or resident
            self.cache_ceiling = max(self.cache_ceiling, after + self.share)


def _return_freed_memory() -> None:
    """glibc: give freed heap pages back to the system, so that RssAnon shows what is in use."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _serve() -> None:
    """The child: render requests from stdin until it closes."""
    options = json.loads(sys.argv[1])
    die_with_parent(options.get("parent"))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write to the protocol stream
    try:
        renderer = ShaderRenderer(options["width"], options["height"], device_index=options["device_index"])
    except RuntimeError as err:
        _reply(stdout, {"status": "error", "message": str(err)})
        return
    shared = mmap.mmap(options["shared_fd"], options["shared_bytes"])
    slot_bytes = options["shared_bytes"] // IN_FLIGHT
    guard = _MemoryGuard(renderer, options["memory_mb"])
    _reply(stdout, {"status": "ready", "renderer": renderer.renderer_name})
    try:
        for request in _requests(stdin):
            guard.before_compile()
            try:
                compiled = renderer.compile(request["key"], request["code"])
            except ShaderCompileError as err:
                _reply(stdout, {"status": "compile_error", "message": str(err)})
                continue
            base = request["slot"] * slot_bytes
            for view, t in enumerate(request["times"]):
                renderer.render_into(compiled, t, shared, base + view * renderer.frame_bytes)
            _reply(stdout, {"status": "ok"})
    except MemoryError:
        # Over the limit in Python code: end at once, without a traceback or GL clean-up that may
        # need memory too; the parent counts a crash and starts a fresh process.
        os._exit(OUT_OF_MEMORY_EXIT)
    renderer.close()


if __name__ == "__main__":
    _serve()
