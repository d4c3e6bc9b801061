"""``llmspell run``: run a spell file with the engine its extension names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from llmspell.artifacts import ArtifactStore, default_artifacts_path
from llmspell.cli.app import CliState, run_async
from llmspell.cli.approval import terminal_approver
from llmspell.cli.options import policy_options
from llmspell.engines import engine_for
from llmspell.errors import LlmspellError
from llmspell.project import project_dir
from llmspell.runlog import recording
from llmspell.runtime import SpellRun
from llmspell.security import SecurityPolicy
from llmspell.state import SqliteBackend, default_state_path

#: Files ``llmspell run`` treats as workflow files (see :mod:`llmspell.workflow_files`, which
#: is imported only for them).
WORKFLOW_SUFFIXES = (".toml", ".yaml", ".yml")


def parse_spell_args(argv: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Turn ``--topic "rust async" file.txt --verbose`` into
    ``{"topic": "rust async", "verbose": True, "_": ["file.txt"]}``.

    ``--name value`` and ``--name=value`` give strings, a ``--name`` followed by another option
    or nothing gives ``True``, and everything else is positional (in ``"_"``, always present).
    """
    out: dict[str, Any] = {}
    positional: list[str] = []
    i = 0
    while i < len(argv):
        item = argv[i]
        if item.startswith("--") and len(item) > 2:
            name, eq, value = item[2:].partition("=")
            if eq:
                out[name] = value
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                out[name] = argv[i + 1]
                i += 1
            else:
                out[name] = True
        else:
            positional.append(item)
        i += 1
    out["_"] = positional
    return out


def print_result(value: Any) -> None:
    """A spell's return value on stdout: strings as they are, other data as JSON."""
    if value is None:
        return
    click.echo(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


async def run_spell(
    state: CliState, path: Path, argv: tuple[str, ...], engine_name: str | None,
    policy: SecurityPolicy, project: Path, session: str | None = None,
) -> Any:
    """Run the spell at ``path`` in a new :class:`SpellRun` with the project's SQLite state,
    continuing ``session`` when given."""
    if engine_name is None and path.suffix.lower() in WORKFLOW_SUFFIXES:
        from llmspell.workflow_files import run_workflow_file  # only workflow files need it

        return await run_workflow_file(
            state.kernel, path, parse_spell_args(argv), policy, project,
            approver=terminal_approver, session=session,
        )
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LlmspellError("not_found", f"spell file {str(path)!r} does not exist",
                            {"path": str(path)}) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LlmspellError("invalid_value", f"cannot read spell file {str(path)!r}: {exc}",
                            {"path": str(path)}) from None
    engine = engine_for(state.kernel.engines, path, name=engine_name)
    store = SqliteBackend(default_state_path(project))
    artifacts = ArtifactStore(default_artifacts_path(project))
    args = parse_spell_args(argv)
    try:
        async with recording(state.kernel, project, source=source, engine=engine.name,
                             name=str(path), args=args):
            async with SpellRun.open(
                state.kernel, name=str(path), args=args, policy=policy, store=store,
                approver=terminal_approver, artifacts=artifacts, session=session,
            ) as run:
                run.result = await engine.run(source, str(path), run)
        return run.result
    finally:
        await store.aclose()
        await artifacts.aclose()


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("spell", type=click.Path(path_type=Path))
@click.argument("spell_args", nargs=-1, type=click.UNPROCESSED)
@click.option("--engine", "engine_name", help="Engine to use instead of the one the file "
              "extension names.")
@click.option("--project", type=click.Path(path_type=Path), help="Project directory (state).")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary on stderr.")
@click.option("--json", "json_output", is_flag=True, help="Print one JSON document {run_id, "
              "status, result, error, usage} on stdout; the spell's print lines go to stderr.")
@click.option("--progress/--no-progress", default=None, help="Show progress on stderr, or not "
              "(default: shown, except with --json).")
@click.option("--session", metavar="NAME", help="Continue session NAME: its state (scope "
              "'session'), agent histories and run list (see `llmspell session`).")
@policy_options
@click.pass_obj
def run(
    state: CliState, spell: Path, spell_args: tuple[str, ...], engine_name: str | None,
    project: Path | None, policy: SecurityPolicy, quiet: bool, json_output: bool,
    progress: bool | None, session: str | None,
) -> None:
    """Run SPELL (a .lua or .js file, or a .toml/.yaml workflow file). Arguments after SPELL
    (or after --) reach the spell as ``args``: ``--name value`` pairs, flags and positionals
    (in ``args._``); a workflow file's input is ``--input`` or the positionals."""
    if spell_args and spell_args[0] == "--":
        spell_args = spell_args[1:]
    from llmspell.cli.progress import run_with_output

    run_with_output(
        state,
        lambda: run_async(
            lambda: run_spell(state, spell, spell_args, engine_name, policy, project_dir(project),
                              session)
        ),
        print_result, quiet=quiet, json_output=json_output, progress=progress,
    )
