"""Public test helpers for llmspell users and plugin authors.

- :class:`ScriptedProvider` / :class:`Reply`: a model provider that answers from a script.
- :func:`make_kernel`: a kernel with chosen plugins and a scripted provider, no entry points.
- pytest fixtures (loaded automatically through the ``pytest11`` entry point):
  ``scripted_provider``, ``llmspell_kernel`` and, under pytest-trio, ``spell_run``.
- :class:`llmspell.testing.chat_server.ChatServer`: an OpenAI-compatible chat server on
  127.0.0.1.
- :class:`llmspell.testing.terminal.Terminal`: a command on a pseudo-terminal (POSIX).
"""

from __future__ import annotations

from collections.abc import Iterable

from llmspell.kernel import Kernel
from llmspell.testing.scripted import Reply, ScriptedProvider, as_reply


def make_kernel(
    *,
    plugins: Iterable[tuple[str, object]] = (),
    provider: ScriptedProvider | None = None,
    entry_points: bool = False,
) -> Kernel:
    """A kernel with ``plugins`` (``(name, plugin)`` pairs) and ``provider`` registered as the
    ``scripted`` provider (a fresh one when not given)."""
    kernel = Kernel.load(entry_points=entry_points, plugins=plugins)
    provider = provider if provider is not None else ScriptedProvider()
    kernel.providers.add(provider.name, provider, replace=True)
    return kernel


__all__ = ["Reply", "ScriptedProvider", "as_reply", "make_kernel"]
