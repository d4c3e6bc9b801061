"""Isolation for every test of the workspace: no user configuration file and no provider keys
from the developer's environment, so no test picks a hosted model or reaches the internet."""

from __future__ import annotations

import pytest

PROVIDER_ENV = (
    "LLMSPELL_MODEL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GROQ_API_KEY",
    "OPENROUTER_API_KEY",
)


@pytest.fixture(autouse=True)
def _isolated_llmspell_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    config_home = tmp_path_factory.mktemp("xdg-config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    monkeypatch.delenv("LLMSPELL_CONFIG", raising=False)
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
