"""The security policy's network entries and command allowlist, the ``llmspell_approve_tool``
hook, and the command line's terminal approver (driven through a real pseudo-terminal)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from llmspell.errors import LlmspellError
from llmspell.lifecycle import hookimpl
from llmspell.runtime import SpellRun
from llmspell.security import SecurityPolicy, split_host_port
from llmspell.testing import make_kernel
from llmspell.testing.terminal import Terminal
from llmspell.tools import Tool, ToolContext, ToolRegistry


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("example.com", ("example.com", None)),
        ("example.com:8080", ("example.com", 8080)),
        ("*.example.com:443", ("*.example.com", 443)),
        ("127.0.0.1:9000", ("127.0.0.1", 9000)),
        ("::1", ("::1", None)),
        ("[::1]:8080", ("::1", 8080)),
        ("[::1]", ("::1", None)),
        ("host:notaport", ("host:notaport", None)),
    ],
)
def test_split_host_port(entry: str, expected: tuple[str, int | None]) -> None:
    assert split_host_port(entry) == expected


def test_an_entry_with_a_port_matches_only_that_port() -> None:
    policy = SecurityPolicy(network_hosts=["api.example.com:443", "*.example.org"])
    assert policy.host_allowed("api.example.com", 443)
    assert not policy.host_allowed("api.example.com", 80)
    assert policy.host_allowed("www.example.org", 80)
    assert policy.host_allowed("WWW.Example.ORG.", 8443)
    assert not policy.host_allowed("example.net", 443)


async def test_an_explicit_ip_entry_admits_that_private_address_only() -> None:
    policy = SecurityPolicy(network_hosts=["127.0.0.1:8080", "localhost:8080"])
    assert await policy.check_host("127.0.0.1", 8080) == ["127.0.0.1"]
    with pytest.raises(LlmspellError) as info:
        await policy.check_host("127.0.0.1", 8081)
    assert info.value.code == "permission_denied"
    assert info.value.details["port"] == 8081
    # a name allowed by the policy that resolves to loopback is still refused
    with pytest.raises(LlmspellError, match="non-public address"):
        await policy.check_host("localhost", 8080)
    # a glob is not an explicit address
    with pytest.raises(LlmspellError, match="non-public address"):
        await SecurityPolicy(network_hosts=["127.0.0.*"]).check_host("127.0.0.1", 80)
    with pytest.raises(LlmspellError, match="not in this run's allowed network hosts"):
        await SecurityPolicy(network_hosts=["127.0.0.1"]).check_host("127.0.0.2", 80)


def test_check_command_allows_listed_executables_by_name_or_path() -> None:
    python = os.path.basename(sys.executable)
    by_name = SecurityPolicy(commands=[python])
    assert os.path.realpath(by_name.check_command(sys.executable)) == os.path.realpath(
        sys.executable
    )
    by_path = SecurityPolicy(commands=[os.path.realpath(sys.executable)])
    assert by_path.check_command(sys.executable)
    assert SecurityPolicy(commands=["*"]).check_command(sys.executable)
    with pytest.raises(LlmspellError) as info:
        SecurityPolicy(commands=["git"]).check_command(sys.executable)
    assert info.value.code == "permission_denied"
    assert "--allow-command" in (info.value.hint or "")
    with pytest.raises(LlmspellError) as missing:
        SecurityPolicy(commands=["*"]).check_command("no-such-command-llmspell")
    assert missing.value.code == "tool_error"
    assert shutil.which("sh") is not None
    with pytest.raises(LlmspellError, match="not in this run's allowed commands"):
        SecurityPolicy().check_command("sh")


def test_listing_commands_grants_the_process_permission() -> None:
    tool = Tool(name="spawn", description="d", run=_done, permissions={"process"})
    with pytest.raises(LlmspellError, match="'process'"):
        SecurityPolicy().check_tool(tool)
    SecurityPolicy(commands=["git"]).check_tool(tool)
    SecurityPolicy(allow_processes=True).check_tool(tool)


# --- the approval hook ------------------------------------------------------------------------


async def _done(args: dict[str, Any], ctx: ToolContext) -> str:
    return "done"


class Tools:
    @hookimpl
    def llmspell_register_tools(self, registry: ToolRegistry) -> None:
        registry.register(Tool(name="wipe", description="d", run=_done, requires_approval=True))
        registry.register(Tool(name="echoish", description="d", run=_done))


class Approver:
    """Approves ``wipe`` only when ``args["sure"]``; has no opinion otherwise."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    async def llmspell_approve_tool(self, tool: Tool, args: dict[str, Any]) -> bool | None:
        self.seen.append((tool.name, args))
        if "sure" not in args:
            return None
        return bool(args["sure"])


class Refuser:
    @hookimpl(priority=10)
    def llmspell_approve_tool(self, tool: Tool, run: SpellRun) -> bool | None:
        return False if run.args.get("lockdown") else None


async def test_approval_hooks_decide_before_the_run_approver() -> None:
    approver = Approver()
    kernel = make_kernel(
        plugins=[("t", Tools()), ("approver", approver), ("refuser", Refuser())]
    )
    wipe = kernel.tools.get("wipe")
    wipe.parameters = {"type": "object"}  # accept any arguments
    wipe._trivial = True
    asked: list[str] = []

    async def person(tool: Tool, args: dict[str, Any]) -> bool:
        asked.append(tool.name)
        return True

    async with SpellRun.open(kernel, approver=person) as run:
        assert await run.call_tool("wipe", {"sure": True}) == "done"
        with pytest.raises(LlmspellError, match="'wipe' was refused approval") as info:
            await run.call_tool("wipe", {"sure": False})
        assert info.value.details == {"tool": "wipe", "reason": "approval"}
        assert asked == []  # the hook decided both times
        assert await run.call_tool("wipe", {}) == "done"  # no opinion: the person is asked
        assert asked == ["wipe"]
    async with SpellRun.open(kernel) as run:  # no person to ask
        with pytest.raises(LlmspellError, match="no one can give it"):
            await run.call_tool("wipe", {})
        assert await run.call_tool("wipe", {"sure": True}) == "done"
    async with SpellRun.open(kernel, args={"lockdown": True}, approver=person) as run:
        with pytest.raises(LlmspellError, match="refused approval"):
            await run.call_tool("wipe", {"sure": True})  # the higher priority hook refused
    # tools that need no approval never reach the hooks
    async with SpellRun.open(kernel) as run:
        await run.call_tool("echoish", {})
    assert all(name == "wipe" for name, _ in approver.seen)


async def test_a_failing_approval_hook_is_a_plugin_error() -> None:
    class Broken:
        @hookimpl
        def llmspell_approve_tool(self, tool: Tool) -> bool:
            raise RuntimeError("approval service down")

    kernel = make_kernel(plugins=[("t", Tools()), ("broken", Broken())])
    async with SpellRun.open(kernel, policy=SecurityPolicy()) as run:
        with pytest.raises(LlmspellError) as info:
            await run.call_tool("wipe", {})
    assert info.value.code == "plugin_error"
    assert "broken.llmspell_approve_tool" in info.value.message
    assert "approval service down" in info.value.message
    async with SpellRun.open(kernel, policy=SecurityPolicy(auto_approve=True)) as run:
        assert await run.call_tool("wipe", {}) == "done"  # --yes needs no one's approval


# --- the terminal approver --------------------------------------------------------------------

PROGRAM = textwrap.dedent(
    """
    import sys
    from llmspell.cli import cli
    from llmspell.cli.app import CliState
    from llmspell.lifecycle import hookimpl
    from llmspell.testing import make_kernel
    from llmspell.tools import Tool

    async def wipe(args, ctx):
        return "wiped " + args.get("what", "?")

    class P:
        @hookimpl
        def llmspell_register_tools(self, registry):
            registry.register(Tool(name="wipe", description="d", run=wipe,
                                   requires_approval=True))

    cli.main(sys.argv[1:], obj=CliState(make_kernel(plugins=[("p", P())])))
    """
)


def _run_on_a_terminal(tmp_path: Path, answer: bytes, *args: str) -> tuple[int, str]:
    """Run the CLI with stdin/stdout/stderr on a pseudo-terminal, answer its question, and
    return the exit code and everything it printed."""
    script = tmp_path / "cli_on_tty.py"
    script.write_text(PROGRAM)
    terminal = Terminal.start([sys.executable, script, *args])
    terminal.read_until("[y/N]")
    terminal.type(answer)
    code = terminal.wait()
    text = terminal.output.replace("\r\n", "\n")
    return code, re.sub(r"\x1b\[[0-9;]*m", "", text)  # colours of the error line


def test_the_cli_asks_on_a_terminal_and_runs_the_tool_when_approved(tmp_path: Path) -> None:
    code, out = _run_on_a_terminal(tmp_path, b"y\n", "tools", "call", "wipe", '{"what": "disk"}')
    assert "Allow tool 'wipe' to run with" in out and '"what": "disk"' in out
    assert "wiped disk" in out
    assert code == 0


def test_the_cli_refuses_the_tool_when_the_person_says_no(tmp_path: Path) -> None:
    code, out = _run_on_a_terminal(tmp_path, b"n\n", "tools", "call", "wipe", "{}")
    assert "Allow tool 'wipe'" in out
    assert "error: tool 'wipe' was refused approval" in out
    assert "wiped" not in out
    assert code == 1


def test_without_a_terminal_the_cli_refuses_and_suggests_yes(tmp_path: Path) -> None:
    script = tmp_path / "cli_no_tty.py"
    script.write_text(PROGRAM)
    proc = subprocess.run(
        [sys.executable, str(script), "tools", "call", "wipe", "{}"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert "error: tool 'wipe' needs approval, and there is no terminal to ask on" in proc.stderr
    assert "--yes" in proc.stderr
    assert proc.stdout == ""
    approved = subprocess.run(
        [sys.executable, str(script), "tools", "call", "wipe", '{"what": "x"}', "--yes"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout == "wiped x\n"
