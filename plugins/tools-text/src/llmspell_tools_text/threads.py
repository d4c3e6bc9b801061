"""Running blocking work off the event loop when the input is large."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import trio

from llmspell_tools_text.limits import OFFLOAD_CHARS

T = TypeVar("T")


async def run_blocking(fn: Callable[[], T], size: int, *, always: bool = False) -> T:
    """``fn()``, in a worker thread when ``size`` (characters of input) is at least
    :data:`OFFLOAD_CHARS` or ``always``; inline otherwise (a thread costs more than tiny work)."""
    if always or size >= OFFLOAD_CHARS:
        return await trio.to_thread.run_sync(fn)
    return fn()
