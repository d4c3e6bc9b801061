"""``llmspell api``: the host operation table, for engine authors."""

from __future__ import annotations

import click

from llmspell.cli.options import echo_json
from llmspell.scripting import api_table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def api(as_json: bool) -> None:
    """Print the spell API's host operations (name, parameters, whether they wait)."""
    table = api_table()
    if as_json:
        echo_json(table)
        return
    for entry in table:
        params = ", ".join(
            f"{p['name']}{'?' if p['optional'] else ''}: {p['kind']}" for p in entry["params"]
        )
        click.echo(f"{entry['name']}({params}){'' if entry['waits'] else '  [immediate]'}")
        click.echo(f"    {entry['doc']}")
