"""Fixtures of the tools-web tests (the servers and helpers are in web_support.py)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_support import LoopbackServer, Reply, default_routes

from llmspell.config import Config
from llmspell.kernel import Kernel

# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer(default_routes())
    yield srv
    srv.stop()


@pytest.fixture
def other_server() -> Iterator[LoopbackServer]:
    """A second server (fresh per test) that tests expect never to be contacted."""
    srv = LoopbackServer({"/": lambda req: Reply(body="forbidden target")})
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def kernel() -> Kernel:
    # env={}: every entry point; an empty Config: no user file can change these tests
    return Kernel.load(env={}, config=Config())


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Self-signed certificates made with the openssl command: one for the names
    ``service.test`` and ``localhost``, one for ``wrong.test``."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed for the TLS tests")
    folder = tmp_path_factory.mktemp("tls")
    out = {}
    for label, names in (("good", "DNS:service.test,DNS:localhost"), ("wrong", "DNS:wrong.test")):
        cert, key = folder / f"{label}.pem", folder / f"{label}.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={label}", "-addext", f"subjectAltName={names}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=60,
        )
        out[label], out[f"{label}_key"] = cert, key
    return out
