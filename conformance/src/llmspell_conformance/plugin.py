"""The ``conformance`` plugin: adds ``llmspell conformance`` to the command line."""

from __future__ import annotations

import json
from typing import Any

import click

from llmspell.lifecycle import hookimpl


@click.command()
@click.option("--engine", "engine_name", required=True, help="Engine to test (lua, js, ...).")
@click.option("--tag", "tags", multiple=True, help="Only cases with this tag (repeatable).")
@click.option("--case", "names", multiple=True, help="Only this case (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--verbose", "-v", is_flag=True, help="Show the trace of failing cases.")
@click.pass_obj
def conformance(
    state: Any, engine_name: str, tags: tuple[str, ...], names: tuple[str, ...],
    as_json: bool, verbose: bool,
) -> None:
    """Run the cross-engine conformance suite on an engine; exit status 1 if any case fails or
    has no spell for the engine's language."""
    import trio

    from llmspell_conformance.cases import load_cases
    from llmspell_conformance.report import render
    from llmspell_conformance.runner import run_suite

    cases = load_cases(tags=tags, names=names)
    results = trio.run(run_suite, state.kernel, engine_name, cases)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        render(engine_name, results, verbose=verbose)
    if any(r.status != "pass" for r in results):
        raise SystemExit(1)


@hookimpl
def llmspell_register_commands(group: click.Group) -> None:
    group.add_command(conformance)
