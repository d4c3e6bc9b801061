"""The security policy of a run: what its tools may touch and how much its script may use.

Spells are untrusted code. A :class:`SecurityPolicy` is fixed for one run and consulted by the
runtime before a tool runs (:meth:`check_tool`) and by tools for every path and host they touch
(:meth:`check_path`, :meth:`check_host`). Everything is refused unless the policy allows it.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
import shutil
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
    - ``network_hosts``: host name globs tools may reach (``"*"`` = any public host), each
      optionally with a port (``"api.example.com:443"``, ``"127.0.0.1:8080"``);
      ``allow_private_network`` additionally admits loopback, private and link-local addresses.
      An entry that is an IP address literal admits that address even when it is private: naming
      ``127.0.0.1:8080`` is an explicit choice, whereas a *name* resolving to it may be a trick.
    - ``allow_processes``: tools may spawn processes; ``commands``: the executables a tool that
      runs commands on a spell's behalf may start (names or absolute paths, ``"*"`` = any),
      listing any also allows processes. ``env_names``: environment variables tools may read.
    - ``approve_tools``: tool names that need a human's approval in addition to those marked
      ``requires_approval``; ``auto_approve`` approves all of them.
    - ``max_hook_retries`` bounds hook-requested retries of one operation.
    """

    read_roots: tuple[Path, ...] = attrs.field(default=(), converter=_paths)
    write_roots: tuple[Path, ...] = attrs.field(default=(), converter=_paths)
    network_hosts: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    allow_private_network: bool = False
    allow_processes: bool = False
    commands: tuple[str, ...] = attrs.field(default=(), converter=_strings)
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
            "process": self.allow_processes or bool(self.commands),
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

    def check_command(self, command: str) -> str:
        """The absolute path of executable ``command`` if ``commands`` allows it (by its name as
        given, its base name or its resolved path); else ``permission_denied``. ``tool_error`` if
        an allowed command is not found on ``PATH``."""
        resolved = shutil.which(command)
        names = {command, os.path.basename(command)}
        if resolved:
            names.add(os.path.realpath(resolved))
        if not ("*" in self.commands or names & set(self.commands)):
            raise LlmspellError(
                "permission_denied",
                f"command {command!r} is not in this run's allowed commands",
                {"command": command, "allowed": list(self.commands)},
                hint="list it in the policy's commands (--allow-command on the command line)",
            )
        if resolved is None:
            raise LlmspellError(
                "tool_error", f"command {command!r} was not found", {"command": command}
            )
        return resolved

    def _matching_entry(self, host: str, port: int | None) -> str | None:
        host = host.lower().rstrip(".")
        for entry in self.network_hosts:
            pattern, entry_port = split_host_port(entry)
            if entry_port is not None and entry_port != port:
                continue
            if fnmatch.fnmatchcase(host, pattern.lower()):
                return pattern
        return None

    def host_allowed(self, host: str, port: int | None = None) -> bool:
        """Whether ``host`` (and ``port``) match one of ``network_hosts`` (by name, before
        resolution). An entry with a port matches only that port."""
        return self._matching_entry(host, port) is not None

    async def check_host(self, host: str, port: int = 443) -> list[str]:
        """Resolve ``host`` and return its addresses if the policy allows connecting to them.

        Refused (``permission_denied``): a host and port matching no ``network_hosts`` entry,
        and any address that is loopback, private, link-local, reserved or multicast unless
        ``allow_private_network`` or the matching entry is that very IP address (checked on the
        resolved addresses, so a public name resolving to 127.0.0.1 is refused). Connect to the
        returned addresses, not to the name, so that a second lookup cannot answer differently.
        """
        host = host.strip("[]")
        pattern = self._matching_entry(host, port)
        if pattern is None:
            raise LlmspellError(
                "permission_denied",
                f"host {host!r} (port {port}) is not in this run's allowed network hosts",
                {"host": host, "port": port, "allowed": list(self.network_hosts)},
                hint="add it to the policy's network_hosts (--allow-net on the command line)",
            )
        try:
            infos = await trio.socket.getaddrinfo(host, port, type=trio.socket.SOCK_STREAM)
        except OSError as exc:
            raise LlmspellError(
                "tool_error", f"cannot resolve host {host!r}: {exc}", {"host": host}
            ) from None
        addresses = sorted({str(info[4][0]) for info in infos})
        if not self.allow_private_network:
            explicit = _ip_or_none(pattern)
            for addr in addresses:
                ip = ipaddress.ip_address(addr.split("%")[0])
                if (not ip.is_global or ip.is_multicast) and ip != explicit:
                    raise LlmspellError(
                        "permission_denied",
                        f"host {host!r} resolves to non-public address {addr}",
                        {"host": host, "address": addr},
                        hint="set allow_private_network to reach local services, or allow "
                        "that address itself",
                    )
        return addresses


def split_host_port(entry: str) -> tuple[str, int | None]:
    """``"host:port"`` -> ``("host", port)``; ``"host"`` -> ``("host", None)``; IPv6 literals
    with a port are written ``"[::1]:8080"``; a bare IPv6 literal has no port."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    host, sep, port = entry.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port)
    return entry, None


def _ip_or_none(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


_HINTS = {
    "process": "enable process spawning in the policy (allow_processes)",
    "env": "list the variables it may read in the policy (env_names)",
    "network": "list the hosts it may reach in the policy (network_hosts)",
    "fs_read": "give the policy a directory it may read (read_roots)",
    "fs_write": "give the policy a directory it may write (write_roots)",
}
