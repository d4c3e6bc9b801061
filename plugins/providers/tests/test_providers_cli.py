"""``llmspell providers`` with the HTTP providers: usable or not and why, --check, no keys shown."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import Answer, WireServer
from llmspell.cli.app import CliState, cli
from llmspell.config import parse
from llmspell.kernel import Kernel
from llmspell_providers import plugin


def kernel_for(wire: WireServer) -> Kernel:
    config = parse({"providers": {
        "openai": {"base_url": wire.url, "max_retries": 0},
        "groq": {"base_url": wire.url},
        "llamacpp": {"base_url": "http://127.0.0.1:9/v1", "connect_timeout": 1},
    }})
    return Kernel.load(entry_points=False, plugins=[("providers", plugin)], config=config)


def test_providers_json_shows_usability_without_keys(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    result = CliRunner().invoke(cli, ["providers", "--json"], obj=CliState(kernel_for(wire)))
    assert result.exit_code == 0, result.output
    assert "sk-secret-value" not in result.output
    data = json.loads(result.stdout)
    rows = {row["name"]: row for row in data["providers"]}
    assert rows["openai"]["usable"] and rows["openai"]["detail"] == "OPENAI_API_KEY is set"
    assert not rows["groq"]["usable"] and rows["groq"]["detail"] == "GROQ_API_KEY is not set"
    assert rows["ollama"]["usable"]  # needs no key
    assert "gpt-4o-mini" in rows["openai"]["models"]
    assert rows["openai"]["plugin"] == "providers"
    assert data["default_model"] == ["openai/gpt-4o-mini"]
    assert wire.requests == []


def test_providers_check_contacts_the_servers(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    wire.add(Answer(body={"data": [{"id": "gpt-4o-mini"}]}))
    result = CliRunner().invoke(cli, ["providers", "--check", "--json"],
                                obj=CliState(kernel_for(wire)))
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)["providers"]}
    assert rows["openai"]["usable"] and rows["openai"]["detail"].endswith("answered")
    assert wire.requests[0].path == "/models"
    assert wire.requests[0].headers["authorization"] == "Bearer sk-secret-value"
    assert not rows["llamacpp"]["usable"]
    assert rows["llamacpp"]["detail"].startswith("cannot reach http://127.0.0.1:9/v1")


def test_providers_table(wire: WireServer) -> None:
    result = CliRunner().invoke(cli, ["providers"], obj=CliState(kernel_for(wire)))
    assert result.exit_code == 0, result.output
    assert "openai" in result.stdout and "OPENAI_API_KEY" in result.stdout
    assert "default model:" in result.stdout
