"""Concurrency through the HTTP provider layer: 100 agents at once against a loopback
OpenAI-compatible server that answers every request after 100 ms.

Run: ``uv run python bench/bench_providers.py``; ``bench/report.py`` writes bench/RESULTS.md.
If the calls ran one after another they would take 10 s; the target is all 100 within 0.5 s.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trio

from llmspell.agents import LLMAgent
from llmspell.config import parse
from llmspell.runtime import SpellRun
from llmspell.testing import make_kernel
from llmspell_providers.catalog import build_providers
from llmspell_providers.prices import PriceTable

AGENTS = 100
DELAY = 0.1
ROUNDS = 5

REPLY = json.dumps({
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "done"},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 1},
}).encode()


class SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        time.sleep(DELAY)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(REPLY)))
        self.end_headers()
        self.wfile.write(REPLY)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # 100 clients connect at once


async def concurrent_agents(url: str) -> float:
    """Seconds for :data:`AGENTS` agent runs started together (median of :data:`ROUNDS`)."""
    config = parse({"providers": {"llamacpp": {"base_url": url}}})
    [provider] = [p for p in build_providers(config, PriceTable.load(config))
                  if p.name == "llamacpp"]
    kernel = make_kernel()
    kernel.providers.add("llamacpp", provider, replace=True)
    agents = [LLMAgent(name=f"a{i}", model="llamacpp/m") for i in range(AGENTS)]
    samples = []
    async with SpellRun.open(kernel) as run:
        for _ in range(ROUNDS + 1):  # the first round opens the connections
            start = time.perf_counter()
            async with trio.open_nursery() as nursery:
                for agent in agents:
                    nursery.start_soon(run.run_agent, agent, "go")
            samples.append(time.perf_counter() - start)
    return statistics.median(samples[1:])


METRICS: dict[str, float] = {}


def serve() -> None:
    """The server, in its own process (so that it does not compete for this one's GIL): prints
    its port, then serves until killed."""
    server = Server(("127.0.0.1", 0), SlowHandler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


async def main() -> str:
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        wall = await concurrent_agents(f"http://127.0.0.1:{port}/v1")
    finally:
        server.kill()
        server.wait()
    METRICS["agents_100_concurrent_s"] = wall
    return "\n".join([
        "## Concurrent agents over HTTP (`bench/bench_providers.py`)",
        "",
        f"{AGENTS} agents started together, each one call to an OpenAI-compatible server on "
        f"127.0.0.1 that answers after {DELAY * 1000:.0f} ms (another process, one thread per "
        "connection).",
        "",
        "| agents | wall s (median) | sequential would take | target |",
        "|---|---|---|---|",
        f"| {AGENTS} | {wall:.3f} | {AGENTS * DELAY:.1f} s | < 0.5 s |",
        "",
    ])


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        print(trio.run(main))
