"""Tests of llmspell-tools-system through the real kernel path: entry point -> Kernel -> SpellRun.

Real parts only: real environment variables, real processes (this interpreter, allowlisted by
its path), a real SQLite file in tmp_path, the real host for system_info.
"""

from __future__ import annotations

import base64
import os
import platform
import signal
import socket
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import pytest
import trio

from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.security import SecurityPolicy
from llmspell_tools_system import env as env_module
from llmspell_tools_system import sqlite as sqlite_module

TOOL_NAMES = sorted(["env_read", "process_run", "process_which", "system_info", "sqlite_query"])
PERMISSION = {
    "env_read": "env",
    "process_run": "process",
    "process_which": "process",
    "system_info": "env",
    "sqlite_query": "fs_read",
}
PY = sys.executable


@pytest.fixture(scope="module")
def kernel() -> Kernel:
    # env={}: load every entry point, whatever LLMSPELL_* the developer has set
    return Kernel.load(env={})


async def call(kernel: Kernel, name: str, args: Any, policy: SecurityPolicy | None = None) -> Any:
    async with SpellRun.open(kernel, policy=policy) as run:
        return await run.call_tool(name, args)


async def call_error(
    kernel: Kernel, name: str, args: Any, policy: SecurityPolicy | None = None
) -> LlmspellError:
    with pytest.raises(LlmspellError) as info:
        await call(kernel, name, args, policy)
    return info.value


def assert_invalid(err: LlmspellError, tool: str, argument: str) -> None:
    assert err.code == "invalid_args", err
    assert err.message.startswith(f"tool {tool!r}: ")
    assert f"argument {argument!r}" in err.message or f"{argument!r}" in err.message


def is_gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie waiting for its reaper counts as ended)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def wait_gone(pid: int, seconds: float = 10.0) -> bool:
    with trio.move_on_after(seconds):
        while not is_gone(pid):
            await trio.sleep(0.05)
    return is_gone(pid)


def make_db(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL, data BLOB);
        INSERT INTO items (name, price, data) VALUES ('apple', 1.5, x'00ff10');
        INSERT INTO items (name, price, data) VALUES ('pear', 2.25, NULL);
        INSERT INTO items (name, price, data) VALUES ('plum', 0.5, NULL);
        """
    )
    conn.commit()
    conn.close()
    return path


# --- registration ---------------------------------------------------------------------------


def test_plugin_is_loaded_through_its_entry_point(kernel: Kernel) -> None:
    assert "tools-system" in kernel.plugins
    info = kernel.plugins["tools-system"]
    assert info.package == "llmspell-tools-system"
    assert "llmspell_register_tools" in info.hooks
    assert not [f for f in kernel.failures if f.name == "tools-system"]
    for name in TOOL_NAMES:
        assert kernel.tools.owner(name) == "tools-system"
    assert sorted(kernel.components("tools-system")["tools"]) == TOOL_NAMES
    assert set(kernel.components("tools-system")) == {"tools"}


def test_plugin_can_be_disabled() -> None:
    kernel = Kernel.load(env={"LLMSPELL_DISABLE_PLUGINS": "tools-system"})
    assert "tools-system" not in kernel.plugins
    for name in TOOL_NAMES:
        assert name not in kernel.tools


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_tool_spec_is_complete(kernel: Kernel, name: str) -> None:
    tool = kernel.tools.get(name)
    tool.check_schema()
    spec = tool.spec()
    assert spec["description"]
    assert spec["category"] == "system"
    assert spec["permissions"] == [PERMISSION[name]]
    assert spec["requires_approval"] is False
    params = spec["parameters"]
    assert params["type"] == "object"
    assert params["additionalProperties"] is False
    assert isinstance(params["required"], list)
    for prop, schema in params["properties"].items():
        assert schema.get("description"), f"{name}.{prop} has no description"
    assert spec["example"] is not None
    assert tool.validate(spec["example"]) == spec["example"]


@pytest.fixture
def example_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SecurityPolicy:
    """The setup the examples are written for: the current directory is a read root holding
    data/app.db; LANG may be read; python3 may be run."""
    monkeypatch.chdir(tmp_path)
    make_db(tmp_path / "data" / "app.db")
    return SecurityPolicy(read_roots=[tmp_path], env_names=["LANG"], commands=["python3"])


@pytest.mark.parametrize("name", TOOL_NAMES)
async def test_tool_example_runs(
    kernel: Kernel, name: str, example_setup: SecurityPolicy
) -> None:
    example = kernel.tools.get(name).example
    result = await call(kernel, name, example, example_setup)
    assert isinstance(result, dict) and result
    if name == "process_run":
        assert result["stdout"] == "hello\n"
    if name == "sqlite_query":
        assert result["rows"] == [["items"]]


@pytest.mark.parametrize("name", TOOL_NAMES)
async def test_default_policy_refuses_every_tool(
    kernel: Kernel, name: str, example_setup: SecurityPolicy
) -> None:
    err = await call_error(kernel, name, kernel.tools.get(name).example)
    assert err.code == "permission_denied"
    assert err.details == {"tool": name, "permission": PERMISSION[name]}


# --- env_read -------------------------------------------------------------------------------

ENV_POLICY = SecurityPolicy(
    env_names=["LLMSPELL_T_ONE", "LLMSPELL_T_TWO", "LLMSPELL_T_UNSET", "LLMSPELL_T_*"]
)


@pytest.fixture
def test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMSPELL_T_ONE", "first value")
    monkeypatch.setenv("LLMSPELL_T_TWO", "")
    monkeypatch.setenv("LLMSPELL_T_SECRET", "do not show")
    monkeypatch.delenv("LLMSPELL_T_UNSET", raising=False)


async def test_env_read_allowed(kernel: Kernel, test_env: None) -> None:
    result = await call(kernel, "env_read", {"names": ["LLMSPELL_T_ONE"]}, ENV_POLICY)
    assert result == {"values": {"LLMSPELL_T_ONE": "first value"}, "missing": [], "truncated": []}


async def test_env_read_several_names_and_missing(kernel: Kernel, test_env: None) -> None:
    args = {"names": ["LLMSPELL_T_TWO", "LLMSPELL_T_UNSET", "LLMSPELL_T_ONE"]}
    result = await call(kernel, "env_read", args, ENV_POLICY)
    assert result == {
        "values": {"LLMSPELL_T_TWO": "", "LLMSPELL_T_UNSET": None, "LLMSPELL_T_ONE": "first value"},
        "missing": ["LLMSPELL_T_UNSET"],
        "truncated": [],
    }
    result = await call(kernel, "env_read", {**args, "default": "fallback"}, ENV_POLICY)
    assert result["values"]["LLMSPELL_T_UNSET"] == "fallback"
    assert result["values"]["LLMSPELL_T_TWO"] == ""  # set but empty is not missing


async def test_env_read_not_allowed(kernel: Kernel, test_env: None) -> None:
    err = await call_error(kernel, "env_read", {"names": ["LLMSPELL_T_SECRET"]}, ENV_POLICY)
    assert err.code == "permission_denied"
    assert "'LLMSPELL_T_SECRET'" in err.message
    assert "do not show" not in repr(err.to_dict())
    assert err.details["name"] == "LLMSPELL_T_SECRET"
    assert err.details["argument"] == "names"


async def test_env_read_refusal_reveals_nothing_about_existence(
    kernel: Kernel, test_env: None
) -> None:
    existing = await call_error(kernel, "env_read", {"names": ["LLMSPELL_T_SECRET"]}, ENV_POLICY)
    absent = await call_error(kernel, "env_read", {"names": ["LLMSPELL_T_NOPE"]}, ENV_POLICY)
    assert existing.message.replace("SECRET", "X") == absent.message.replace("NOPE", "X")
    assert {**existing.details, "name": "X"} == {**absent.details, "name": "X"}
    assert existing.hint == absent.hint


async def test_env_read_one_refused_name_refuses_the_whole_call(
    kernel: Kernel, test_env: None
) -> None:
    args = {"names": ["LLMSPELL_T_ONE", "HOME"]}
    err = await call_error(kernel, "env_read", args, ENV_POLICY)
    assert err.code == "permission_denied"
    assert "'HOME'" in err.message
    assert "first value" not in repr(err.to_dict())


async def test_env_read_names_are_exact_not_globs(kernel: Kernel, test_env: None) -> None:
    # "LLMSPELL_T_*" is in the policy, but only as the literal name
    err = await call_error(kernel, "env_read", {"names": ["LLMSPELL_T_SECRET"]}, ENV_POLICY)
    assert err.code == "permission_denied"
    err = await call_error(kernel, "env_read", {"names": ["llmspell_t_one"]}, ENV_POLICY)
    assert err.code == "permission_denied"


async def test_env_read_cuts_long_values(kernel: Kernel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMSPELL_T_ONE", "x" * (env_module.MAX_VALUE_CHARS + 10))
    result = await call(kernel, "env_read", {"names": ["LLMSPELL_T_ONE"]}, ENV_POLICY)
    assert len(result["values"]["LLMSPELL_T_ONE"]) == env_module.MAX_VALUE_CHARS
    assert result["truncated"] == ["LLMSPELL_T_ONE"]


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        ({}, "names"),
        ({"names": []}, "names"),
        ({"names": "LLMSPELL_T_ONE"}, "names"),
        ({"names": ["LLMSPELL_T_ONE", "LLMSPELL_T_ONE"]}, "names"),
        ({"names": [""]}, "names/0"),
        ({"names": ["LLMSPELL_T_ONE"], "default": 5}, "default"),
        ({"names": ["LLMSPELL_T_ONE"], "nmes": []}, "nmes"),
    ],
)
async def test_env_read_invalid_args(kernel: Kernel, args: dict[str, Any], argument: str) -> None:
    err = await call_error(kernel, "env_read", args, ENV_POLICY)
    assert_invalid(err, "env_read", argument)


# --- process_run ----------------------------------------------------------------------------


@pytest.fixture
def proc_policy(tmp_path: Path) -> SecurityPolicy:
    (tmp_path / "work").mkdir()
    return SecurityPolicy(
        read_roots=[tmp_path / "work"], commands=[PY], env_names=["LLMSPELL_T_ONE"]
    )


def py(code: str, **extra: Any) -> dict[str, Any]:
    return {"argv": [PY, "-c", code], **extra}


async def test_process_run_real_command(kernel: Kernel, proc_policy: SecurityPolicy) -> None:
    result = await call(kernel, "process_run", py("print('hello, wörld')"), proc_policy)
    assert result["exit_code"] == 0
    assert result["signal"] is None
    assert result["stdout"] == "hello, wörld\n"
    assert result["stderr"] == ""
    assert result["stdout_truncated"] is False and result["stderr_truncated"] is False
    assert 0 <= result["duration"] < 60


async def test_process_run_passes_arguments_verbatim(
    kernel: Kernel, proc_policy: SecurityPolicy
) -> None:
    args = ["$HOME", "*", "a b", "; rm -rf /", "`x`"]
    code = "import sys, json; print(json.dumps(sys.argv[1:]))"
    result = await call(kernel, "process_run", {"argv": [PY, "-c", code, *args]}, proc_policy)
    import json

    assert json.loads(result["stdout"]) == args


async def test_process_run_nonzero_exit_is_a_result(
    kernel: Kernel, proc_policy: SecurityPolicy
) -> None:
    code = "import sys; sys.stderr.write('bad thing\\n'); sys.exit(3)"
    result = await call(kernel, "process_run", py(code), proc_policy)
    assert result["exit_code"] == 3
    assert result["stderr"] == "bad thing\n"
    assert result["signal"] is None


async def test_process_run_reports_a_signal(kernel: Kernel, proc_policy: SecurityPolicy) -> None:
    code = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    result = await call(kernel, "process_run", py(code), proc_policy)
    assert result["exit_code"] == -signal.SIGTERM
    assert result["signal"] == "SIGTERM"


async def test_process_run_stdin(kernel: Kernel, proc_policy: SecurityPolicy) -> None:
    code = "import sys; data = sys.stdin.read(); print(data.upper(), end='')"
    result = await call(kernel, "process_run", py(code, stdin="line one\nzwei ü\n"), proc_policy)
    assert result["stdout"] == "LINE ONE\nZWEI Ü\n"
    # without stdin the process reads end of file at once
    result = await call(kernel, "process_run", py("import sys; print(repr(sys.stdin.read()))"),
                        proc_policy)
    assert result["stdout"] == "''\n"


async def test_process_run_large_stdin_to_a_process_that_does_not_read(
    kernel: Kernel, proc_policy: SecurityPolicy
) -> None:
    result = await call(kernel, "process_run", py("print('done')", stdin="x" * 500_000),
                        proc_policy)
    assert result == {**result, "exit_code": 0, "stdout": "done\n"}


async def test_process_run_command_not_allowed(
    kernel: Kernel, proc_policy: SecurityPolicy
) -> None:
    err = await call_error(kernel, "process_run", {"argv": ["ls", "-l"]}, proc_policy)
    assert err.code == "permission_denied"
    assert "command 'ls' is not in this run's allowed commands" in err.message
    # processes allowed, but no command listed: nothing may run
    bare = SecurityPolicy(allow_processes=True)
    err = await call_error(kernel, "process_run", py("print(1)"), bare)
    assert err.code == "permission_denied"
    assert err.details["command"] == PY


async def test_process_run_allowed_but_missing_command(kernel: Kernel) -> None:
    policy = SecurityPolicy(commands=["llmspell-no-such-program"])
    err = await call_error(kernel, "process_run", {"argv": ["llmspell-no-such-program"]}, policy)
    assert err.code == "tool_error"
    assert "was not found" in err.message


@pytest.mark.parametrize("argv", ["echo hi", f"{PY} -c 'print(1)'"])
async def test_process_run_shell_string_refused(
    kernel: Kernel, proc_policy: SecurityPolicy, argv: str
) -> None:
    err = await call_error(kernel, "process_run", {"argv": argv}, proc_policy)
    assert_invalid(err, "process_run", "argv")
    assert "is not of type 'array'" in err.message


async def test_process_run_cwd(kernel: Kernel, proc_policy: SecurityPolicy, tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "sub").mkdir()
    code = "import os; print(os.getcwd())"
    result = await call(kernel, "process_run", py(code, cwd=str(work / "sub")), proc_policy)
    assert result["stdout"] == f"{os.path.realpath(work / 'sub')}\n"


async def test_process_run_cwd_outside_roots(
    kernel: Kernel, proc_policy: SecurityPolicy, tmp_path: Path
) -> None:
    for cwd in [str(tmp_path), "/", str(tmp_path / "work" / ".." )]:
        err = await call_error(kernel, "process_run", py("print(1)", cwd=cwd), proc_policy)
        assert err.code == "permission_denied", cwd
        assert "outside the roots" in err.message


async def test_process_run_cwd_missing_or_a_file(
    kernel: Kernel, proc_policy: SecurityPolicy, tmp_path: Path
) -> None:
    err = await call_error(
        kernel, "process_run", py("print(1)", cwd=str(tmp_path / "work" / "nope")), proc_policy
    )
    assert err.code == "not_found"
    assert err.details["argument"] == "cwd"
    (tmp_path / "work" / "file.txt").write_text("x")
    err = await call_error(
        kernel, "process_run", py("print(1)", cwd=str(tmp_path / "work" / "file.txt")),
        proc_policy,
    )
    assert_invalid(err, "process_run", "cwd")


async def test_process_run_default_cwd_is_a_private_temporary_directory(
    kernel: Kernel, proc_policy: SecurityPolicy
) -> None:
    code = (
        "import os, json; open('scratch.txt', 'w').write('x'); "
        "print(json.dumps([os.getcwd(), os.environ['HOME'], os.environ['TMPDIR'], "
        "sorted(os.listdir('.'))]))"
    )
    import json

    result = await call(kernel, "process_run", py(code), proc_policy)
    cwd, home, tmpdir, listing = json.loads(result["stdout"])
    assert os.path.realpath(cwd) == os.path.realpath(home) == os.path.realpath(tmpdir)
    assert listing == ["scratch.txt"]  # it was empty before
    assert not os.path.exists(cwd)  # removed after the call


async def test_process_run_minimal_environment(
    kernel: Kernel, proc_policy: SecurityPolicy, test_env: None
) -> None:
    code = "import os, json; print(json.dumps(dict(os.environ)))"
    import json

    result = await call(kernel, "process_run", py(code), proc_policy)
    env = json.loads(result["stdout"])
    assert set(env) == {"PATH", "LANG", "HOME", "TMPDIR"}
    assert env["LANG"] == "C.UTF-8"
    assert env["PATH"] == os.environ["PATH"]
    # an allowlisted variable passes through when asked for
    result = await call(kernel, "process_run", py(code, env=["LLMSPELL_T_ONE"]), proc_policy)
    env = json.loads(result["stdout"])
    assert env["LLMSPELL_T_ONE"] == "first value"
    assert "LLMSPELL_T_SECRET" not in env


async def test_process_run_env_not_allowed(
    kernel: Kernel, proc_policy: SecurityPolicy, test_env: None
) -> None:
    err = await call_error(
        kernel, "process_run", py("print(1)", env=["LLMSPELL_T_SECRET"]), proc_policy
    )
    assert err.code == "permission_denied"
    assert "'LLMSPELL_T_SECRET'" in err.message
    assert err.details["argument"] == "env"


CHILD_WITH_GRANDCHILD = """
import os, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print(os.getpid(), grandchild.pid, flush=True)
time.sleep(120)
"""


async def test_process_run_timeout_kills_the_process_group(
    kernel: Kernel, proc_policy: SecurityPolicy
) -> None:
    start = trio.current_time()
    err = await call_error(
        kernel, "process_run", py(CHILD_WITH_GRANDCHILD, timeout=2), proc_policy
    )
    assert trio.current_time() - start < 60
    assert err.code == "timeout"
    assert err.details["reason"] == "timeout"
    assert err.details["timeout"] == 2
    child, grandchild = (int(x) for x in err.details["stdout"].split())
    assert await wait_gone(child)
    assert await wait_gone(grandchild)


async def test_process_run_kills_children_left_behind(
    kernel: Kernel, proc_policy: SecurityPolicy
) -> None:
    code = (
        "import subprocess, sys; "
        "g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
        "print(g.pid)"
    )
    start = trio.current_time()
    result = await call(kernel, "process_run", py(code, timeout=60), proc_policy)
    # the grandchild held stdout open, yet the call did not wait for it
    assert trio.current_time() - start < 30
    assert result["exit_code"] == 0
    assert await wait_gone(int(result["stdout"]))


async def test_process_run_is_killed_when_the_run_is_cancelled(
    kernel: Kernel, proc_policy: SecurityPolicy, tmp_path: Path
) -> None:
    pid_file = tmp_path / "work" / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    finished: list[Any] = []

    async def runner(run: SpellRun) -> None:
        finished.append(await run.call_tool("process_run", py(code, timeout=120)))

    async with SpellRun.open(kernel, policy=proc_policy) as run:
        run.spawn(runner, run)
        with trio.fail_after(30):
            while not (pid_file.exists() and pid_file.read_text()):
                await trio.sleep(0.05)
        pid = int(pid_file.read_text())
        assert not is_gone(pid)
        run.cancel()
    assert finished == []
    assert await wait_gone(pid)


async def test_process_run_output_is_bounded(kernel: Kernel, proc_policy: SecurityPolicy) -> None:
    code = "import sys; sys.stdout.write('x' * 5_000_000); sys.stderr.write('e' * 10)"
    result = await call(kernel, "process_run", py(code, max_output_bytes=1000), proc_policy)
    assert result["exit_code"] == 0
    assert result["stdout"] == "x" * 1000
    assert result["stdout_truncated"] is True
    assert result["stderr"] == "e" * 10
    assert result["stderr_truncated"] is False


async def test_process_run_endless_output_ends_with_the_timeout(
    kernel: Kernel, proc_policy: SecurityPolicy
) -> None:
    code = "import sys\nwhile True: sys.stdout.write('y' * 65536)"
    err = await call_error(
        kernel, "process_run", py(code, timeout=1, max_output_bytes=2000), proc_policy
    )
    assert err.code == "timeout"
    assert err.details["stdout"] == "y" * 2000
    assert err.details["stdout_truncated"] is True


async def test_process_run_cut_output_keeps_whole_characters(
    kernel: Kernel, proc_policy: SecurityPolicy
) -> None:
    code = "import sys; sys.stdout.buffer.write('ü'.encode() * 10)"
    result = await call(kernel, "process_run", py(code, max_output_bytes=5), proc_policy)
    assert result["stdout"] == "üü"  # 5 bytes hold two whole 2-byte characters
    assert result["stdout_truncated"] is True


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        ({}, "argv"),
        ({"argv": []}, "argv"),
        ({"argv": [PY, 5]}, "argv/1"),
        ({"argv": [PY, "a\0b"]}, "argv"),
        ({"argv": [""]}, "argv"),
        ({"argv": [PY], "timeout": 0}, "timeout"),
        ({"argv": [PY], "timeout": 301}, "timeout"),
        ({"argv": [PY], "max_output_bytes": -1}, "max_output_bytes"),
        ({"argv": [PY], "max_output_bytes": 2_000_000}, "max_output_bytes"),
        ({"argv": [PY], "stdin": 5}, "stdin"),
        ({"argv": [PY], "env": "LLMSPELL_T_ONE"}, "env"),
        ({"argv": [PY], "shell": True}, "shell"),
    ],
)
async def test_process_run_invalid_args(
    kernel: Kernel, proc_policy: SecurityPolicy, args: dict[str, Any], argument: str
) -> None:
    err = await call_error(kernel, "process_run", args, proc_policy)
    assert_invalid(err, "process_run", argument)


# --- process_which --------------------------------------------------------------------------


async def test_process_which(kernel: Kernel) -> None:
    policy = SecurityPolicy(commands=[PY, "llmspell-no-such-program"])
    result = await call(kernel, "process_which", {"names": [PY]}, policy)
    assert result == {"paths": {PY: PY}}
    result = await call(kernel, "process_which", {}, policy)
    assert result == {"paths": {PY: PY, "llmspell-no-such-program": None}}
    star = SecurityPolicy(commands=["*"])
    assert await call(kernel, "process_which", {}, star) == {"paths": {}}


async def test_process_which_not_allowed(kernel: Kernel) -> None:
    policy = SecurityPolicy(commands=[PY])
    err = await call_error(kernel, "process_which", {"names": ["sh"]}, policy)
    assert err.code == "permission_denied"
    assert "'sh'" in err.message


@pytest.mark.parametrize(
    ("args", "argument"),
    [({"names": PY}, "names"), ({"names": [""]}, "names/0"), ({"names": ["a\0"]}, "names")],
)
async def test_process_which_invalid_args(
    kernel: Kernel, args: dict[str, Any], argument: str
) -> None:
    err = await call_error(kernel, "process_which", args, SecurityPolicy(commands=[PY]))
    assert_invalid(err, "process_which", argument)


# --- system_info ----------------------------------------------------------------------------


async def test_system_info_needs_the_env_permission(kernel: Kernel, tmp_path: Path) -> None:
    policy = SecurityPolicy(read_roots=[tmp_path], allow_processes=True)
    err = await call_error(kernel, "system_info", {}, policy)
    assert err.code == "permission_denied"
    assert err.details == {"tool": "system_info", "permission": "env"}


async def test_system_info(kernel: Kernel, tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "w").mkdir()
    policy = SecurityPolicy(
        read_roots=[tmp_path / "r"], write_roots=[tmp_path / "w"], env_names=["LANG"]
    )
    info = await call(kernel, "system_info", {}, policy)
    assert info["os"] == platform.system()
    assert info["kernel_release"] == platform.release()
    assert info["architecture"] == platform.machine()
    assert info["python_version"] == platform.python_version()
    assert info["cpu_count"] == os.cpu_count() and info["cpu_count"] >= 1
    assert 1 <= info["cpu_count_usable"] <= info["cpu_count"]
    assert len(info["load_average"]) == 3 and all(x >= 0 for x in info["load_average"])
    memory = info["memory"]
    assert memory["total_bytes"] >= memory["available_bytes"] > 0
    roots = {d["root"]: d for d in info["disks"]}
    assert set(roots) == {os.path.realpath(tmp_path / "r"), os.path.realpath(tmp_path / "w")}
    assert roots[os.path.realpath(tmp_path / "w")]["writable"] is True
    assert roots[os.path.realpath(tmp_path / "r")]["writable"] is False
    for disk in info["disks"]:
        assert disk["total_bytes"] >= disk["free_bytes"] >= 0
        assert disk["used_bytes"] >= 0
    boot = datetime.fromisoformat(info["boot_time"])
    assert boot.tzinfo is not None and boot < datetime.now(UTC)
    assert "hostname" not in info


async def test_system_info_hostname_only_when_asked(kernel: Kernel) -> None:
    policy = SecurityPolicy(env_names=["LANG"])
    info = await call(kernel, "system_info", {"include_hostname": True}, policy)
    assert info["hostname"] == socket.gethostname()
    assert info["disks"] == []  # no roots, no disks


@pytest.mark.parametrize(
    ("args", "argument"),
    [({"include_hostname": "yes"}, "include_hostname"), ({"hostname": True}, "hostname")],
)
async def test_system_info_invalid_args(
    kernel: Kernel, args: dict[str, Any], argument: str
) -> None:
    err = await call_error(kernel, "system_info", args, SecurityPolicy(env_names=["LANG"]))
    assert_invalid(err, "system_info", argument)


# --- sqlite_query ---------------------------------------------------------------------------


@pytest.fixture
def dbs(tmp_path: Path) -> dict[str, Any]:
    """A database in a read root and one in a write root, and the policy naming both roots."""
    ro = make_db(tmp_path / "ro" / "shop.db")
    rw = make_db(tmp_path / "rw" / "shop.db")
    policy = SecurityPolicy(read_roots=[tmp_path / "ro"], write_roots=[tmp_path / "rw"])
    return {"ro": str(ro), "rw": str(rw), "policy": policy, "tmp": tmp_path}


async def sql(kernel: Kernel, dbs: dict[str, Any], **args: Any) -> Any:
    args.setdefault("path", dbs["ro"])
    return await call(kernel, "sqlite_query", args, dbs["policy"])


async def sql_error(kernel: Kernel, dbs: dict[str, Any], **args: Any) -> LlmspellError:
    args.setdefault("path", dbs["ro"])
    return await call_error(kernel, "sqlite_query", args, dbs["policy"])


async def test_sqlite_select_with_parameters(kernel: Kernel, dbs: dict[str, Any]) -> None:
    result = await sql(
        kernel, dbs, sql="SELECT id, name, price FROM items WHERE price > ? ORDER BY id",
        params=[1],
    )
    assert result == {
        "columns": ["id", "name", "price"],
        "rows": [[1, "apple", 1.5], [2, "pear", 2.25]],
        "rowcount": 2,
        "truncated": False,
    }
    result = await sql(
        kernel, dbs, sql="SELECT name FROM items WHERE name = :n OR price = :p ORDER BY id",
        params={"n": "plum", "p": 1.5},
    )
    assert result["rows"] == [["apple"], ["plum"]]


async def test_sqlite_parameters_are_bound_not_formatted(
    kernel: Kernel, dbs: dict[str, Any]
) -> None:
    evil = "x' OR '1'='1"
    result = await sql(kernel, dbs, sql="SELECT name FROM items WHERE name = ?", params=[evil])
    assert result["rows"] == []
    result = await sql(kernel, dbs, sql="SELECT ?, ?, ?", params=[evil, True, None])
    assert result["rows"] == [[evil, 1, None]]


async def test_sqlite_blobs_come_back_as_base64(kernel: Kernel, dbs: dict[str, Any]) -> None:
    result = await sql(kernel, dbs, sql="SELECT data FROM items ORDER BY id")
    assert result["rows"] == [[{"base64": base64.b64encode(b"\x00\xff\x10").decode()}], [None],
                              [None]]


async def test_sqlite_rows_are_bounded(kernel: Kernel, dbs: dict[str, Any]) -> None:
    result = await sql(kernel, dbs, sql="SELECT id FROM items ORDER BY id", max_rows=2)
    assert result["rows"] == [[1], [2]]
    assert result["truncated"] is True
    # an endless result set stops at the bound
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"
    result = await sql(kernel, dbs, sql=endless, max_rows=5)
    assert result["rows"] == [[1], [2], [3], [4], [5]] and result["truncated"] is True


async def test_sqlite_result_bytes_are_bounded(kernel: Kernel, dbs: dict[str, Any]) -> None:
    big = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100) " \
          "SELECT x, zeroblob(100000) FROM c"
    result = await sql(kernel, dbs, sql=big, max_rows=100)
    assert result["truncated"] is True
    assert 0 < result["rowcount"] < 100
    assert result["rowcount"] * 133_000 <= sqlite_module.MAX_RESULT_BYTES * 1.1


async def test_sqlite_write_refused_on_a_read_root(kernel: Kernel, dbs: dict[str, Any]) -> None:
    insert = "INSERT INTO items (name, price) VALUES (?, ?)"
    err = await sql_error(kernel, dbs, sql=insert, params=["fig", 3], write=True)
    assert err.code == "permission_denied"
    assert err.details["mode"] == "write"
    # without write: true the file is opened read-only, even in a write root
    err = await sql_error(kernel, dbs, path=dbs["rw"], sql=insert, params=["fig", 3])
    assert err.code == "permission_denied"
    assert "readonly" in err.message
    assert err.details["reason"] == "read_only"
    for path in (dbs["ro"], dbs["rw"]):
        conn = sqlite3.connect(path)
        assert conn.execute("SELECT count(*) FROM items").fetchone() == (3,)
        conn.close()


async def test_sqlite_write_allowed_in_a_write_root(kernel: Kernel, dbs: dict[str, Any]) -> None:
    insert = "INSERT INTO items (name, price) VALUES (?, ?)"
    result = await sql(kernel, dbs, path=dbs["rw"], sql=insert, params=["fig", 3], write=True)
    assert result["changes"] == 1
    assert result["last_row_id"] == 4
    assert result["columns"] == [] and result["rows"] == []
    result = await sql(
        kernel, dbs, path=dbs["rw"], sql="UPDATE items SET price = price * 2 WHERE price < ?",
        params=[2], write=True,
    )
    assert result["changes"] == 2
    conn = sqlite3.connect(dbs["rw"])
    assert conn.execute("SELECT name, price FROM items ORDER BY id").fetchall() == [
        ("apple", 3.0), ("pear", 2.25), ("plum", 1.0), ("fig", 3.0)
    ]
    conn.close()


async def test_sqlite_returning_rows_of_a_write(kernel: Kernel, dbs: dict[str, Any]) -> None:
    result = await sql(
        kernel, dbs, path=dbs["rw"], write=True,
        sql="DELETE FROM items WHERE price < 1 RETURNING name",
    )
    assert result["rows"] == [["plum"]]
    assert result["changes"] == 1


async def test_sqlite_create(kernel: Kernel, dbs: dict[str, Any]) -> None:
    new = str(dbs["tmp"] / "rw" / "new.db")
    err = await sql_error(kernel, dbs, path=new, sql="CREATE TABLE t (x)", write=True)
    assert err.code == "not_found"
    assert not os.path.exists(new)
    result = await sql(kernel, dbs, path=new, sql="CREATE TABLE t (x)", write=True, create=True)
    assert result["changes"] == 0
    conn = sqlite3.connect(new)
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]
    conn.close()
    err = await sql_error(kernel, dbs, path=new, sql="SELECT 1", create=True)
    assert_invalid(err, "sqlite_query", "create")


@pytest.mark.parametrize(
    "statement",
    [
        "ATTACH DATABASE '{tmp}/other.db' AS other",
        "attach '{tmp}/rw/shop.db' as other",
        "ATTACH ':memory:' AS mem",
        "VACUUM INTO '{tmp}/copy.db'",
        "DETACH DATABASE main",
    ],
)
async def test_sqlite_attach_refused(kernel: Kernel, dbs: dict[str, Any], statement: str) -> None:
    text = statement.format(tmp=dbs["tmp"])
    for args in ({}, {"path": dbs["rw"], "write": True}):
        err = await sql_error(kernel, dbs, sql=text, **args)
        assert err.code == "permission_denied", err
        assert err.details["argument"] == "sql"
    assert not (dbs["tmp"] / "other.db").exists()
    assert not (dbs["tmp"] / "copy.db").exists()


async def test_sqlite_load_extension_refused(kernel: Kernel, dbs: dict[str, Any]) -> None:
    err = await sql_error(kernel, dbs, sql="SELECT load_extension('/tmp/evil.so')")
    assert err.code == "permission_denied"
    assert "load_extension" in err.message


async def test_sqlite_timeout_on_a_runaway_query(kernel: Kernel, dbs: dict[str, Any]) -> None:
    runaway = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    )
    start = trio.current_time()
    err = await sql_error(kernel, dbs, sql=runaway, timeout=0.5)
    assert trio.current_time() - start < 30
    assert err.code == "timeout"
    assert err.details == {"tool": "sqlite_query", "reason": "timeout", "timeout": 0.5}


async def test_sqlite_cancellation_stops_a_runaway_query(
    kernel: Kernel, dbs: dict[str, Any]
) -> None:
    runaway = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    )
    start = trio.current_time()
    with trio.move_on_after(0.3) as scope:
        await sql(kernel, dbs, sql=runaway, timeout=300)
    assert scope.cancelled_caught
    assert trio.current_time() - start < 30
    # the abandoned worker thread stopped too: this process burns no CPU while idle
    await trio.sleep(0.2)
    before = sum(psutil.Process().cpu_times()[:2])
    await trio.sleep(1.0)
    assert sum(psutil.Process().cpu_times()[:2]) - before < 0.5


@pytest.mark.parametrize(
    ("statement", "argument", "fragment"),
    [
        ("SELEC name FROM items", "sql", "syntax error"),
        ("SELECT nope FROM items", "sql", "no such column"),
        ("SELECT * FROM missing_table", "sql", "no such table"),
        ("SELECT 1; SELECT 2", "sql", "one statement"),
        ("SELECT ?", "params", "bindings"),
    ],
)
async def test_sqlite_bad_sql(
    kernel: Kernel, dbs: dict[str, Any], statement: str, argument: str, fragment: str
) -> None:
    err = await sql_error(kernel, dbs, sql=statement)
    assert_invalid(err, "sqlite_query", argument)
    assert err.details["argument"] == argument
    assert fragment in err.message


async def test_sqlite_constraint_failure(kernel: Kernel, dbs: dict[str, Any]) -> None:
    err = await sql_error(
        kernel, dbs, path=dbs["rw"], write=True, sql="INSERT INTO items (id) VALUES (1)"
    )
    assert err.code == "tool_error"
    assert err.details["reason"] == "constraint"


async def test_sqlite_paths(kernel: Kernel, dbs: dict[str, Any]) -> None:
    tmp = dbs["tmp"]
    outside = make_db(tmp / "elsewhere" / "x.db")
    err = await sql_error(kernel, dbs, path=str(outside), sql="SELECT 1")
    assert err.code == "permission_denied"
    err = await sql_error(kernel, dbs, path=str(tmp / "ro" / "nope.db"), sql="SELECT 1")
    assert err.code == "not_found"
    assert err.details["argument"] == "path"
    assert not (tmp / "ro" / "nope.db").exists()  # read-only opening never creates a file
    err = await sql_error(kernel, dbs, path=str(tmp / "ro"), sql="SELECT 1")
    assert_invalid(err, "sqlite_query", "path")
    (tmp / "ro" / "text.db").write_text("not a database at all" * 100)
    err = await sql_error(kernel, dbs, path=str(tmp / "ro" / "text.db"), sql="SELECT * FROM t")
    assert err.code == "tool_error"
    assert err.details["reason"] == "not_a_database"


async def test_sqlite_odd_file_names(kernel: Kernel, dbs: dict[str, Any]) -> None:
    odd = make_db(dbs["tmp"] / "ro" / "we?ird #name%20.db")
    result = await sql(kernel, dbs, path=str(odd), sql="SELECT count(*) FROM items")
    assert result["rows"] == [[3]]


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        ({"sql": "SELECT 1"}, "path"),
        ({"path": "x.db"}, "sql"),
        ({"path": "x.db", "sql": ""}, "sql"),
        ({"path": "x.db", "sql": "SELECT ?", "params": [[1]]}, "params/0"),
        ({"path": "x.db", "sql": "SELECT ?", "params": "1"}, "params"),
        ({"path": "x.db", "sql": "SELECT 1", "max_rows": 0}, "max_rows"),
        ({"path": "x.db", "sql": "SELECT 1", "max_rows": 10_001}, "max_rows"),
        ({"path": "x.db", "sql": "SELECT 1", "timeout": 0}, "timeout"),
        ({"path": "x.db", "sql": "SELECT 1", "write": "yes"}, "write"),
        ({"path": "x.db", "sql": "SELECT 1", "query": "x"}, "query"),
    ],
)
async def test_sqlite_invalid_args(
    kernel: Kernel, dbs: dict[str, Any], args: dict[str, Any], argument: str
) -> None:
    err = await call_error(kernel, "sqlite_query", args, dbs["policy"])
    assert_invalid(err, "sqlite_query", argument)


async def test_sqlite_huge_integer_parameter(kernel: Kernel, dbs: dict[str, Any]) -> None:
    err = await sql_error(kernel, dbs, sql="SELECT ?", params=[2**70])
    assert_invalid(err, "sqlite_query", "params")
