"""``llmspell repl`` on a real terminal (a pseudo-terminal): line editing and history through
readline, kept in the project's ``.llmspell/repl_history`` for the next session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from llmspell.testing.terminal import Terminal

LLMSPELL = Path(sys.executable).with_name("llmspell")
UP, LEFT, BACKSPACE, CTRL_D = "\x1b[A", "\x1b[D", "\x7f", "\x04"
#: per engine: a line that sets a global, an expression line, and a print line
LINES = {
    "lua": ("x = 21", "x * 2", 'print("hello " .. 6 * 7)'),
    "js": ("x = 21", "x * 2", 'print("hello " + 6 * 7)'),
}


def start(argv: list[str], cwd: Path) -> Terminal:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_")}
    env.update(TERM="xterm", INPUTRC=os.devnull)  # readline's defaults, no user settings
    return Terminal.start(argv, cwd=cwd, env=env)


@pytest.mark.skipif(not LLMSPELL.exists(), reason="the llmspell script is not installed")
@pytest.mark.parametrize("engine", ["lua", "js"])
def test_line_editing_and_history_across_sessions(tmp_path: Path, engine: str) -> None:
    setting, expression, printing = LINES[engine]
    argv = [str(LLMSPELL), "repl", "--engine", engine, "--project", str(tmp_path)]

    first = start(argv, tmp_path)
    first.read_until(">>> ")
    first.type(setting + "\r")
    first.read_until(">>> ")
    first.type(expression + "\r")
    assert "42" in first.read_until(">>> ")
    # the previous line again (up arrow), its last character replaced: x * 3
    first.type(UP + BACKSPACE + "3\r")
    assert "63" in first.read_until(">>> ")
    # and again, edited in the middle (the cursor moved left past " * 3"): x + 1 * 3
    first.type(UP + LEFT * 4 + " + 1\r")
    assert "24" in first.read_until(">>> ")
    first.type(UP + UP + UP + "\r")  # three lines back: x * 2 once more
    assert "42" in first.read_until(">>> ")
    first.type(printing + "\r")
    assert "hello 42" in first.read_until(">>> ")
    first.type(CTRL_D)
    assert first.wait() == 0

    history = (tmp_path / ".llmspell" / "repl_history").read_text()
    assert expression in history and "x * 3" in history and printing in history

    # a new session starts with the old history: the up arrow brings back the last line
    second = start(argv, tmp_path)
    second.read_until(">>> ")
    second.type(UP + "\r")
    assert "hello 42" in second.read_until(">>> ")
    second.type(CTRL_D)
    assert second.wait() == 0
