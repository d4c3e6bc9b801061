"""``llmspell runs list|show|replay|delete``: the project's recorded runs (.llmspell/runs.db)."""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from llmspell.cli.app import CliState, run_async
from llmspell.cli.options import echo_json, policy_options
from llmspell.project import project_dir
from llmspell.runlog import RunInfo, RunLog, default_runs_path, json_safe
from llmspell.security import SecurityPolicy

T = TypeVar("T")

project_option = click.option("--project", type=click.Path(path_type=Path),
                              help="Project directory (its .llmspell/runs.db).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _with_log(project: Path | None, fn: Callable[[RunLog], Awaitable[T]]) -> T:
    async def go() -> T:
        async with RunLog.open(default_runs_path(project_dir(project))) as log:
            return await fn(log)

    result: T = run_async(go)
    return result


def _when(stamp: float | None) -> str:
    return "" if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _duration(info: RunInfo) -> str:
    seconds = info.seconds
    if seconds is None:
        return ""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _cost(value: float | None) -> str:
    return "" if value is None else f"${value:.4f}"


@click.group()
def runs() -> None:
    """The project's recorded runs (.llmspell/runs.db): list them, show a run's timeline,
    replay a run against its recorded model replies, delete runs."""


@runs.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many runs, newest first.")
@click.option("--session", help="Only the runs of this session.")
@project_option
@json_option
def list_(limit: int, session: str | None, project: Path | None, as_json: bool) -> None:
    """List recorded runs, newest first: id, spell, status, start, duration, tokens, cost."""
    found = _with_log(project, lambda log: log.list_runs(limit, session=session))
    if as_json:
        echo_json([info.to_dict() for info in found])
        return
    rows = [
        (info.run_id, info.name, info.status, _when(info.started_at), _duration(info),
         str(info.total_tokens), _cost(info.cost))
        for info in found
    ]
    headers = ("run", "spell", "status", "started", "duration", "tokens", "cost")
    if not sys.stdout.isatty():
        for row in rows:
            click.echo("\t".join(row))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="llmspell runs")
    for col in headers:
        table.add_column(col, justify="right" if col in ("tokens", "cost", "duration") else "left")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


@runs.command()
@click.argument("run_id", metavar="RUN")
@click.option("--events", "all_events", is_flag=True,
              help="Show every event, not only operations, failures and notable events.")
@project_option
@json_option
def show(run_id: str, all_events: bool, project: Path | None, as_json: bool) -> None:
    """Show run RUN (an id or a unique prefix of one): its summary and its timeline (spell →
    agent → llm call → tool call, workflow → step) with tokens, cost and durations."""
    from llmspell.timeline import build_timeline, render_text, render_tree

    async def load(log: RunLog) -> tuple[RunInfo, Any]:
        info = await log.get_run(run_id)
        return info, await log.events(info.run_id)

    info, events = _with_log(project, load)
    root = build_timeline(info, events)
    if as_json:
        out: dict[str, Any] = {"run": info.to_dict(source=True), "timeline": root.to_dict()}
        if all_events:
            out["events"] = [e.to_dict() for e in events]
        echo_json(out)
        return
    header = [
        f"run {info.run_id}  {info.name}  ({info.engine or '?'})",
        f"status {info.status}  started {_when(info.started_at)}  {_duration(info)}".rstrip(),
    ]
    if info.session:
        header.append(f"session {info.session}")
    if info.replay_of:
        header.append(f"replay of {info.replay_of}")
    if info.error:
        header.append(f"error {info.error.get('code')}: {info.error.get('message')}")
    if sys.stdout.isatty():
        from rich.console import Console

        console = Console()
        for line in header:
            console.print(line, markup=False, highlight=False)
        console.print(render_tree(root, all_events=all_events))
        return
    for line in header:
        click.echo(line)
    click.echo(render_text(root, all_events=all_events))


@runs.command()
@click.argument("run_id", metavar="RUN")
@project_option
@json_option
@policy_options
@click.pass_obj
def replay(
    state: CliState, run_id: str, project: Path | None, as_json: bool, policy: SecurityPolicy
) -> None:
    """Run RUN's recorded spell again (same source, engine, arguments and session) with every
    model call answered from its recorded replies: no provider is contacted. Tools run for
    real (grant them what the run needed: --allow-...). Prints the result like `run`; the
    replay is recorded as a new run."""
    from llmspell.cli.approval import terminal_approver
    from llmspell.cli.run_cmd import print_result
    from llmspell.replay import replay_run

    kernel = state.kernel
    settings = kernel.config.run_settings

    async def go() -> Any:
        path = default_runs_path(project_dir(project))
        async with RunLog.open(path, keep=settings.keep,
                               max_age_days=settings.max_age_days) as log:
            return await replay_run(kernel, log, run_id, policy=policy,
                                    approver=terminal_approver, record=settings.record)

    outcome = run_async(go)
    if as_json:
        echo_json(json_safe(outcome.to_dict()))
        return
    print_result(outcome.result)
    what = "the same result as" if outcome.same_result else "a different result from"
    as_run = f" as run {outcome.run_id}" if outcome.run_id else ""
    click.echo(
        f"replayed run {outcome.replay_of}{as_run}: {outcome.calls} model call(s) answered "
        f"from the log, {outcome.diverged} diverged, {outcome.unused} recorded replies "
        f"unused; {what} the recorded run", err=True,
    )


@runs.command()
@click.argument("run_ids", metavar="RUN...", nargs=-1, required=True)
@project_option
def delete(run_ids: tuple[str, ...], project: Path | None) -> None:
    """Delete recorded runs (ids or unique prefixes) with their events and replies."""
    deleted = _with_log(project, lambda log: log.delete_runs(run_ids))
    click.echo(f"deleted {len(deleted)} run(s): {', '.join(deleted)}", err=True)
