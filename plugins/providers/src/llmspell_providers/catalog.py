"""The providers this package offers out of the box, and the ones a config file adds.

Every built-in can be tuned in ``[providers.NAME]`` of llmspell.toml; a table with a new name and
a ``protocol`` (``openai``, ``anthropic``, ``gemini``) and ``base_url`` adds a provider, e.g. a
vLLM server on another machine.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from llmspell.config import Config
from llmspell.errors import did_you_mean
from llmspell_providers.prices import PriceTable
from llmspell_providers.spec import HttpSettings, ProviderSpec

if TYPE_CHECKING:
    from llmspell_providers.base import HttpProvider

#: Protocol name -> ``module:class`` of its provider (imported when used).
PROTOCOLS: dict[str, str] = {
    "openai": "llmspell_providers.openai:OpenAIProvider",
    "anthropic": "llmspell_providers.anthropic:AnthropicProvider",
    "gemini": "llmspell_providers.gemini:GeminiProvider",
}


def _spec(
    name: str,
    protocol: str,
    base_url: str,
    key_env: str | None,
    *,
    default_model: str | None = None,
    rank: int = 0,
    models: tuple[str, ...] = (),
    fallbacks: tuple[str, ...] = (),
) -> ProviderSpec:
    return ProviderSpec(
        name=name,
        protocol=protocol,
        http=HttpSettings(base_url=base_url),
        api_key_env=key_env,
        key_required=key_env is not None,
        models=models,
        default_model=default_model,
        default_rank=rank,
        free=key_env is None,
        api_key_fallbacks=fallbacks,
    )


#: Built-in providers. Hosted ones need their key variable; local servers need none and cost 0.
#: Those with a default model are candidates for the model of agents that name none, by rank.
BUILTINS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        _spec("openai", "openai", "https://api.openai.com/v1", "OPENAI_API_KEY",
              default_model="gpt-4o-mini", rank=100,
              models=("gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
                      "gpt-5", "gpt-5-mini", "gpt-5-nano", "o3", "o3-mini", "o4-mini")),
        _spec("anthropic", "anthropic", "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY",
              default_model="claude-haiku-4-5", rank=90,
              models=("claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-5",
                      "claude-opus-4-1", "claude-sonnet-4-0", "claude-opus-4-0")),
        # GEMINI_API_KEY, or GOOGLE_API_KEY when that is unset (Google's SDKs read both)
        _spec("gemini", "gemini", "https://generativelanguage.googleapis.com/v1beta",
              "GEMINI_API_KEY", default_model="gemini-2.5-flash", rank=80,
              fallbacks=("GOOGLE_API_KEY",),
              models=("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite",
                      "gemini-3-pro-preview", "gemini-3-flash-preview")),
        _spec("groq", "openai", "https://api.groq.com/openai/v1", "GROQ_API_KEY",
              models=("llama-3.3-70b-versatile", "llama-3.1-8b-instant")),
        _spec("openrouter", "openai", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
        _spec("ollama", "openai", "http://127.0.0.1:11434/v1", None),
        _spec("lmstudio", "openai", "http://127.0.0.1:1234/v1", None),
        _spec("vllm", "openai", "http://127.0.0.1:8000/v1", None),
        _spec("llamacpp", "openai", "http://127.0.0.1:8080/v1", None),
    )
    if spec.protocol in PROTOCOLS
}


def provider_class(protocol: str) -> type[HttpProvider]:
    """The provider class of a protocol of :data:`PROTOCOLS` (imported now)."""
    module, _, cls = PROTOCOLS[protocol].partition(":")
    found: type[HttpProvider] = getattr(importlib.import_module(module), cls)
    return found


def build_specs(config: Config) -> list[ProviderSpec]:
    """The built-in providers with their config tables applied, and the providers the config
    adds, checked without importing the HTTP stack. Raises ``config_error`` for a malformed
    table."""
    out = []
    for name in sorted(set(BUILTINS) | set(config.providers)):
        table = config.provider(name)
        if name in BUILTINS:
            base = BUILTINS[name]
            if table.get("protocol", str, base.protocol) != base.protocol:
                raise table.error("protocol", f"cannot change the protocol of built-in "
                                              f"provider {name!r} (add a provider of another "
                                              f"name instead)")
        else:
            protocol = table.get("protocol", str, "")
            if not protocol:
                # a table of another plugin's provider (local ...), unless it looks meant for
                # this one: a base_url, or a name one typo away from a built-in
                import difflib  # only for a misspelt name (start-up time)

                close = difflib.get_close_matches(name, BUILTINS, n=1, cutoff=0.8)
                if "base_url" not in table and not close:
                    continue
                hint = f" (or did you mean the built-in {close[0]!r}?)" if close else ""
                raise table.error("protocol", f"is required for a provider llmspell does not "
                                              f"know ({', '.join(PROTOCOLS)}){hint}")
            if protocol not in PROTOCOLS:
                raise table.error("protocol", f"names an unknown protocol {protocol!r}"
                                  + did_you_mean(protocol, PROTOCOLS))
            if "base_url" not in table:
                raise table.error("base_url", "is required for a new provider")
            base = ProviderSpec(name=name, protocol=protocol,
                                http=HttpSettings(base_url=table.get("base_url", str, "")),
                                key_required=False)
        out.append(base.merged(table))
    return out


def build_providers(
    config: Config, prices: PriceTable, env: Mapping[str, str] | None = None
) -> list[HttpProvider]:
    """The providers of :func:`build_specs`, built now (this imports httpx)."""
    return [provider_class(spec.protocol)(spec, prices, env=env) for spec in build_specs(config)]
