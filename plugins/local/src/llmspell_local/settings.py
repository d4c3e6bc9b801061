"""The settings of ``[providers.local]`` in llmspell.toml, checked when the plugin registers.

```toml
[providers.local]
models = {qwen = "~/models/qwen2.5-0.5b-instruct-q4_k_m.gguf"}   # more GGUF files by name
default_model = "qwen"            # the model of agents that name none (default "smollm2")
n_ctx = 4096                      # context window in tokens
n_threads = 2                     # CPU threads (default: llama-cpp-python's, half the cores)
seed = 0                          # sampling seed when a request gives none; -1: random
max_tokens = 512                  # output cap when a request gives none
max_tool_calls = 1                # tool calls one reply may hold (chatml-function-calling)
answer_after_tools = true         # after tool results (tool_choice auto), answer in text
chat_format = "chatml-function-calling"   # prompt format of requests with tools
text_chat_format = "model"        # prompt format of requests without tools ("model": the GGUF's)
```

Chat format names are checked when a model is first used (they need llama-cpp-python, which
registration does not import).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from llmspell.config import Table
from llmspell_local.model_files import SMOLLM2, ModelFile, is_path_name

KEYS = (
    "models",
    "default_model",
    "n_ctx",
    "n_threads",
    "seed",
    "max_tokens",
    "max_tool_calls",
    "answer_after_tools",
    "chat_format",
    "text_chat_format",
)
#: llama.cpp makes every context at least this long; llama-cpp-python breaks below it.
MIN_CONTEXT = 256
#: The tool-calling protocol llmspell drives itself (see :mod:`llmspell_local.function_calling`).
FUNCTION_CALLING = "chatml-function-calling"
#: ``text_chat_format`` value meaning: the chat template stored in the GGUF file.
MODEL_TEMPLATE = "model"


@attrs.define(frozen=True)
class LocalSettings:
    """Everything the local provider reads from its config table. ``table`` is kept so that
    errors found later (an unknown chat format) name the file and key."""

    models: Mapping[str, ModelFile] = attrs.field(factory=dict)
    default_model: str = SMOLLM2
    n_ctx: int = 4096
    n_threads: int | None = None
    seed: int = 0
    max_tokens: int = 512
    max_tool_calls: int = 1
    #: with ``tool_choice`` auto (or none given), a request whose last message is a tool result
    #: is answered in text: small models otherwise call tools again and again
    answer_after_tools: bool = True
    chat_format: str = FUNCTION_CALLING
    text_chat_format: str = MODEL_TEMPLATE
    table: Table = attrs.field(factory=lambda: Table("providers.local"))

    @classmethod
    def from_table(cls, table: Table) -> LocalSettings:
        """The settings of ``table``; ``config_error`` naming the file and key for an unknown
        key, a value of the wrong type or out of range, or a default model that is not known."""
        table.check_keys(KEYS)
        models = _models(table)
        default_model = table.get("default_model", str, SMOLLM2)
        if default_model != SMOLLM2 and default_model not in models and not is_path_name(
            default_model
        ):
            known = ", ".join(repr(m) for m in [SMOLLM2, *models])
            raise table.error(
                "default_model",
                f"names no known model {default_model!r} (known: {known}; or a path to a "
                f".gguf file)",
            )
        seed = table.get("seed", int, 0)
        if seed < -1:
            raise table.error("seed", f"must be 0 or more, or -1 for a random seed, got {seed}")
        return cls(
            models=models,
            default_model=default_model,
            n_ctx=_at_least(table, "n_ctx", 4096, MIN_CONTEXT),
            n_threads=_at_least(table, "n_threads", 1, 1) if "n_threads" in table else None,
            seed=seed,
            max_tokens=_at_least(table, "max_tokens", 512, 1),
            max_tool_calls=_at_least(table, "max_tool_calls", 1, 1),
            answer_after_tools=table.get("answer_after_tools", bool, True),
            chat_format=_format(table, "chat_format", FUNCTION_CALLING),
            text_chat_format=_format(table, "text_chat_format", MODEL_TEMPLATE),
            table=table,
        )


def _at_least(table: Table, key: str, default: int, low: int) -> int:
    value = table.get(key, int, default)
    if value < low:
        raise table.error(key, f"must be at least {low}, got {value!r}")
    return value


def _format(table: Table, key: str, default: str) -> str:
    value = table.get(key, str, default).strip()
    if not value:
        raise table.error(key, "must name a chat format, got an empty string")
    return value


def _models(table: Table) -> dict[str, ModelFile]:
    """``models = {NAME = PATH}``: relative paths are taken from the config file's folder."""
    raw = table.get("models", dict, {})
    base = table.source.parent if table.source is not None else Path.cwd()
    out = {}
    for name, value in raw.items():
        key = f"models.{name}"
        if not name or "/" in name or is_path_name(name):
            raise table.error(key, "is not a usable model name (no '/', not ending in .gguf)")
        if not isinstance(value, str) or not value.strip():
            raise table.error(key, f"must be the path of a GGUF file, got {value!r}")
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = base / path
        where = f"{table.source}: " if table.source else ""
        out[name] = ModelFile(name, path, f"{where}{table.path}.{key}")
    return out
