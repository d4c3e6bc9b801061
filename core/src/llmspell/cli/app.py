"""The command group, its shared state and how errors reach the user."""

from __future__ import annotations

import functools
import gc
import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from llmspell import __version__
from llmspell.errors import LlmspellError

if TYPE_CHECKING:
    from rich.console import Console

    from llmspell.kernel import Kernel

#: command name -> "module:attribute", imported only when the command is used (start-up time)
LAZY_COMMANDS = {
    "run": "llmspell.cli.run_cmd:run",
    "exec": "llmspell.cli.exec_cmd:exec_",
    "repl": "llmspell.cli.exec_cmd:repl",
    "plugins": "llmspell.cli.plugins_cmd:plugins",
    "providers": "llmspell.cli.providers_cmd:providers",
    "tools": "llmspell.cli.tools_cmd:tools",
    "state": "llmspell.cli.state_cmd:state",
    "session": "llmspell.cli.session_cmd:session",
    "artifacts": "llmspell.cli.artifacts_cmd:artifacts",
    "install": "llmspell.cli.install_cmd:install",
    "uninstall": "llmspell.cli.install_cmd:uninstall",
    "api": "llmspell.cli.api_cmd:api",
    "runs": "llmspell.cli.runs_cmd:runs",
}


@functools.cache
def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


#: prefix of the built-in hook plugins' entry points (``--hook cache`` means ``hooks-cache``)
HOOK_PREFIX = "hooks-"


def hook_plugin(name: str) -> str:
    """The entry-point name a ``--hook``/``--no-hook`` value means."""
    return name if name.startswith(HOOK_PREFIX) else HOOK_PREFIX + name


class CliState:
    """What commands share: the kernel, loaded on first use, with the hook plugins that
    ``--hook``/``--no-hook`` enable or disable."""

    def __init__(
        self,
        kernel: Kernel | None = None,
        *,
        enable: tuple[str, ...] = (),
        disable: tuple[str, ...] = (),
    ) -> None:
        self._kernel = kernel
        self.enable = enable
        self.disable = disable

    @property
    def loaded(self) -> bool:
        return self._kernel is not None

    @property
    def kernel(self) -> Kernel:
        if self._kernel is None:
            from llmspell.kernel import Kernel

            check_hook_names(self.enable + self.disable)
            self._kernel = Kernel.load(enable=self.enable, disable=self.disable)
        return self._kernel


def check_hook_names(names: tuple[str, ...]) -> None:
    """``invalid_args`` for a ``--hook``/``--no-hook`` naming no installed plugin."""
    if not names:
        return
    from llmspell.errors import did_you_mean
    from llmspell.plugins import ENTRY_POINT_GROUP, entry_point_list

    known = {row[0] for row in entry_point_list(ENTRY_POINT_GROUP)}
    for name in names:
        if name not in known:
            hooks = sorted(k.removeprefix(HOOK_PREFIX) for k in known if k.startswith(HOOK_PREFIX))
            raise LlmspellError(
                "invalid_args",
                f"no hook plugin {name.removeprefix(HOOK_PREFIX)!r}"
                + did_you_mean(name.removeprefix(HOOK_PREFIX), hooks),
                {"hook": name, "known": hooks},
                hint="llmspell plugins --json lists what is installed",
            )


def hook_flags(argv: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ``--hook NAME``/``--no-hook NAME`` options before the command name in ``argv``
    (``--hook=NAME`` too), as entry-point names to enable and to disable."""
    enable: list[str] = []
    disable: list[str] = []
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        flag, eq, value = argv[i].partition("=")
        if flag in ("--hook", "--no-hook"):
            if not eq:
                i += 1
                value = argv[i] if i < len(argv) else ""
            (enable if flag == "--hook" else disable).append(hook_plugin(value))
        i += 1
    return tuple(enable), tuple(disable)


def fail(error: LlmspellError) -> None:
    """Print ``error: message`` and its hint to stderr."""
    from rich.markup import escape

    console = err_console()
    console.print(f"[bold red]error:[/] {escape(error.message)}", markup=True, highlight=False)
    if error.hint:
        console.print(f"[dim]hint:[/] {escape(error.hint)}", markup=True, highlight=False)


class SpellGroup(click.Group):
    """A group that shows an :class:`LlmspellError` as one clear line (plus a hint) and exits
    with status 1, never with a traceback. The kernel's own commands (:data:`LAZY_COMMANDS`)
    are imported when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and name in LAZY_COMMANDS:
            module, _, attr = LAZY_COMMANDS[name].partition(":")
            command = getattr(importlib.import_module(module), attr)
            self.add_command(command, name)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        found = super().resolve_command(ctx, args)  # imports a lazy command's module
        resume_gc()  # start-up is over: the command runs with the garbage collector on
        return found

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LlmspellError as error:
            fail(error)
            ctx.exit(1)


def run_async(fn: Callable[[], Any]) -> Any:
    """Run ``fn()`` (an async function of no arguments) on trio."""
    import trio

    return trio.run(fn)


@click.group(cls=SpellGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="llmspell")
@click.option("--hook", "hooks", multiple=True, metavar="NAME",
              help="Enable a built-in hook plugin for this command, e.g. cache, otel, trace "
              "(repeatable).")
@click.option("--no-hook", "no_hooks", multiple=True, metavar="NAME",
              help="Disable a hook plugin for this command, e.g. logging (repeatable).")
@click.pass_context
def cli(ctx: click.Context, hooks: tuple[str, ...], no_hooks: tuple[str, ...]) -> None:
    """llmspell runs spells: Lua or JavaScript programs that drive LLM agents, tools and
    workflows.

    \b
    Start with:
      llmspell run examples/hello.lua      run a spell
      llmspell tools list                  see the tools spells can call
      llmspell plugins                     see what is installed
    """
    enable = tuple(hook_plugin(h) for h in hooks)
    disable = tuple(hook_plugin(h) for h in no_hooks)
    if ctx.obj is None:
        ctx.obj = CliState(enable=enable, disable=disable)
    elif (enable or disable) and not ctx.obj.loaded:
        ctx.obj.enable, ctx.obj.disable = enable, disable
    elif (enable, disable) != (ctx.obj.enable, ctx.obj.disable) and (enable or disable):
        raise LlmspellError(  # main() read them before loading the kernel; this cannot differ
            "invalid_args", "--hook/--no-hook must come before the command name, before the "
            "kernel is loaded"
        )


@cli.command()
def version() -> None:
    """Print the llmspell version."""
    click.echo(__version__)


def _add_plugin_commands(state: CliState) -> None:
    kernel = state.kernel
    for impl in kernel.pm.hook.llmspell_register_commands.get_hookimpls():
        try:
            impl.function(group=cli)
        except Exception as exc:
            err_console().print(
                f"[yellow]warning:[/] plugin {impl.plugin_name!r} failed to add its commands: "
                f"{type(exc).__name__}: {exc}",
                markup=True,
            )


_gc_paused = False


def pause_gc() -> None:
    """Switch the cyclic garbage collector off for the start-up of a command.

    Start-up (importing the kernel, every plugin and the command, loading the plugins) makes
    a great many objects and next to no garbage, so the collector's passes over them (some 70
    of them, about a tenth of the start-up time of ``llmspell run``) find nothing to free. It is
    switched back on (:func:`resume_gc`) before the command itself runs."""
    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True


def resume_gc() -> None:
    """Switch the garbage collector back on if :func:`pause_gc` switched it off."""
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.freeze()  # what start-up made is there to stay: later passes need not scan it
        gc.enable()


def main() -> None:
    """Console entry point: load plugins (and their commands), then run the command line."""
    pause_gc()
    try:
        enable, disable = hook_flags(sys.argv[1:])
        state = CliState(enable=enable, disable=disable)
        if len(sys.argv) > 1 and sys.argv[1] not in ("--version", "version"):
            try:
                _add_plugin_commands(state)
            except LlmspellError as error:  # e.g. a --hook naming nothing installed
                fail(error)
                sys.exit(1)
        cli.main(obj=state, prog_name="llmspell")
    finally:
        resume_gc()
