"""A real HTTP/1.1 server on 127.0.0.1 for the providers' wire tests.

Each request is answered by the next scripted :class:`Answer` (JSON, raw bytes, server-sent
events that may pause or be cut off, or a delay before another answer). The server records
every request and counts the connections open on its side, so tests can prove that no
connection leaks.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import pytest


@attrs.define
class Answer:
    """One scripted answer. ``events`` (SSE data strings or JSON values) makes a stream;
    ``cut_after`` closes the connection abruptly after that many events; ``delay`` waits before
    answering and ``event_delay`` between events."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = attrs.field(factory=dict)
    events: list[Any] | None = None
    cut_after: int | None = None
    delay: float = 0.0
    event_delay: float = 0.0


@attrs.define
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


def sse(*events: Any) -> Answer:
    return Answer(events=list(events))


def named_event(kind: str, data: Any) -> str:
    """A server-sent event with an ``event:`` line (the Anthropic shape), for :func:`sse`."""
    return f"event: {kind}\ndata: {json.dumps(data)}"


class WireServer:
    def __init__(self) -> None:
        self.answers: deque[Answer] = deque()
        self.requests: list[Seen] = []
        self.open_connections = 0
        self.connections = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def handle(self) -> None:
                with server._lock:
                    server.open_connections += 1
                    server.connections += 1
                try:
                    super().handle()
                except (ConnectionError, OSError):
                    pass
                finally:
                    with server._lock:
                        server.open_connections -= 1

            def do_GET(self) -> None:
                self._answer(None)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                self._answer(body)

            def _answer(self, body: Any) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append(Seen(self.command, self.path, headers, body))
                try:
                    answer = server.answers.popleft()
                except IndexError:
                    answer = Answer(500, {"error": {"message": "no scripted answer left"}})
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.events is not None:
                    self._stream(answer)
                    return
                payload = answer.raw if answer.raw is not None else json.dumps(
                    answer.body if answer.body is not None else {}
                ).encode()
                self.send_response(answer.status)
                self.send_header("content-type", answer.headers.pop(
                    "content-type", "application/json"))
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, answer: Answer) -> None:
                self.send_response(answer.status)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                assert answer.events is not None
                for i, event in enumerate(answer.events):
                    if answer.cut_after is not None and i >= answer.cut_after:
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    if answer.event_delay:
                        time.sleep(answer.event_delay)
                    text = event if isinstance(event, str) else json.dumps(event)
                    if not text.startswith(("data:", "event:")):
                        text = f"data: {text}"
                    data = (text + "\n\n").encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    def wait_closed(self, timeout: float = 5.0) -> int:
        """The connections still open on the server after waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.open_connections and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.open_connections

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def wire() -> Iterator[WireServer]:
    """A fresh loopback server; after the test (and its trio run) no connection may be left
    open."""
    server = WireServer()
    try:
        yield server
        assert server.wait_closed() == 0, "a connection to the wire server leaked"
    finally:
        server.close()
