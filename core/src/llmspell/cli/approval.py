"""The command line's approver: asks a person on the terminal before a tool that needs approval
runs (see ``SecurityPolicy.needs_approval``).

Questions are asked one at a time (concurrent tools wait their turn). Without a terminal on
both stdin and stderr nobody can answer, so the tool is refused with a hint to pass ``--yes``.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click
import trio

from llmspell.errors import LlmspellError

if TYPE_CHECKING:
    from llmspell.tools import Tool

_lock: trio.Lock | None = None
_lock_token: object | None = None
#: longest rendering of the arguments shown in the question
MAX_SHOWN = 2000


def _question(tool: Tool, args: dict[str, Any]) -> str:
    shown = json.dumps(args, ensure_ascii=False, sort_keys=True)
    if len(shown) > MAX_SHOWN:
        shown = shown[:MAX_SHOWN] + " …"
    return f"Allow tool {tool.name!r} to run with {shown}?"


def interactive() -> bool:
    """Whether a person can answer: stdin and stderr are terminals."""
    return sys.stdin.isatty() and sys.stderr.isatty()


async def terminal_approver(tool: Tool, args: dict[str, Any]) -> bool:
    """Ask on the terminal whether ``tool`` may run with ``args``; ``permission_denied`` when
    there is no terminal to ask on."""
    global _lock, _lock_token
    if not interactive():
        raise LlmspellError(
            "permission_denied",
            f"tool {tool.name!r} needs approval, and there is no terminal to ask on",
            {"tool": tool.name, "reason": "approval"},
            hint="run with --yes to approve every tool that asks",
        )
    token = trio.lowlevel.current_trio_token()
    if _lock is None or _lock_token is not token:  # one lock per trio run
        _lock, _lock_token = trio.Lock(), token
    async with _lock:
        question = _question(tool, args)
        return await trio.to_thread.run_sync(
            lambda: click.confirm(question, default=False, err=True), abandon_on_cancel=True
        )
