"""The settings of ``web_search`` in ``[plugins.tools-web]``, checked without importing the
search backends or the fetch layer (the plugin checks them when the kernel loads; the tool itself
is built on first use)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from llmspell.config import Table

DEFAULT_BACKEND = "duckduckgo"
#: the backends built into :mod:`llmspell_tools_web.search`, whose settings are keys of the
#: ``[plugins.tools-web]`` table itself
BUILTIN_NAMES = ("searxng", "brave", "duckduckgo")
#: Settings of ``[plugins.tools-web]``.
SETTINGS = ("search_backend", "searxng_url", "brave_url", "brave_api_key_env",
            "duckduckgo_url", "backends")
BACKEND_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def check_settings(settings: Table) -> None:
    """Refuse (``config_error``) unknown keys, secrets and malformed values of
    ``[plugins.tools-web]``."""
    settings.check_keys(SETTINGS)
    for key in ("searxng_url", "brave_url", "duckduckgo_url"):
        value = settings.get(key, str, "")
        if key in settings and urlsplit(value).scheme not in ("http", "https"):
            raise settings.error(key, f"must be an http:// or https:// URL, got {value!r}")
    for key in ("search_backend", "brave_api_key_env"):
        value = settings.get(key, str, "")
        if key in settings and not value:
            raise settings.error(key, "must not be empty")
    backend = settings.get("search_backend", str, DEFAULT_BACKEND)
    if not BACKEND_NAME.fullmatch(backend):
        raise settings.error("search_backend", f"is not a backend name: {backend!r}")
    tables = settings.get("backends", dict, {})
    for name, body in tables.items():
        if not isinstance(body, dict):
            raise settings.error(f"backends.{name}", f"must be a table, got {body!r}")
        sub = backend_settings(settings, name)
        sub.check_keys(tuple(body))  # only the secret check; the backend checks the rest


def backend_settings(settings: Table, name: str) -> Table:
    """What backend ``name``'s factory receives: the whole ``[plugins.tools-web]`` table for a
    built-in, ``[plugins.tools-web.backends.NAME]`` for any other."""
    if name in BUILTIN_NAMES:
        return settings
    tables = settings.get("backends", dict, {})
    body = tables.get(name, {})
    return Table(f"{settings.path}.backends.{name}", body if isinstance(body, dict) else {},
                 settings.source)
