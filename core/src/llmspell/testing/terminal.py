"""A command on a pseudo-terminal, for tests of what a command does when a person runs it: the
approval question of a tool, line editing in ``llmspell repl``, the live progress display.

POSIX only (:mod:`pty`). Everything the command writes to its stdout and stderr (one terminal)
is kept as text in :attr:`Terminal.output`, escape sequences included; :meth:`read_until` and
:meth:`wait` read more of it.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

#: terminal escape sequences (CSI and two-character ones) and carriage returns
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")


def plain(text: str) -> str:
    """``text`` without terminal escape sequences and carriage returns."""
    return _ESCAPES.sub("", text)


@attrs.define(eq=False)
class Terminal:
    """A running command whose stdin, stdout and stderr are one pseudo-terminal.

    Start one with :meth:`start`; :meth:`type` sends keys as a person would type them
    (``"\\r"`` is Enter, ``"\\x1b[A"`` the up arrow, ``"\\x04"`` Ctrl-D); :meth:`read_until`
    waits for a text to appear; :meth:`wait` reads until the command ends and returns its exit
    status. Each read fails the test (``AssertionError``, with everything shown so far) when its
    timeout passes."""

    process: subprocess.Popen[bytes]
    fd: int
    #: everything the command has written so far (escape sequences included)
    output: str = ""
    #: how much of :attr:`output` :meth:`read_until` has consumed
    _consumed: int = 0
    _raw: bytes = b""

    @classmethod
    def start(
        cls,
        argv: Sequence[str | Path],
        *,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        columns: int = 100,
        rows: int = 40,
    ) -> Terminal:
        """Run ``argv`` on a new pseudo-terminal of ``columns`` x ``rows`` (``env`` defaults to
        this process's environment)."""
        main, child = pty.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        try:
            process = subprocess.Popen(
                [str(a) for a in argv], stdin=child, stdout=child, stderr=child,
                cwd=cwd, env=dict(env) if env is not None else None, close_fds=True,
            )
        except BaseException:
            os.close(main)
            raise
        finally:
            os.close(child)
        return cls(process, main)

    def type(self, keys: str | bytes) -> None:
        """Send ``keys`` to the command as typed input."""
        os.write(self.fd, keys.encode() if isinstance(keys, str) else keys)

    def _read(self, seconds: float) -> bool:
        """Read what is available within ``seconds``; false once the terminal is closed."""
        ready, _, _ = select.select([self.fd], [], [], seconds)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # the command closed the terminal (Linux: EIO)
            return False
        if not chunk:
            return False
        self._raw += chunk
        self.output = self._raw.decode(errors="replace")
        return True

    def read_until(self, text: str, *, timeout: float = 60) -> str:
        """Wait until ``text`` appears in what the command shows (compared without escape
        sequences), and return what was shown before it since the last call, without escape
        sequences."""
        deadline = time.monotonic() + timeout
        while True:
            shown = plain(self.output[self._consumed:])
            if text in shown:
                # consume up to the end of the text in the raw output too
                end = self._consumed
                while text not in plain(self.output[self._consumed:end]):
                    end += 1
                self._consumed = end
                return shown[: shown.index(text)]
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} never appeared; the terminal showed:\n{shown}")
            if not self._read(min(left, 0.2)):
                raise AssertionError(f"the terminal closed before {text!r} appeared:\n{shown}")

    def wait(self, *, timeout: float = 60) -> int:
        """Read until the command ends (or closes the terminal); its exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._read(0.2):  # the terminal closed
                break
            if self.process.poll() is not None and not self._pending():  # ended, all read
                break
        try:
            return self.process.wait(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the command did not end within {timeout} s; the terminal showed:\n"
                f"{plain(self.output)}"
            ) from None
        finally:
            self.close()

    def _pending(self) -> bool:
        ready, _, _ = select.select([self.fd], [], [], 0)
        return bool(ready)

    def close(self) -> None:
        """Close the terminal (the command sees it hang up) and stop the command if it still
        runs."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
