"""The security policy of a run: what its tools may touch and how much its script may use.

Spells are untrusted code. A :class:`SecurityPolicy` is fixed for one run and consulted by the
runtime before a tool runs (:meth:`check_tool`) and by tools for every path and host they touch
(:meth:`check_path`, :meth:`check_host`). Everything is refused unless the policy allows it.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import trio

from llmspell.errors import LlmspellError

if TYPE_CHECKING:
    from llmspell.tools import Tool


@attrs.define(frozen=True)
class Limits:
    """Resource limits of one spell run (``None`` = unlimited).

    ``cpu_seconds`` is CPU time spent in the script engine, ``memory_bytes`` the engine's heap,
    ``wall_seconds`` the whole run's duration, ``max_depth`` the script's call depth.
    """

    cpu_seconds: float | None = 30.0
    memory_bytes: int | None = 256 * 1024 * 1024
    wall_seconds: float | None = 600.0
    max_depth: int | None = 200


def _strings(values: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


def _paths(values: Any) -> tuple[Path, ...]:
    return tuple(Path(os.path.realpath(os.fspath(v))) for v in values)


@attrs.define(frozen=True)
class SecurityPolicy:
    """What one run may do.

    - ``read_roots``/``write_roots``: directories (resolved, symlinks included) that file tools
      may read or write; writing implies reading.
    - ``network_hosts``: host name globs tools may reach (``"*"`` = any public host);
      ``allow_private_network`` additionally admits loopback, private and link-local addresses.
    - ``allow_processes``: tools may spawn processes; ``env_names``: environment variables tools
      may read.
    - ``approve_tools``: tool names that need a human's approval in addition to those marked
      ``requires_approval``; ``auto_approve`` approves all of them.
    - ``max_hook_retries`` bounds hook-requested retries of one operation.
    """

    read_roots: tuple[Path, ...] = attrs.field(default=(), converter=_paths)
    write_roots: tuple[Path, ...] = attrs.field(default=(), converter=_paths)
    network_hosts: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    allow_private_network: bool = False
    allow_processes: bool = False
    env_names: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    approve_tools: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    auto_approve: bool = False
    limits: Limits = attrs.field(factory=Limits)
    max_hook_retries: int = 3

    def needs_approval(self, tool: Tool) -> bool:
        return (tool.requires_approval or tool.name in self.approve_tools) and not self.auto_approve

    def check_tool(self, tool: Tool) -> None:
        """Refuse (``permission_denied``) a tool that declares a permission the policy does not
        grant at all (processes, environment, network, file reading or writing). Tools still
        check each path and host they touch with :meth:`check_path`/:meth:`check_host`."""
        granted = {
            "process": self.allow_processes,
            "env": bool(self.env_names),
            "network": bool(self.network_hosts),
            "fs_read": bool(self.read_roots or self.write_roots),
            "fs_write": bool(self.write_roots),
        }
        for perm in sorted(tool.permissions):
            if not granted[perm]:
                raise LlmspellError(
                    "permission_denied",
                    f"tool {tool.name!r} needs permission {perm!r}, which this run's policy "
                    "does not grant",
                    {"tool": tool.name, "permission": perm},
                    hint=_HINTS[perm],
                )

    def check_path(self, path: str | os.PathLike[str], *, write: bool = False) -> Path:
        """The resolved ``path`` if it lies inside an allowed root (symlinks resolved, so ``..``
        and links out of a root are refused); else ``permission_denied``."""
        resolved = Path(os.path.realpath(os.fspath(path)))
        roots = self.write_roots if write else self.read_roots + self.write_roots
        for root in roots:
            if resolved == root or resolved.is_relative_to(root):
                return resolved
        mode = "write" if write else "read"
        raise LlmspellError(
            "permission_denied",
            f"path {os.fspath(path)!r} is outside the roots this run may {mode}",
            {"path": os.fspath(path), "resolved": str(resolved), "mode": mode,
             "roots": [str(r) for r in roots]},
            hint="add its directory to the policy's read_roots/write_roots",
        )

    def host_allowed(self, host: str) -> bool:
        """Whether ``host`` matches one of ``network_hosts`` (by name, before resolution)."""
        host = host.lower().rstrip(".")
        return any(fnmatch.fnmatchcase(host, pat.lower()) for pat in self.network_hosts)

    async def check_host(self, host: str, port: int = 443) -> list[str]:
        """Resolve ``host`` and return its addresses if the policy allows connecting to them.

        Refused (``permission_denied``): a host matching no ``network_hosts`` glob, and any
        address that is loopback, private, link-local, reserved or multicast unless
        ``allow_private_network`` (checked on the resolved addresses, so a public name resolving
        to 127.0.0.1 is refused).
        """
        if not self.host_allowed(host):
            raise LlmspellError(
                "permission_denied",
                f"host {host!r} is not in this run's allowed network hosts",
                {"host": host, "allowed": list(self.network_hosts)},
                hint="add it to the policy's network_hosts",
            )
        try:
            infos = await trio.socket.getaddrinfo(host, port, type=trio.socket.SOCK_STREAM)
        except OSError as exc:
            raise LlmspellError(
                "tool_error", f"cannot resolve host {host!r}: {exc}", {"host": host}
            ) from None
        addresses = sorted({str(info[4][0]) for info in infos})
        if not self.allow_private_network:
            for addr in addresses:
                ip = ipaddress.ip_address(addr.split("%")[0])
                if not ip.is_global or ip.is_multicast:
                    raise LlmspellError(
                        "permission_denied",
                        f"host {host!r} resolves to non-public address {addr}",
                        {"host": host, "address": addr},
                        hint="set allow_private_network to reach local services",
                    )
        return addresses


_HINTS = {
    "process": "enable process spawning in the policy (allow_processes)",
    "env": "list the variables it may read in the policy (env_names)",
    "network": "list the hosts it may reach in the policy (network_hosts)",
    "fs_read": "give the policy a directory it may read (read_roots)",
    "fs_write": "give the policy a directory it may write (write_roots)",
}
