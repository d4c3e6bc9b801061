"""``process_run`` and ``process_which``: run allowlisted executables, never through a shell.

Contract of ``process_run``:

- the executable (``argv[0]``) must pass ``policy.check_command``, and the process is started
  from the absolute path that check returns (``argv[0]`` is passed on as given);
- the process gets a minimal environment: ``PATH`` (the host's), ``LANG=C.UTF-8``, ``HOME`` and
  ``TMPDIR`` set to a fresh private temporary directory, plus the variables the caller names
  in ``env`` (each must be in ``policy.env_names``, passed through from the host environment);
- it runs in a new session (its own process group); when it ends, times out or the call is
  cancelled, the whole group is killed with SIGKILL, so no child outlives the call (a child
  that starts its own session escapes this; the process is not sandboxed otherwise);
- stdout and stderr are read while it runs and kept up to a bound; what is beyond it is read
  and dropped, so a process printing forever uses no more memory (it ends with the timeout).
"""

from __future__ import annotations

import codecs
import os
import shutil
import signal
import subprocess
import tempfile
from typing import Any

import attrs
import trio

from llmspell.errors import LlmspellError
from llmspell.tools import ToolContext, tool
from llmspell_tools_system.errors import invalid_arg, not_allowed_env, tool_failed

#: Default and largest ``timeout`` of ``process_run``, in seconds.
DEFAULT_TIMEOUT_SECONDS = 10
MAX_TIMEOUT_SECONDS = 300
#: Default and largest number of bytes kept of each of stdout and stderr.
DEFAULT_OUTPUT_BYTES = 64 * 1024
MAX_OUTPUT_BYTES = 1024 * 1024
#: Longest ``stdin`` text, in characters.
MAX_STDIN_CHARS = 1024 * 1024
#: Most arguments (``argv`` items) and the longest one.
MAX_ARGS = 256
MAX_ARG_CHARS = 32 * 1024
#: How long the output pipes are still read after the process group was killed; a process that
#: escaped the group (``setsid``) may hold them open, and the call does not wait for it.
PIPE_GRACE_SECONDS = 2.0
#: How long to wait for the killed process to be reaped.
REAP_SECONDS = 5.0
#: Size of one read from a pipe.
CHUNK_BYTES = 64 * 1024

_ENV_NAME_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 256}


@attrs.define
class Capture:
    """The first ``limit`` bytes read from a stream; ``total`` counts everything read."""

    limit: int
    data: bytearray = attrs.field(factory=bytearray)
    total: int = 0

    @property
    def truncated(self) -> bool:
        return self.total > len(self.data)

    def add(self, chunk: bytes | bytearray) -> None:
        self.total += len(chunk)
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]

    async def pump(self, stream: trio.abc.ReceiveStream) -> None:
        """Read ``stream`` to its end (or until it is closed under us)."""
        while True:
            try:
                chunk = await stream.receive_some(CHUNK_BYTES)
            except (trio.ClosedResourceError, trio.BrokenResourceError):
                return
            if not chunk:
                return
            self.add(chunk)

    def text(self) -> str:
        """The kept bytes as UTF-8 (invalid bytes replaced; a character cut by the bound is
        dropped)."""
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        return decoder.decode(bytes(self.data), final=not self.truncated)


async def _feed(stream: trio.abc.SendStream, data: bytes) -> None:
    """Write ``data`` to the process's stdin and close it; a process that stops reading (or has
    exited) simply gets no more."""
    try:
        if data:
            await stream.send_all(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    finally:
        with trio.CancelScope(shield=True):
            await stream.aclose()


def _kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (gone already: nothing to do)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@attrs.define
class Outcome:
    """What a finished (or killed) process left."""

    returncode: int | None
    stdout: Capture
    stderr: Capture
    duration: float
    timed_out: bool

    def output(self) -> dict[str, Any]:
        return {
            "stdout": self.stdout.text(),
            "stderr": self.stderr.text(),
            "stdout_truncated": self.stdout.truncated,
            "stderr_truncated": self.stderr.truncated,
            "duration": round(self.duration, 3),
        }


async def run_process(
    argv: list[str],
    *,
    executable: str,
    cwd: str,
    env: dict[str, str],
    stdin: bytes | None,
    timeout: float,
    output_bytes: int,
) -> Outcome:
    """Run ``argv`` (started from ``executable``) in its own process group with bounded output
    capture; kill the group when the process ends, after ``timeout`` or on cancellation."""
    start = trio.current_time()
    try:
        proc = await trio.lowlevel.open_process(
            argv,
            executable=executable,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise tool_failed(
            "process_run",
            "spawn",
            f"cannot start {argv[0]!r}: {exc.strerror or exc}",
            command=argv[0],
            executable=executable,
        ) from None
    out, err = Capture(output_bytes), Capture(output_bytes)
    timed_out = False
    try:
        async with trio.open_nursery() as nursery:
            assert proc.stdout is not None and proc.stderr is not None
            nursery.start_soon(out.pump, proc.stdout)
            nursery.start_soon(err.pump, proc.stderr)
            if proc.stdin is not None:
                nursery.start_soon(_feed, proc.stdin, stdin or b"")
            with trio.move_on_after(timeout) as scope:
                await proc.wait()
            timed_out = scope.cancelled_caught
            _kill_group(proc.pid)  # leftover children, or the whole command on a timeout
            await proc.wait()
            # the killed group closed its ends of the pipes; read what is left in them
            nursery.cancel_scope.deadline = trio.current_time() + PIPE_GRACE_SECONDS
    finally:
        if proc.returncode is None:  # cancelled, or failed while reading
            _kill_group(proc.pid)
            with trio.CancelScope(shield=True), trio.move_on_after(REAP_SECONDS):
                await proc.wait()
        with trio.CancelScope(shield=True):
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    await stream.aclose()
    return Outcome(proc.returncode, out, err, trio.current_time() - start, timed_out)


def _signal_name(returncode: int | None) -> str | None:
    if returncode is None or returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _check_cwd(ctx: ToolContext, cwd: str) -> str:
    resolved = ctx.policy.check_path(cwd)
    if not resolved.exists():
        raise LlmspellError(
            "not_found",
            f"tool 'process_run': argument 'cwd': directory {cwd!r} does not exist",
            {"tool": "process_run", "argument": "cwd", "path": cwd},
        )
    if not resolved.is_dir():
        raise invalid_arg("process_run", "cwd", f"{cwd!r} is not a directory")
    return str(resolved)


@tool(
    name="process_run",
    description="Run an allowed executable with arguments (an argv list; never through a "
    "shell) and wait for it. Returns {\"exit_code\": int, \"signal\": name or null, "
    '"stdout": str, "stderr": str, "stdout_truncated": bool, "stderr_truncated": bool, '
    '"duration": seconds}; a non-zero exit code is a result, not an error. The executable '
    "must be in the policy's commands; cwd must be inside the policy's read or write roots "
    "(default: a fresh empty temporary directory, which is also HOME and TMPDIR and is removed "
    "afterwards). The process gets a minimal environment (PATH, LANG=C.UTF-8, HOME, TMPDIR) "
    "plus the variables named in env, each of which the policy's env_names must list. Output "
    f"is UTF-8 text, kept up to max_output_bytes per stream (default {DEFAULT_OUTPUT_BYTES}, "
    f"at most {MAX_OUTPUT_BYTES}). The timeout (default {DEFAULT_TIMEOUT_SECONDS} s, at most "
    f"{MAX_TIMEOUT_SECONDS} s) kills the process and its children and fails with code "
    "'timeout' carrying the partial output; when the command ends, any child it left behind "
    "in its process group is killed too.",
    category="system",
    permissions={"process"},
    parameters={
        "type": "object",
        "properties": {
            "argv": {
                "type": "array",
                "description": "The command as a list: the executable (a name looked up on "
                "PATH, or a path) followed by its arguments, passed as they are (no shell: no "
                f"quoting, globbing or variables). At most {MAX_ARGS} items.",
                "items": {"type": "string", "maxLength": MAX_ARG_CHARS},
                "minItems": 1,
                "maxItems": MAX_ARGS,
            },
            "cwd": {
                "type": "string",
                "description": "The working directory, inside the policy's read or write "
                "roots (default: a fresh empty temporary directory).",
                "minLength": 1,
                "maxLength": 4096,
            },
            "stdin": {
                "type": "string",
                "description": "Text written to the process's standard input, which is then "
                f"closed (default: no input). At most {MAX_STDIN_CHARS} characters.",
                "maxLength": MAX_STDIN_CHARS,
            },
            "env": {
                "type": "array",
                "description": "Names of host environment variables to pass through to the "
                "process (each must be in the policy's env_names; unset ones are skipped).",
                "items": _ENV_NAME_SCHEMA,
                "maxItems": 64,
                "uniqueItems": True,
                "default": [],
            },
            "timeout": {
                "type": "number",
                "description": f"Seconds to wait before the process group is killed (default "
                f"{DEFAULT_TIMEOUT_SECONDS}, at most {MAX_TIMEOUT_SECONDS}).",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT_SECONDS,
                "default": DEFAULT_TIMEOUT_SECONDS,
            },
            "max_output_bytes": {
                "type": "integer",
                "description": f"Bytes kept of stdout and of stderr each (default "
                f"{DEFAULT_OUTPUT_BYTES}, at most {MAX_OUTPUT_BYTES}); the rest is dropped and "
                "the stream marked truncated.",
                "minimum": 0,
                "maximum": MAX_OUTPUT_BYTES,
                "default": DEFAULT_OUTPUT_BYTES,
            },
        },
        "required": ["argv"],
        "additionalProperties": False,
    },
    example={"argv": ["python3", "-c", "print('hello')"], "timeout": 10},
)
async def process_run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    argv: list[str] = list(args["argv"])
    for index, arg in enumerate(argv):
        if "\0" in arg:
            raise invalid_arg("process_run", "argv", f"item {index} contains a NUL character")
    if not argv[0]:
        raise invalid_arg("process_run", "argv", "the executable (item 0) is empty")
    executable = ctx.policy.check_command(argv[0])
    allowed: tuple[str, ...] = tuple(ctx.policy.env_names)
    passed: list[str] = list(args.get("env", []))
    for name in passed:
        if name not in allowed:
            raise not_allowed_env("process_run", "env", name, allowed)
    cwd = _check_cwd(ctx, args["cwd"]) if "cwd" in args else None
    timeout = float(args.get("timeout", DEFAULT_TIMEOUT_SECONDS))
    output_bytes = int(args.get("max_output_bytes", DEFAULT_OUTPUT_BYTES))
    stdin = args["stdin"].encode("utf-8", "replace") if "stdin" in args else None

    home = tempfile.mkdtemp(prefix="llmspell-process-")
    try:
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "LANG": "C.UTF-8",
            "HOME": home,
            "TMPDIR": home,
        }
        for name in passed:
            if name in os.environ:
                env[name] = os.environ[name]
        outcome = await run_process(
            argv,
            executable=executable,
            cwd=cwd or home,
            env=env,
            stdin=stdin,
            timeout=timeout,
            output_bytes=output_bytes,
        )
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(shutil.rmtree, home, True)
    if outcome.timed_out:
        raise LlmspellError(
            "timeout",
            f"tool 'process_run': command {argv[0]!r} did not finish within {timeout:g} s; "
            "it was killed with its child processes",
            {
                "tool": "process_run",
                "reason": "timeout",
                "command": argv[0],
                "timeout": timeout,
                **outcome.output(),
            },
            hint="raise the timeout argument (at most 300 s) or make the command finish sooner",
        )
    return {
        "exit_code": outcome.returncode,
        "signal": _signal_name(outcome.returncode),
        **outcome.output(),
    }


@tool(
    name="process_which",
    description="Resolve executables that the security policy allows to their absolute paths, "
    "e.g. to check whether a program is installed before running it with process_run. Returns "
    '{"paths": {name: absolute path, or null when it is allowed but not found on PATH}}. '
    "Without names, resolves every command the policy lists (a '*' entry is skipped). A name "
    "the policy does not allow is refused (permission_denied).",
    category="system",
    permissions={"process"},
    parameters={
        "type": "object",
        "properties": {
            "names": {
                "type": "array",
                "description": "Executable names or paths to resolve (default: every command "
                "the policy lists). At most 64.",
                "items": {"type": "string", "minLength": 1, "maxLength": 4096},
                "maxItems": 64,
                "uniqueItems": True,
            },
        },
        "required": [],
        "additionalProperties": False,
    },
    example={"names": ["python3"]},
)
async def process_which(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    names: list[str] = args.get("names") or [c for c in ctx.policy.commands if c != "*"]
    for index, name in enumerate(names):
        if "\0" in name:
            raise invalid_arg("process_which", "names", f"item {index} contains a NUL character")
    paths: dict[str, str | None] = {}
    for name in names:
        try:
            paths[name] = ctx.policy.check_command(name)
        except LlmspellError as exc:
            if exc.code != "tool_error":  # permission_denied propagates; not found is null
                raise
            paths[name] = None
    return {"paths": paths}
