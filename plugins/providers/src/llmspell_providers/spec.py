"""A provider as configured — protocol, URL, key variable, limits — without importing the HTTP
stack, so that registering providers at start-up stays cheap (httpx is imported on first use)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from llmspell.config import Table
from llmspell.providers import ProviderStatus


@attrs.define(frozen=True)
class HttpSettings:
    """Connection and retry settings of one provider (``[providers.NAME]`` in llmspell.toml)."""

    base_url: str
    timeout: float = 120.0  #: seconds to wait for any response byte (also between stream events)
    connect_timeout: float = 10.0
    max_retries: int = 4  #: retries after the first attempt
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 60.0
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None


#: Settings of ``[providers.NAME]`` that every HTTP provider reads.
COMMON_KEYS = (
    "protocol",
    "base_url",
    "api_key_env",
    "models",
    "default_model",
    "free",
    "timeout",
    "connect_timeout",
    "max_retries",
    "backoff_initial",
    "backoff_max",
    "retry_after_max",
    "requests_per_minute",
    "tokens_per_minute",
)


@attrs.define(frozen=True)
class ProviderSpec:
    """A provider as configured: everything but the secret, which stays in the environment
    variable named ``api_key_env`` until a request is built."""

    name: str
    protocol: str
    http: HttpSettings
    api_key_env: str | None = None
    key_required: bool = True
    models: tuple[str, ...] = ()
    default_model: str | None = None
    default_rank: int = 0
    free: bool = False
    #: variables tried, in order, when ``api_key_env`` is unset (``GOOGLE_API_KEY`` for Gemini)
    api_key_fallbacks: tuple[str, ...] = ()

    def key_variable(self, env: Mapping[str, str]) -> str | None:
        """The variable the key is read from: ``api_key_env``, or the first fallback that is
        set when it is not."""
        if self.api_key_env and not env.get(self.api_key_env):
            for other in self.api_key_fallbacks:
                if env.get(other):
                    return other
        return self.api_key_env

    def key_names(self) -> str:
        """The variables a key may come from, for messages: ``"A or B"``."""
        return " or ".join((self.api_key_env or "api_key_env", *self.api_key_fallbacks))

    def status(self, env: Mapping[str, str]) -> ProviderStatus:
        """Usable when its key variable is set (or it needs none); never reveals the key."""
        name = self.key_variable(env)
        if name and env.get(name):
            return ProviderStatus(True, f"{name} is set")
        if self.key_required:
            return ProviderStatus(False, f"{self.key_names()} is not set")
        return ProviderStatus(True, f"no key needed ({self.http.base_url})")

    def merged(self, table: Table) -> ProviderSpec:
        """This spec with the settings of its ``[providers.NAME]`` table applied."""
        table.check_keys(COMMON_KEYS)
        h = self.http
        http = HttpSettings(
            base_url=table.get("base_url", str, h.base_url),
            timeout=table.positive("timeout", h.timeout) or h.timeout,
            connect_timeout=table.positive("connect_timeout", h.connect_timeout)
            or h.connect_timeout,
            max_retries=_non_negative(table, "max_retries", h.max_retries),
            backoff_initial=table.positive("backoff_initial", h.backoff_initial)
            or h.backoff_initial,
            backoff_max=table.positive("backoff_max", h.backoff_max) or h.backoff_max,
            retry_after_max=table.positive("retry_after_max", h.retry_after_max)
            or h.retry_after_max,
            requests_per_minute=table.positive("requests_per_minute", h.requests_per_minute),
            tokens_per_minute=table.positive("tokens_per_minute", h.tokens_per_minute),
        )
        if not http.base_url.startswith(("http://", "https://")):
            raise table.error("base_url", f"must start with http:// or https://, got "
                              f"{http.base_url!r}")
        models = table.get("models", list, list(self.models))
        if not all(isinstance(m, str) for m in models):
            raise table.error("models", f"must be a list of model names, got {models!r}")
        env = table.get("api_key_env", str, self.api_key_env or "")
        return attrs.evolve(
            self,
            http=http,
            api_key_env=env or None,
            api_key_fallbacks=self.api_key_fallbacks if env == self.api_key_env else (),
            key_required=self.key_required or "api_key_env" in table,
            models=tuple(models),
            default_model=table.get("default_model", str, self.default_model or "") or None,
            free=table.get("free", bool, self.free),
        )


def _non_negative(table: Table, key: str, default: int) -> int:
    value = table.get(key, int, default)
    if value < 0:
        raise table.error(key, f"must be 0 or more, got {value!r}")
    return value


class SpecBacked:
    """What the kernel asks of a provider without a request, answered from its
    :class:`ProviderSpec` (``self.spec``) and environment (``self._env``): the default model
    and its rank, the known models, and whether it is usable now."""

    spec: ProviderSpec
    _env: Mapping[str, str]

    @property
    def default_model(self) -> str | None:
        return self.spec.default_model

    @property
    def default_rank(self) -> int:
        return self.spec.default_rank

    def models(self) -> list[str]:
        return list(self.spec.models)

    def status(self) -> ProviderStatus:
        """Usable when its key variable is set (or it needs none); never reveals the key."""
        return self.spec.status(self._env)
