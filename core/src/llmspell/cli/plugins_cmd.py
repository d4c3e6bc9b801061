"""``llmspell plugins``: what is installed, what it provides, what failed to load."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from llmspell.cli.app import CliState
from llmspell.cli.options import echo_json


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def plugins(state: CliState, as_json: bool) -> None:
    """List loaded plugins: name, package, version, hooks and components."""
    kernel = state.kernel
    rows = [
        {
            "name": info.name,
            "package": info.package,
            "version": info.version,
            "hooks": list(info.hooks),
            "components": kernel.components(info.name),
        }
        for info in kernel.plugins.values()
    ]
    failures = [
        {"name": f.name, "package": f.package, "version": f.version, "error": f.error}
        for f in kernel.failures
    ]
    if as_json:
        echo_json({"plugins": rows, "failures": failures})
        return
    table = Table(title="llmspell plugins")
    for col in ("plugin", "package", "version", "hooks", "components"):
        table.add_column(col)
    for info in kernel.plugins.values():
        components = "; ".join(
            f"{k}: {', '.join(v)}" for k, v in kernel.components(info.name).items()
        )
        hooks = ", ".join(h.removeprefix("llmspell_") for h in info.hooks)
        table.add_row(info.name, info.package, info.version, hooks, components)
    console = Console()
    console.print(table)
    for f in failures:
        console.print(
            f"[red]failed:[/] {f['name']} ({f['package']} {f['version']}): {f['error']}",
            markup=True, highlight=False,
        )
