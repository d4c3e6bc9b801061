"""Every tool of ``llmspell-tools-system`` (category ``system``), in registration order.

All of them need a permission that the default policy does not grant: ``env`` (``env_read``,
``system_info``), ``process`` (``process_run``, ``process_which``) or ``fs_read``
(``sqlite_query``, which also needs a write root for ``write: true``).
"""

from __future__ import annotations

from llmspell.tools import Tool
from llmspell_tools_system.env import env_read
from llmspell_tools_system.process import process_run, process_which
from llmspell_tools_system.sqlite import sqlite_query
from llmspell_tools_system.sysinfo import system_info

TOOLS: tuple[Tool, ...] = (env_read, process_run, process_which, system_info, sqlite_query)
