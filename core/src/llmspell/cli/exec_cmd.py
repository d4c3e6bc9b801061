"""``llmspell exec`` (a snippet of code) and ``llmspell repl`` (an interactive session)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
import trio

from llmspell.artifacts import ArtifactStore, default_artifacts_path
from llmspell.cli.app import CliState, fail, run_async
from llmspell.cli.approval import terminal_approver
from llmspell.cli.options import policy_options
from llmspell.cli.run_cmd import parse_spell_args, print_result
from llmspell.errors import LlmspellError
from llmspell.project import data_dir, project_dir
from llmspell.runlog import recording
from llmspell.runtime import SpellRun
from llmspell.scripting.session import ScriptSession
from llmspell.security import SecurityPolicy
from llmspell.state import SqliteBackend, default_state_path

engine_option = click.option(
    "--engine", "engine_name", required=True, help="Engine to use (lua, js, ...)."
)
project_option = click.option(
    "--project", type=click.Path(path_type=Path), help="Project directory (state)."
)


@click.command("exec", context_settings={"ignore_unknown_options": True})
@engine_option
@click.option("-e", "code", help="The code to run (default: read standard input).")
@project_option
@policy_options
@click.argument("spell_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def exec_(
    state: CliState, engine_name: str, code: str | None, project: Path | None,
    policy: SecurityPolicy, spell_args: tuple[str, ...],
) -> None:
    """Run CODE (``-e``) or standard input as a spell with the named engine."""
    source = code if code is not None else sys.stdin.read()
    if spell_args and spell_args[0] == "--":
        spell_args = spell_args[1:]
    engine = state.kernel.engines.get(engine_name)
    name = "<exec>"

    async def go() -> Any:
        folder = project_dir(project)
        store = SqliteBackend(default_state_path(folder))
        artifacts = ArtifactStore(default_artifacts_path(folder))
        args = parse_spell_args(spell_args)
        try:
            async with recording(state.kernel, folder, source=source, engine=engine_name,
                                 name=name, args=args):
                async with SpellRun.open(
                    state.kernel, name=name, args=args, policy=policy,
                    store=store, approver=terminal_approver, artifacts=artifacts,
                ) as run:
                    run.result = await engine.run(source, name, run)
            return run.result
        finally:
            await store.aclose()
            await artifacts.aclose()

    print_result(run_async(go))


def _history_file(project: Path) -> Path:
    return data_dir(project) / "repl_history"


def _setup_readline(history: Path) -> Any:
    """Line editing and history with the standard readline module, when there is one."""
    try:
        import readline
    except ImportError:  # pragma: no cover - platforms without readline
        return None
    try:
        readline.read_history_file(history)
    except OSError:
        pass
    readline.set_history_length(1000)
    return readline


@click.command()
@engine_option
@project_option
@policy_options
@click.pass_obj
def repl(
    state: CliState, engine_name: str, project: Path | None, policy: SecurityPolicy
) -> None:
    """An interactive session: each line (or block) runs in one spell whose globals persist;
    expression values are printed. Ctrl-D ends it."""
    engine = state.kernel.engines.get(engine_name)
    if not hasattr(engine, "repl"):
        raise LlmspellError(
            "engine_error", f"engine {engine_name!r} has no interactive mode",
            {"engine": engine_name},
        )
    folder = project_dir(project)
    interactive = sys.stdin.isatty()
    history = _history_file(folder)
    readline = _setup_readline(history) if interactive else None

    def ask(prompt: str) -> str | None:
        try:
            return input(prompt if interactive else "")
        except EOFError:
            return None

    async def go() -> None:
        store = SqliteBackend(default_state_path(folder))
        artifacts = ArtifactStore(default_artifacts_path(folder))
        try:
            async with SpellRun.open(
                state.kernel, name="<repl>", policy=policy, store=store,
                approver=terminal_approver, artifacts=artifacts,
            ) as run:
                session = ScriptSession(run, "<repl>")
                repl_session = engine.repl(session)
                if interactive:
                    click.echo(f"llmspell {engine_name} repl; Ctrl-D to leave", err=True)
                try:
                    await _loop(repl_session)
                finally:
                    session.close()
        finally:
            await store.aclose()
            await artifacts.aclose()
            if readline is not None:
                os.makedirs(history.parent, exist_ok=True)
                readline.write_history_file(history)

    async def _loop(repl_session: Any) -> None:
        while True:
            lines: list[str] = []
            while True:
                line = await trio.to_thread.run_sync(ask, "... " if lines else ">>> ")
                if line is None:
                    if lines:
                        break
                    return
                lines.append(line)
                if repl_session.is_complete("\n".join(lines)):
                    break
            source = "\n".join(lines)
            if not source.strip():
                continue
            try:
                value = await repl_session.evaluate(source)
            except LlmspellError as err:
                fail(err)
                continue
            print_result(value)

    run_async(go)
