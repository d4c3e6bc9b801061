"""Fixtures of the tools-data tests: the kernel (loaded through the entry points), helpers that
call a tool through a real run (``SpellRun.open`` + ``run.call_tool``), by default under the
empty :class:`SecurityPolicy` (no roots, hosts, processes or environment) since the data tools
need no permission, and a real HTTP server on 127.0.0.1 that records every request (to prove
that nothing is fetched)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.security import SecurityPolicy


@pytest.fixture(scope="module")
def kernel() -> Kernel:
    # env={}: load every entry point, whatever LLMSPELL_* the developer has set
    return Kernel.load(env={})


class Tools:
    """Calls tools of ``kernel`` through a real run under ``policy`` (empty by default)."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    async def call(self, name: str, args: Any, policy: SecurityPolicy | None = None) -> Any:
        async with SpellRun.open(self.kernel, policy=policy or SecurityPolicy()) as run:
            return await run.call_tool(name, args)

    async def error(
        self, name: str, args: Any, policy: SecurityPolicy | None = None
    ) -> LlmspellError:
        """The error the call raises (the test fails if it succeeds)."""
        with pytest.raises(LlmspellError) as info:
            await self.call(name, args, policy)
        return info.value

    async def invalid(self, name: str, args: Any, argument: str | None) -> LlmspellError:
        """The ``invalid_args`` error of the call, checked to name the tool and ``argument``
        (``None``: a schema error on a missing or unexpected property, named in the text)."""
        err = await self.error(name, args)
        assert err.code == "invalid_args", err.message
        assert err.message.startswith(f"tool {name!r}: "), err.message
        assert err.details["tool"] == name
        if argument is not None:
            assert f"argument {argument!r}" in err.message, err.message
            assert err.details["argument"] == argument
        return err


@pytest.fixture(scope="module")
def tools(kernel: Kernel) -> Tools:
    return Tools(kernel)


class RecordingServer:
    """A real HTTP server on 127.0.0.1 answering every GET with ``body`` and recording the
    paths asked for in ``requests``."""

    def __init__(self) -> None:
        self.body = b""
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def recording_server() -> Iterator[RecordingServer]:
    server = RecordingServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        server.thread.join()
