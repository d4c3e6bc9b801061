"""``llmspell providers``: every model provider, its models, and whether it is usable now."""

from __future__ import annotations

from typing import Any

import click
import trio
from rich.console import Console
from rich.table import Table

from llmspell.cli.app import CliState
from llmspell.cli.options import echo_json
from llmspell.errors import LlmspellError
from llmspell.providers import ProviderStatus, provider_status


async def _probe_all(providers: list[Any]) -> dict[str, ProviderStatus]:
    """``provider.probe()`` of every provider that has one, concurrently."""
    out: dict[str, ProviderStatus] = {}

    async def one(provider: Any) -> None:
        out[provider.name] = await provider.probe()

    async with trio.open_nursery() as nursery:
        for provider in providers:
            if hasattr(provider, "probe"):
                nursery.start_soon(one, provider)
    return out


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--check", is_flag=True,
              help="Also contact each usable provider (lists its models) to prove it answers.")
@click.pass_obj
def providers(state: CliState, as_json: bool, check: bool) -> None:
    """List model providers: their models, whether each is usable now, and the default model.

    Usable means its API key variable is set (hosted providers), its model file exists (the
    embedded model) or it needs nothing; with --check, that it also answered a request. Keys
    are never printed.
    """
    kernel = state.kernel
    registry = kernel.providers
    try:
        default: tuple[str, ...] = registry.default_model(kernel.config.default_model)
    except LlmspellError:
        default = ()
    items = registry.values()
    probed = trio.run(_probe_all, items) if check else {}
    rows: list[dict[str, Any]] = []
    for provider in items:
        status = probed.get(provider.name) or provider_status(provider)
        models = getattr(provider, "models", None)
        rows.append({
            "name": provider.name,
            "plugin": registry.owner(provider.name),
            "usable": status.usable,
            "detail": status.detail,
            "models": list(models()) if models else [],
            "default_model": getattr(provider, "default_model", None),
        })
    if as_json:
        echo_json({"providers": rows, "default_model": list(default)})
        return
    table = Table(title="llmspell providers")
    for col in ("provider", "plugin", "usable", "why", "models"):
        table.add_column(col)
    for row in rows:
        names: list[str] = row["models"]
        models = ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")
        table.add_row(str(row["name"]), str(row["plugin"]),
                      "[green]yes[/]" if row["usable"] else "[red]no[/]",
                      str(row["detail"]), models or "any")
    console = Console()
    console.print(table)
    console.print(f"default model: {', '.join(default) if default else 'none usable'}",
                  highlight=False)
