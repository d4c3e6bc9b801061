"""Entry point ``greet``: the tool ``greet`` and the command ``greet-cmd``."""

from __future__ import annotations

from typing import Any

import click

from llmspell.lifecycle import hookimpl
from llmspell.tools import ToolContext, ToolRegistry, tool


@tool(
    name="greet",
    description="Greet someone by name.",
    category="test",
    parameters={
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
        "additionalProperties": False,
    },
    example={"name": "ada"},
)
async def greet(args: dict[str, Any], ctx: ToolContext) -> str:
    return f"hello, {args['name']}"


@click.command("greet-cmd")
@click.argument("who")
def greet_cmd(who: str) -> None:
    """Print a greeting (added by the greet plugin)."""
    click.echo(f"greetings, {who}")


@hookimpl
def llmspell_register_tools(registry: ToolRegistry) -> None:
    registry.register(greet)


@hookimpl
def llmspell_register_commands(group: click.Group) -> None:
    group.add_command(greet_cmd)
