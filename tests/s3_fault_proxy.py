"""A reverse proxy on 127.0.0.1 between an S3 client and an S3 server that injects faults.

    proxy = FaultProxy(upstream="http://127.0.0.1:5000", faults=random_faults(0.2, seed=1))
    with proxy:
        ...  # point the client's endpoint_url at proxy.url
    proxy.injected  # Counter of faults by kind

Faults, each decided per request by `faults(method, path)`:
  reset  the connection is reset before any response (TCP RST)
  500    an S3 InternalError
  503    S3 throttling (SlowDown)
  slow   the request is forwarded after a delay
  lost   a PUT is answered 200 but never reaches the server (a store that loses a write)
"""

from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FAULT_KINDS = ("reset", "500", "503", "slow", "lost")
Faults = Callable[[str, str], "str | None"]
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}
_ERRORS = {
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "SlowDown", "Please reduce your request rate."),
}


def random_faults(rate: float, seed: int, kinds: tuple[str, ...] = FAULT_KINDS) -> Faults:
    """Each request meets a fault with probability `rate`; the faults take `kinds` in turn, so
    every kind is met once there have been as many faults (`lost` waits for a PUT)."""
    rng = random.Random(seed)
    lock = threading.Lock()
    turn = [0]

    def decide(method: str, path: str) -> str | None:
        with lock:
            if rng.random() >= rate:
                return None
            kind = kinds[turn[0] % len(kinds)]
            if kind == "lost" and method != "PUT":
                return None
            turn[0] += 1
            return kind

    return decide


class FaultProxy:
    def __init__(self, upstream: str, faults: Faults, slow_seconds: float = 0.3) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.faults = faults
        self.slow_seconds = slow_seconds
        self.injected: Counter[str] = Counter()
        self.requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _count(self, kind: str | None) -> None:
        with self._lock:
            self.requests += 1
            if kind:
                self.injected[kind] += 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:  # quiet
                pass

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                body = self._body()
                kind = proxy.faults(self.command, self.path)
                proxy._count(kind)
                if kind == "reset":
                    # SO_LINGER 0: close() sends RST, the client sees "connection reset by peer".
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if kind in _ERRORS:
                    status, code, message = _ERRORS[kind]
                    xml = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
                    self._respond(status, {"Content-Type": "application/xml"}, xml.encode())
                    return
                if kind == "lost":
                    self._respond(200, {"ETag": '"00000000000000000000000000000000"'}, b"")
                    return
                if kind == "slow":
                    time.sleep(proxy.slow_seconds)
                upstream = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    forwarded = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
                    self._respond(response.status, forwarded, data)
                finally:
                    upstream.close()

            def _respond(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() != "content-length":
                        self.send_header(key, value)
                # HEAD answers carry the object's length and no body.
                length = headers.get("Content-Length", headers.get("content-length", str(len(data))))
                self.send_header("Content-Length", length if self.command == "HEAD" else str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        return Handler
