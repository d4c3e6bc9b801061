"""``llmspell artifacts list|show|delete`` on the project's artifacts (.llmspell/artifacts.db)."""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click

from llmspell.artifacts import Artifact, ArtifactInfo, ArtifactStore, default_artifacts_path
from llmspell.cli.app import run_async
from llmspell.cli.options import echo_json
from llmspell.errors import LlmspellError
from llmspell.project import project_dir

T = TypeVar("T")

project_option = click.option("--project", type=click.Path(path_type=Path),
                              help="Project directory.")
version_option = click.option("--version", "version", type=click.IntRange(min=1),
                              help="This version (default: the latest).")


def _with_store(project: Path | None, fn: Callable[[ArtifactStore], Awaitable[T]]) -> T:
    """Run ``fn`` on the project's store. A project without ``artifacts.db`` has none: the
    file is not created, and naming an artifact is ``not_found``."""
    path = default_artifacts_path(project_dir(project))

    async def go() -> T:
        store = ArtifactStore(path if path.exists() else None)
        try:
            return await fn(store)
        finally:
            await store.aclose()

    result: T = run_async(go)
    return result


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def human_size(size: int) -> str:
    """``512 B``, ``1.5 KiB``, ``64.0 MiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def local_time(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


@click.group()
def artifacts() -> None:
    """List, show and delete the project's artifacts (.llmspell/artifacts.db): versioned
    text or bytes saved by spells and tools."""


@artifacts.command("list")
@click.option("--prefix", help="Only names starting with this.")
@click.option("--all-versions", is_flag=True, help="Every version, not only the latest.")
@click.option("--run", "run_id", metavar="RUN_ID", help="Only what this run saved.")
@project_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(
    prefix: str | None, all_versions: bool, run_id: str | None, project: Path | None,
    as_json: bool,
) -> None:
    """List the latest version of every artifact (a table on a terminal, tab-separated
    lines otherwise: name, version, media type, size, created, run)."""
    found: list[ArtifactInfo] = _with_store(
        project, lambda s: s.list(prefix, run_id=run_id, all_versions=all_versions)
    )
    if as_json:
        echo_json([info.to_dict() for info in found])
        return
    if not stdout_is_terminal():
        for info in found:
            click.echo("\t".join([
                info.name, str(info.version), info.media_type, str(info.size),
                local_time(info.created_at), info.run_id or "",
            ]))
        return
    if not found:
        click.echo("no artifacts", err=True)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="llmspell artifacts")
    for col, justify in (("name", "left"), ("version", "right"), ("media type", "left"),
                         ("size", "right"), ("created", "left"), ("run", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for info in found:
        table.add_row(info.name, str(info.version), info.media_type, human_size(info.size),
                      local_time(info.created_at), info.run_id or "")
    Console(highlight=False).print(table)


@artifacts.command()
@click.argument("name")
@version_option
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the content to this file.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the record as JSON, content included (text, or base64).")
@project_option
def show(
    name: str, version: int | None, output: Path | None, as_json: bool, project: Path | None,
) -> None:
    """Print the content of artifact NAME: text as it is; bytes only with -o FILE or when
    standard output is not a terminal."""
    artifact: Artifact = _with_store(project, lambda s: s.load(name, version))
    if output is not None:
        try:
            output.write_bytes(artifact.data)
        except OSError as exc:
            raise LlmspellError("invalid_value", f"cannot write {str(output)!r}: {exc}",
                                {"path": str(output)}) from None
        click.echo(f"wrote {artifact.size} bytes of {artifact.name!r} version "
                   f"{artifact.version} ({artifact.media_type}) to {output}", err=True)
        return
    if as_json:
        echo_json(artifact.to_dict())
        return
    text = artifact.text()
    if text is not None:
        click.echo(text, nl=False)
        return
    if stdout_is_terminal():
        raise LlmspellError(
            "invalid_args",
            f"artifact {artifact.name!r} version {artifact.version} is binary "
            f"({artifact.media_type}, {artifact.size} bytes); not written to a terminal",
            {"name": artifact.name, "version": artifact.version},
            hint=f"llmspell artifacts show {name} -o FILE, or redirect standard output",
        )
    sys.stdout.flush()
    sys.stdout.buffer.write(artifact.data)
    sys.stdout.buffer.flush()


@artifacts.command()
@click.argument("name")
@click.option("--version", "version", type=click.IntRange(min=1),
              help="Only this version (default: every version).")
@project_option
def delete(name: str, version: int | None, project: Path | None) -> None:
    """Delete artifact NAME (every version, or one). Version numbers are not reused."""
    count = _with_store(project, lambda s: s.delete(name, version))
    what = f"version {version}" if version is not None else f"{count} version(s)"
    click.echo(f"deleted {what} of {name!r}", err=True)
