"""The configuration file ``llmspell.toml``: default model, providers, prices, plugin settings.

Two files are read, the later overriding the earlier table by table:

1. the user's file: ``$LLMSPELL_CONFIG`` if set, else ``$XDG_CONFIG_HOME/llmspell/llmspell.toml``
   (``~/.config/llmspell/llmspell.toml``; ``%APPDATA%\\llmspell\\llmspell.toml`` on Windows);
2. the project's file: ``llmspell.toml`` in the project directory
   (:func:`llmspell.project.project_dir`).

Top-level keys:

``default_model``
    a model string ``"provider/model"`` or a fallback list of them.
``[providers.NAME]``
    settings of one provider, read by the provider plugin that owns ``NAME`` (or, with
    ``protocol = "openai"`` and a ``base_url``, a new provider of that protocol).
``[prices."provider/model"]``
    ``input``/``output`` prices in US dollars per million tokens, overriding the built-in table.
``[plugins.NAME]``
    free-form settings of a plugin.
``[runs]``
    the run log (:mod:`llmspell.runlog`): ``record`` (true), ``keep`` (the newest runs kept,
    200) and ``max_age_days`` (older runs are dropped; no limit by default).

Secrets never live in the file: a provider's key is named by ``api_key_env`` (an environment
variable); an ``api_key`` key is refused. Every malformed value raises ``config_error`` naming the
file and the key.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs

from llmspell.errors import LlmspellError, did_you_mean

CONFIG_ENV = "LLMSPELL_CONFIG"
FILE_NAME = "llmspell.toml"
TOP_LEVEL_KEYS = ("default_model", "providers", "prices", "plugins", "runs")
#: Keys of the ``[runs]`` table.
RUNS_KEYS = ("record", "keep", "max_age_days")
#: How many recorded runs ``[runs] keep`` keeps by default.
DEFAULT_KEEP_RUNS = 200
#: Keys that would hold a secret; the file must name an environment variable instead.
SECRET_KEYS = ("api_key", "key", "token", "secret", "password")

T = TypeVar("T")


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the user's ``llmspell.toml`` lives (it need not exist)."""
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    if sys.platform == "win32" and env.get("APPDATA"):
        return Path(env["APPDATA"]) / "llmspell" / FILE_NAME
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "llmspell" / FILE_NAME


@attrs.define(frozen=True)
class Table:
    """One table of the configuration (``providers.openai`` ...), with typed access.

    ``path`` is the table's dotted name and ``source`` the file that set it, so that every error
    names both.
    """

    path: str
    data: Mapping[str, Any] = attrs.field(factory=dict)
    source: Path | None = None

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def keys(self) -> list[str]:
        return list(self.data)

    def error(self, key: str, problem: str, *, hint: str | None = None) -> LlmspellError:
        """A ``config_error`` for ``key`` of this table."""
        where = f"{self.source}: " if self.source else ""
        return LlmspellError(
            "config_error",
            f"{where}{self.path}.{key} {problem}",
            {"file": str(self.source) if self.source else None, "key": f"{self.path}.{key}"},
            hint=hint,
        )

    def get(self, key: str, kind: type[T] | tuple[type, ...], default: T) -> T:
        """``data[key]`` checked to be of ``kind`` (an ``int`` is accepted for ``float``), else
        ``default`` when absent. A value of another type raises ``config_error``."""
        if key not in self.data:
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.error(key, f"must be {names}, got {value!r}")
        return value  # type: ignore[return-value]

    def positive(self, key: str, default: float | None) -> float | None:
        """A number > 0 (or ``default`` when absent)."""
        value = self.get(key, float, default)
        if value is not None and value <= 0:
            raise self.error(key, f"must be greater than 0, got {value!r}")
        return value

    def check_keys(self, known: tuple[str, ...]) -> None:
        """Refuse keys outside ``known`` (with a did-you-mean) and keys that hold secrets."""
        for key in self.data:
            if key in SECRET_KEYS:
                raise self.error(
                    key,
                    "would put a secret in the file",
                    hint=f"set an environment variable and name it: {self.path}.api_key_env",
                )
            if key not in known:
                raise self.error(key, "is not a known setting" + did_you_mean(key, known))


@attrs.define(frozen=True)
class RunSettings:
    """The ``[runs]`` table: whether runs are recorded into ``.llmspell/runs.db``, and the
    retention applied after each recorded run (the newest ``keep`` runs, none older than
    ``max_age_days``; ``None``: no limit)."""

    record: bool = True
    keep: int | None = DEFAULT_KEEP_RUNS
    max_age_days: float | None = None

    @classmethod
    def from_table(cls, table: Table) -> RunSettings:
        """The settings of a ``[runs]`` table; ``config_error`` naming the key for a bad one."""
        table.check_keys(RUNS_KEYS)
        keep = table.get("keep", int, DEFAULT_KEEP_RUNS)
        if keep < 1:
            raise table.error("keep", f"must be an integer of at least 1, got {keep!r}")
        return cls(
            record=table.get("record", bool, True),
            keep=keep,
            max_age_days=table.positive("max_age_days", None),
        )


@attrs.define(frozen=True)
class Config:
    """The merged configuration; empty (every default) when no file exists."""

    default_model: tuple[str, ...] = ()
    providers: Mapping[str, Table] = attrs.field(factory=dict)
    prices: Mapping[str, Table] = attrs.field(factory=dict)
    plugins: Mapping[str, Table] = attrs.field(factory=dict)
    sources: tuple[Path, ...] = ()
    #: the ``[runs]`` table (checked when the file is read; see :attr:`run_settings`)
    runs: Table = attrs.field(factory=lambda: Table("runs"))

    @property
    def run_settings(self) -> RunSettings:
        """The ``[runs]`` settings (defaults for keys no file sets)."""
        return RunSettings.from_table(self.runs)

    def provider(self, name: str) -> Table:
        """The ``[providers.NAME]`` table (empty when the file has none)."""
        return self.providers.get(name) or Table(f"providers.{name}")

    def plugin(self, name: str) -> Table:
        """The ``[plugins.NAME]`` table (empty when the file has none)."""
        return self.plugins.get(name) or Table(f"plugins.{name}")

    @classmethod
    def load(
        cls, project: Path | None = None, env: Mapping[str, str] | None = None
    ) -> Config:
        """The user's file, then the project's ``llmspell.toml`` (see the module docstring);
        ``project`` defaults to :func:`llmspell.project.project_dir`."""
        from llmspell.project import project_dir

        files = [user_config_path(env)]
        project_file = (project or project_dir()) / FILE_NAME
        if project_file.resolve() != files[0].resolve():
            files.append(project_file)
        config = cls()
        for path in files:
            if path.is_file():
                config = config.merged(parse_file(path))
        return config

    def merged(self, other: Config) -> Config:
        """``other`` over ``self``: its ``default_model`` if it has one, its tables replacing
        tables of the same name key by key."""

        def merge(a: Mapping[str, Table], b: Mapping[str, Table]) -> dict[str, Table]:
            out = dict(a)
            for name, table in b.items():
                if name in out:
                    data = {**out[name].data, **table.data}
                    out[name] = Table(table.path, data, table.source)
                else:
                    out[name] = table
            return out

        return Config(
            other.default_model or self.default_model,
            merge(self.providers, other.providers),
            merge(self.prices, other.prices),
            merge(self.plugins, other.plugins),
            self.sources + other.sources,
            Table("runs", {**self.runs.data, **other.runs.data}, other.runs.source
                  if other.runs.data else self.runs.source),
        )


def parse_file(path: Path) -> Config:
    """One configuration file, checked; ``config_error`` naming the file (and line, for TOML
    syntax errors) when it is malformed."""
    import tomllib  # only when there is a file to read (start-up time)

    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise LlmspellError(
            "config_error", f"{path}: invalid TOML: {exc}", {"file": str(path)}
        ) from None
    except OSError as exc:
        raise LlmspellError(
            "config_error", f"{path}: cannot read: {exc.strerror}", {"file": str(path)}
        ) from None
    return parse(data, path)


def parse(data: Mapping[str, Any], source: Path | None = None) -> Config:
    """A :class:`Config` from already-decoded TOML data (``source`` names it in errors)."""
    root = Table("llmspell", data, source)
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            where = f"{source}: " if source else ""
            raise LlmspellError(
                "config_error",
                f"{where}unknown top-level key {key!r}" + did_you_mean(key, TOP_LEVEL_KEYS),
                {"file": str(source) if source else None, "key": key},
            )
    model = data.get("default_model", ())
    if isinstance(model, str):
        model = (model,)
    if not isinstance(model, (list, tuple)) or not all(
        isinstance(m, str) and "/" in m for m in model
    ):
        raise root.error(
            "default_model",
            f"must be 'provider/model' or a list of them, got {model!r}",
        )

    def tables(section: str) -> dict[str, Table]:
        raw = data.get(section, {})
        if not isinstance(raw, dict):
            raise root.error(section, f"must be a table, got {raw!r}")
        out = {}
        for name, body in raw.items():
            if not isinstance(body, dict):
                raise root.error(f"{section}.{name}", f"must be a table, got {body!r}")
            out[name] = Table(f"{section}.{name}", body, source)
        return out

    prices = tables("prices")
    for table in prices.values():
        table.check_keys(("input", "output"))
        for key in ("input", "output"):
            if table.get(key, float, 0.0) < 0:
                raise table.error(key, "must not be negative")
    providers = tables("providers")
    for table in providers.values():
        table.check_keys(tuple(table.data))  # only the secret check; plugins check the rest
    runs = data.get("runs", {})
    if not isinstance(runs, dict):
        raise root.error("runs", f"must be a table, got {runs!r}")
    runs_table = Table("runs", runs, source)
    RunSettings.from_table(runs_table)
    return Config(tuple(model), providers, prices, tables("plugins"), (source,) if source else (),
                  runs_table)
