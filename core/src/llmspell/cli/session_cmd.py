"""``llmspell session list|show|delete|export``: the project's sessions (see
:mod:`llmspell.sessions`), which ``llmspell run --session NAME`` creates and continues."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from llmspell.cli.app import run_async
from llmspell.cli.options import echo_json
from llmspell.project import project_dir
from llmspell.sessions import Sessions

T = TypeVar("T")

project_option = click.option("--project", type=click.Path(path_type=Path),
                              help="Project directory (its .llmspell/ stores).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _with_sessions(project: Path | None, fn: Callable[[Sessions], Awaitable[T]]) -> T:
    async def go() -> T:
        async with Sessions.open(project_dir(project)) as sessions:
            return await fn(sessions)

    result: T = run_async(go)
    return result


def _when(stamp: float | None) -> str:
    return "" if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]], title: str | None = None) -> None:
    """Rows as a rich table on a terminal, tab-separated lines otherwise."""
    if not sys.stdout.isatty():
        for row in rows:
            click.echo("\t".join(row))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*headers, title=title)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


@click.group()
def session() -> None:
    """The project's sessions: the runs, state, conversation history and artifacts that
    `llmspell run --session NAME` groups."""


@session.command("list")
@project_option
@json_option
def list_(project: Path | None, as_json: bool) -> None:
    """List sessions: runs, last run, tokens, cost, state keys, agent histories, artifacts."""
    found = _with_sessions(project, lambda s: s.list())
    if as_json:
        echo_json([item.to_dict() for item in found])
        return
    _table(
        ("session", "runs", "last run", "tokens", "cost", "state keys", "histories",
         "artifacts"),
        [
            (item.name, str(item.runs), _when(item.last_run),
             str(item.input_tokens + item.output_tokens),
             "" if item.cost is None else f"${item.cost:.4f}", str(item.state_keys),
             str(item.histories), str(item.artifacts))
            for item in found
        ],
    )


@session.command()
@click.argument("name")
@project_option
@json_option
def show(name: str, project: Path | None, as_json: bool) -> None:
    """Show session NAME: its runs, state, agent histories and artifacts."""
    shown = _with_sessions(project, lambda s: s.show(name))
    if as_json:
        echo_json(shown)
        return
    click.echo(f"session {shown['name']}")
    click.echo(f"runs ({len(shown['runs'])}, newest first):")
    for run in shown["runs"]:
        click.echo(f"  {run['run_id']}  {_when(run['started_at'])}  {run['status']:<9} "
                   f"{run['name']}  {run['total_tokens']} tokens")
    click.echo(f"state ({len(shown['state'])} keys):")
    for key, value in shown["state"].items():
        click.echo(f"  {key} = {_short(value)}")
    click.echo(f"history ({len(shown['history'])} agents):")
    for agent, messages in shown["history"].items():
        count = len(messages) if isinstance(messages, list) else 0
        click.echo(f"  {agent}: {count} messages")
        for message in (messages if isinstance(messages, list) else [])[-4:]:
            if isinstance(message, dict):
                click.echo(f"    {message.get('role', '?')}: {_short(message.get('content'))}")
    click.echo(f"artifacts ({len(shown['artifacts'])} versions):")
    for item in shown["artifacts"]:
        click.echo(f"  {item['name']} v{item['version']}  {item['media_type']}  "
                   f"{item['size']} bytes")


@session.command()
@click.argument("name")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write the export to this file instead of stdout.")
@project_option
def export(name: str, output: Path | None, project: Path | None) -> None:
    """Export session NAME as one JSON document: its runs (with source and events), state,
    agent histories and artifacts (text as is, bytes as base64)."""
    data = _with_sessions(project, lambda s: s.export(name))
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output is None:
        click.echo(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    click.echo(f"exported session {name!r} to {output}", err=True)


@session.command()
@click.argument("name")
@project_option
@json_option
def delete(name: str, project: Path | None, as_json: bool) -> None:
    """Delete session NAME: its recorded runs, its state (agent histories included) and the
    artifacts its runs saved."""
    deleted = _with_sessions(project, lambda s: s.delete(name))
    if as_json:
        echo_json({"session": name, "deleted": deleted})
        return
    click.echo(f"deleted session {name!r}: {deleted['runs']} runs, {deleted['state_keys']} "
               f"state keys, {deleted['artifacts']} artifact versions")


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
