"""An OpenAI-compatible chat completions server on 127.0.0.1, for tests that go through a real
HTTP provider (``protocol = "openai"``, ``base_url = server.url``) without leaving the machine.

It answers every ``POST`` with one JSON chat completion (no streaming) built by a function of the
request body, and records each request's path and body.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

#: the assistant message answering a request body: ``{"role": "assistant", "content": ...}``,
#: with ``"tool_calls"`` (OpenAI's shape) to ask for tools
Answer = Callable[[dict[str, Any]], dict[str, Any]]


def numbered_answers(body: dict[str, Any], number: int) -> dict[str, Any]:
    """The default answer: ``"answer N"`` for the N-th request."""
    return {"role": "assistant", "content": f"answer {number}"}


class ChatServer:
    """A running server; :attr:`url` is its ``.../v1`` base URL, :attr:`requests` the
    ``(path, body)`` of every request so far. ``answer(body)`` gives the assistant message
    (default: ``"answer N"``); ``usage`` is reported with every answer. Use it as a context
    manager, or call :meth:`close`."""

    def __init__(
        self,
        answer: Answer | None = None,
        *,
        usage: tuple[int, int] = (12, 3),
    ) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                server.requests.append((self.path, body))
                number = len(server.requests)
                message = answer(body) if answer is not None else numbered_answers(body, number)
                finish = "tool_calls" if message.get("tool_calls") else "stop"
                prompt, completion = usage
                payload = json.dumps({
                    "id": f"chatcmpl-{number}", "object": "chat.completion",
                    "model": body.get("model"),
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                              "total_tokens": prompt + completion},
                }).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The request bodies so far, in order."""
        return [body for _, body in self.requests]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ChatServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
