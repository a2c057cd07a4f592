"""Shader programs run in a child process under a watchdog.

A fragment program can loop forever (GPU drivers without a display have no timeout) or crash
the driver and the process with it. So GL lives in a child process
(`python -m synthgen.sources.shader.watchdog`), and the parent waits for each sample with a
deadline: a hang or a crash costs that one sample (and excludes its program), not the render.

Requests and replies are 4-byte big-endian lengths followed by JSON, over the child's stdin and
stdout. Pixels do not go through the pipe: the child reads them from GL straight into a shared
memory-mapped file, one slot per request in flight. Two requests are in flight, so the child
renders the next sample while the parent takes the last one.
"""

from __future__ import annotations

import collections
import json
import mmap
import os
import selectors
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import IO, Any

from synthgen.processes import die_with_parent
from synthgen.sources.shader.gl import Frame, ShaderCompileError, ShaderRenderer, read_frame

_LENGTH = struct.Struct(">I")
# Start-up of a fresh child: Python, numpy, moderngl and the GL driver.
START_TIMEOUT = 60.0
IN_FLIGHT = 2


class ShaderHang(Exception):
    """The program did not finish within the watchdog's time."""


class ShaderCrash(Exception):
    """The render process died while running the program."""


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
    ) -> None:
        self.width, self.height = width, height
        self.device_index = device_index
        self.frame_seconds, self.compile_seconds = frame_seconds, compile_seconds
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
        }
        self._process = subprocess.Popen(
            [sys.executable, "-m", "synthgen.sources.shader.watchdog", json.dumps(options)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            pass_fds=(self._shared_fd,),
        )
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
        """Render one program at each time; raises ShaderCompileError, ShaderHang or ShaderCrash."""
        [result] = self.render_many([(key, code, times)])
        if isinstance(result, Exception):
            raise result
        return result

    def render_many(self, jobs: Sequence[RenderJob]) -> list[list[Frame] | Exception]:
        """Render each job; a job's result is its frames or the ShaderCompileError, ShaderHang or
        ShaderCrash it ended with. A hang or a crash restarts the child, and the jobs that were in
        flight with it are sent again.

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
                    raise ShaderCrash(f"the GL render process died (exit status {self._process.poll()})")
                chunks.append(chunk)
                n -= len(chunk)
        return b"".join(chunks)

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
        self._shared.close()
        os.close(self._shared_fd)


def _requests(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    while header := stream.read(_LENGTH.size):
        yield json.loads(stream.read(_LENGTH.unpack(header)[0]))


def _reply(out: IO[bytes], message: dict[str, Any]) -> None:
    data = json.dumps(message).encode()
    out.write(_LENGTH.pack(len(data)) + data)
    out.flush()


def _serve() -> None:
    """The child: render requests from stdin until it closes."""
    die_with_parent()
    options = json.loads(sys.argv[1])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write to the protocol stream
    try:
        renderer = ShaderRenderer(options["width"], options["height"], device_index=options["device_index"])
    except RuntimeError as err:
        _reply(stdout, {"status": "error", "message": str(err)})
        return
    shared = mmap.mmap(options["shared_fd"], options["shared_bytes"])
    slot_bytes = options["shared_bytes"] // IN_FLIGHT
    _reply(stdout, {"status": "ready", "renderer": renderer.renderer_name})
    for request in _requests(stdin):
        try:
            compiled = renderer.compile(request["key"], request["code"])
        except ShaderCompileError as err:
            _reply(stdout, {"status": "compile_error", "message": str(err)})
            continue
        base = request["slot"] * slot_bytes
        for view, t in enumerate(request["times"]):
            renderer.render_into(compiled, t, shared, base + view * renderer.frame_bytes)
        _reply(stdout, {"status": "ok"})
    renderer.close()


if __name__ == "__main__":
    _serve()
