"""``llmspell repl`` on a real terminal (a pseudo-terminal): line editing and history through
readline, kept in the project's ``.llmspell/repl_history`` for the next session."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

LLMSPELL = Path(sys.executable).with_name("llmspell")
UP, LEFT, BACKSPACE, CTRL_D = b"\x1b[A", b"\x1b[D", b"\x7f", b"\x04"
#: per engine: a line that sets a global, an expression line, and a print line
LINES = {
    "lua": ("x = 21", "x * 2", 'print("hello " .. 6 * 7)'),
    "js": ("x = 21", "x * 2", 'print("hello " + 6 * 7)'),
}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")


class Terminal:
    """A command on a pseudo-terminal: type into it and wait for what it shows."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.main, child = pty.openpty()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_")}
        env.update(TERM="xterm", INPUTRC=os.devnull)  # readline's defaults, no user settings
        self.proc = subprocess.Popen(argv, stdin=child, stdout=child, stderr=child, cwd=cwd,
                                     env=env, close_fds=True)
        os.close(child)
        self.seen = ""

    def read_until(self, text: str, timeout: float = 60) -> str:
        """Everything shown until ``text`` appears (escape sequences removed); fails after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"{text!r} never appeared; the terminal showed:\n{self.seen}")
            ready, _, _ = select.select([self.main], [], [], min(left, 0.2))
            if ready:
                try:
                    chunk = os.read(self.main, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    pytest.fail(f"the terminal closed before {text!r}:\n{self.seen}")
                self.seen += ANSI.sub("", chunk.decode(errors="replace"))
        shown, _, self.seen = self.seen.partition(text)
        return shown

    def type(self, keys: bytes) -> None:
        os.write(self.main, keys)

    def close(self) -> int:
        code = self.proc.wait(timeout=60)
        os.close(self.main)
        return code


@pytest.mark.skipif(not LLMSPELL.exists(), reason="the llmspell script is not installed")
@pytest.mark.parametrize("engine", ["lua", "js"])
def test_line_editing_and_history_across_sessions(tmp_path: Path, engine: str) -> None:
    setting, expression, printing = LINES[engine]
    argv = [str(LLMSPELL), "repl", "--engine", engine, "--project", str(tmp_path)]

    first = Terminal(argv, tmp_path)
    first.read_until(">>> ")
    first.type(setting.encode() + b"\r")
    first.read_until(">>> ")
    first.type(expression.encode() + b"\r")
    assert "42" in first.read_until(">>> ")
    # the previous line again (up arrow), its last character replaced: x * 3
    first.type(UP + BACKSPACE + b"3\r")
    assert "63" in first.read_until(">>> ")
    # and again, edited in the middle (the cursor moved left past " * 3"): x + 1 * 3
    first.type(UP + LEFT * 4 + b" + 1\r")
    assert "24" in first.read_until(">>> ")
    first.type(UP + UP + UP + b"\r")  # three lines back: x * 2 once more
    assert "42" in first.read_until(">>> ")
    first.type(printing.encode() + b"\r")
    assert "hello 42" in first.read_until(">>> ")
    first.type(CTRL_D)
    assert first.close() == 0

    history = (tmp_path / ".llmspell" / "repl_history").read_text()
    assert expression in history and "x * 3" in history and printing in history

    # a new session starts with the old history: the up arrow brings back the last line
    second = Terminal(argv, tmp_path)
    second.read_until(">>> ")
    second.type(UP + b"\r")
    assert "hello 42" in second.read_until(">>> ")
    second.type(CTRL_D)
    assert second.close() == 0
