"""``llmspell tools list|info|call``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from llmspell.cli.app import CliState, run_async
from llmspell.cli.approval import terminal_approver
from llmspell.cli.options import echo_json, parse_json_arg, policy_options
from llmspell.runtime import SpellRun
from llmspell.security import SecurityPolicy


@click.group()
def tools() -> None:
    """List, describe and call tools."""


@tools.command("list")
@click.option("--category", help="Only tools of this category.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_tools(state: CliState, category: str | None, as_json: bool) -> None:
    """List registered tools."""
    found = state.kernel.tools.filter(category=category)
    if as_json:
        echo_json([{**t.spec(), "plugin": state.kernel.tools.owner(t.name)} for t in found])
        return
    table = Table(title="llmspell tools")
    for col in ("tool", "category", "description", "plugin"):
        table.add_column(col)
    for t in found:
        summary = t.description.splitlines()[0] if t.description else ""
        table.add_row(t.name, t.category, summary, state.kernel.tools.owner(t.name))
    Console().print(table)


@tools.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def info(state: CliState, name: str, as_json: bool) -> None:
    """Show a tool's description, parameters schema, permissions and example."""
    tool = state.kernel.tools.get(name)
    tool.check_schema()
    spec = {**tool.spec(), "plugin": state.kernel.tools.owner(name)}
    if as_json:
        echo_json(spec)
        return
    click.echo(f"{tool.name}  ({tool.category}, from {spec['plugin']})")
    click.echo(tool.description)
    click.echo("parameters:")
    click.echo(json.dumps(tool.parameters, indent=2))
    if tool.permissions:
        click.echo("permissions: " + ", ".join(sorted(tool.permissions)))
    if tool.requires_approval:
        click.echo("requires approval")
    if tool.example is not None:
        click.echo(f"example: llmspell tools call {tool.name} '{json.dumps(tool.example)}'")


@tools.command()
@click.argument("name")
@click.argument("args_json", default="{}")
@policy_options
@click.pass_obj
def call(state: CliState, name: str, args_json: str, policy: SecurityPolicy) -> None:
    """Call tool NAME with ARGS_JSON (a JSON object) and print its JSON result."""
    args = parse_json_arg(args_json, "ARGS_JSON")
    kernel = state.kernel
    kernel.tools.get(name)

    async def go() -> Any:
        async with SpellRun.open(
            kernel, name=f"<tools call {name}>", policy=policy, approver=terminal_approver
        ) as run:
            return await run.call_tool(name, args)

    result = run_async(go)
    click.echo(result if isinstance(result, str) else json.dumps(result, ensure_ascii=False))


@tools.command()
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="Write the reference to this file instead of printing it.")
@click.option("--check", is_flag=True,
              help="Only check that --output holds the current reference; exit 1 if not.")
@click.pass_obj
def docs(state: CliState, output: Path | None, check: bool) -> None:
    """Write the tool reference (Markdown) generated from the registered tools."""
    from llmspell.cli.tools_doc import render

    kernel = state.kernel
    text = render(kernel.tools.values(), kernel.tools.owner)
    if output is None:
        click.echo(text, nl=False)
        return
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != text:
            raise click.ClickException(
                f"{output} is out of date; run: llmspell tools docs --output {output}"
            )
        return
    output.write_text(text, encoding="utf-8")
