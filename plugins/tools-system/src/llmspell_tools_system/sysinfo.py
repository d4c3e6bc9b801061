"""``system_info``: facts about the host (OS, CPU, memory, disks of the policy's roots)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import trio

from llmspell.tools import ToolContext, tool


def gather(read_roots: tuple[Path, ...], write_roots: tuple[Path, ...], hostname: bool) -> dict[
    str, Any
]:
    """The host facts (blocking: psutil reads /proc and calls statvfs)."""
    import platform
    from datetime import UTC, datetime

    import psutil

    memory = psutil.virtual_memory()
    usable: int | None
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        load = None
    disks: list[dict[str, Any]] = []
    seen: set[Path] = set()
    for root in (*write_roots, *read_roots):
        if root in seen:
            continue
        seen.add(root)
        entry: dict[str, Any] = {"root": str(root), "writable": root in write_roots}
        try:
            usage = psutil.disk_usage(str(root))
        except OSError as exc:
            entry["error"] = exc.strerror or str(exc)
        else:
            entry.update(total_bytes=usage.total, used_bytes=usage.used, free_bytes=usage.free)
        disks.append(entry)
    info: dict[str, Any] = {
        "os": platform.system(),
        "kernel_release": platform.release(),
        "architecture": platform.machine(),
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "cpu_count_usable": usable,
        "load_average": load,
        "memory": {"total_bytes": memory.total, "available_bytes": memory.available},
        "disks": disks,
        "boot_time": datetime.fromtimestamp(psutil.boot_time(), UTC).isoformat(
            timespec="seconds"
        ),
    }
    if hostname:
        info["hostname"] = platform.node()
    return info


@tool(
    name="system_info",
    description="Describe the host this run executes on. Returns {\"os\", \"kernel_release\", "
    '"architecture", "python_version", "python_implementation", "cpu_count", '
    '"cpu_count_usable", "load_average": [1, 5, 15 min] or null, "memory": {"total_bytes", '
    '"available_bytes"}, "disks": [{"root", "writable", "total_bytes", "used_bytes", '
    '"free_bytes"} for each of the policy\'s read and write roots only], "boot_time": ISO 8601 '
    "UTC} and \"hostname\" only when include_hostname is true. It needs the 'env' permission "
    "because it reveals facts about the host.",
    category="system",
    permissions={"env"},
    parameters={
        "type": "object",
        "properties": {
            "include_hostname": {
                "type": "boolean",
                "description": "Also return the host's name (default false).",
                "default": False,
            },
        },
        "required": [],
        "additionalProperties": False,
    },
    example={"include_hostname": False},
)
async def system_info(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    policy = ctx.policy
    return await trio.to_thread.run_sync(
        gather,
        tuple(policy.read_roots),
        tuple(policy.write_roots),
        bool(args.get("include_hostname", False)),
    )
