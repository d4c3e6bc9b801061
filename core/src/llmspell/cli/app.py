"""The command group, its shared state and how errors reach the user."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
import trio
from rich.console import Console

from llmspell import __version__
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class CliState:
    """What commands share: the kernel, loaded on first use."""

    def __init__(self, kernel: Kernel | None = None) -> None:
        self._kernel = kernel

    @property
    def kernel(self) -> Kernel:
        if self._kernel is None:
            self._kernel = Kernel.load()
        return self._kernel


def fail(error: LlmspellError) -> None:
    """Print ``error: message`` and its hint to stderr."""
    err_console.print(f"[bold red]error:[/] {error.message}", markup=True, highlight=False)
    if error.hint:
        err_console.print(f"[dim]hint:[/] {error.hint}", markup=True, highlight=False)


class SpellGroup(click.Group):
    """A group that shows an :class:`LlmspellError` as one clear line (plus a hint) and exits
    with status 1, never with a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LlmspellError as error:
            fail(error)
            ctx.exit(1)


def run_async(fn: Callable[[], Any]) -> Any:
    """Run ``fn()`` (an async function of no arguments) on trio."""
    return trio.run(fn)


@click.group(cls=SpellGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="llmspell")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """llmspell runs spells: Lua or JavaScript programs that drive LLM agents, tools and
    workflows.

    \b
    Start with:
      llmspell run examples/hello.lua      run a spell
      llmspell tools list                  see the tools spells can call
      llmspell plugins                     see what is installed
    """
    if ctx.obj is None:
        ctx.obj = CliState()


@cli.command()
def version() -> None:
    """Print the llmspell version."""
    click.echo(__version__)


def _register_commands() -> None:
    from llmspell.cli import (
        api_cmd,
        exec_cmd,
        install_cmd,
        plugins_cmd,
        run_cmd,
        state_cmd,
        tools_cmd,
    )

    for module in (run_cmd, exec_cmd, plugins_cmd, tools_cmd, state_cmd, install_cmd, api_cmd):
        for command in module.COMMANDS:
            cli.add_command(command)


def _add_plugin_commands(state: CliState) -> None:
    kernel = state.kernel
    for impl in kernel.pm.hook.llmspell_register_commands.get_hookimpls():
        try:
            impl.function(group=cli)
        except Exception as exc:
            err_console.print(
                f"[yellow]warning:[/] plugin {impl.plugin_name!r} failed to add its commands: "
                f"{type(exc).__name__}: {exc}",
                markup=True,
            )


_register_commands()


def main() -> None:
    """Console entry point: load plugins (and their commands), then run the command line."""
    state = CliState()
    if len(sys.argv) > 1 and sys.argv[1] not in ("--version", "version"):
        _add_plugin_commands(state)
    cli.main(obj=state, prog_name="llmspell")
