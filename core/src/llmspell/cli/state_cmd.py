"""``llmspell state get|set|list|clear`` on the project's persistent state."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from llmspell.cli.app import run_async
from llmspell.cli.options import echo_json, parse_json_arg
from llmspell.errors import LlmspellError
from llmspell.project import project_dir
from llmspell.state import SqliteBackend, default_state_path, parse_scope

T = TypeVar("T")

scope_option = click.option(
    "--scope", default="global", show_default=True,
    help="global, session:<id>, agent:<name> or workflow:<name>.",
)
project_option = click.option("--project", type=click.Path(path_type=Path),
                              help="Project directory.")


def _persistent(scope: str) -> str:
    text = str(parse_scope(scope))
    if text == "spell":
        raise LlmspellError(
            "invalid_value",
            "scope 'spell' lives only while a spell runs; the CLI sees persistent scopes",
            {"scope": scope},
        )
    return text


def _with_store(project: Path | None, fn: Callable[[SqliteBackend], Awaitable[T]]) -> T:
    async def go() -> T:
        store = SqliteBackend(default_state_path(project_dir(project)))
        try:
            return await fn(store)
        finally:
            await store.aclose()

    result: T = run_async(go)
    return result


@click.group()
def state() -> None:
    """Read and write the project's persistent state (.llmspell/state.db)."""


@state.command()
@click.argument("key")
@scope_option
@project_option
def get(key: str, scope: str, project: Path | None) -> None:
    """Print the JSON value of KEY (exit status 1 if it is not set)."""
    scope = _persistent(scope)
    missing = object()
    value = _with_store(project, lambda s: s.get(scope, key, missing))
    if value is missing:
        raise LlmspellError("not_found", f"no state key {key!r} in scope {scope!r}",
                            {"key": key, "scope": scope})
    click.echo(json.dumps(value, ensure_ascii=False))


@state.command("set")
@click.argument("key")
@click.argument("value_json")
@scope_option
@project_option
def set_(key: str, value_json: str, scope: str, project: Path | None) -> None:
    """Set KEY to VALUE_JSON (any JSON value)."""
    scope = _persistent(scope)
    value = parse_json_arg(value_json, "VALUE_JSON")
    _with_store(project, lambda s: s.set(scope, key, value))


@state.command("list")
@click.option("--scope", default=None, help="List this scope's keys (default: every scope).")
@project_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(scope: str | None, project: Path | None, as_json: bool) -> None:
    """List the keys of a scope, or every scope with its keys."""

    async def collect(store: SqliteBackend) -> dict[str, list[str]]:
        scopes = [_persistent(scope)] if scope else await store.scopes()
        return {s: await store.keys(s) for s in scopes}

    found: dict[str, Any] = _with_store(project, collect)
    if as_json:
        echo_json(found)
        return
    for name, keys in found.items():
        click.echo(f"{name}: {', '.join(keys) if keys else '(empty)'}")


@state.command()
@scope_option
@project_option
def clear(scope: str, project: Path | None) -> None:
    """Delete every key of a scope."""
    scope = _persistent(scope)
    removed = _with_store(project, lambda s: s.clear(scope))
    click.echo(f"removed {removed} key(s) from {scope}", err=True)
