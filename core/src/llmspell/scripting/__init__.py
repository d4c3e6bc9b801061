"""The engine-independent half of every script bridge: the host operation table and the
per-run session (handles, callbacks, tasks) that engines drive."""

from llmspell.scripting.hostops import HOST_OPS, HostOp, api_table
from llmspell.scripting.session import Callback, ScriptSession, TaskRecord

__all__ = ["HOST_OPS", "Callback", "HostOp", "ScriptSession", "TaskRecord", "api_table"]
