"""``llmspell.testing.terminal.Terminal``: a command on a pseudo-terminal."""

from __future__ import annotations

import sys

import pytest

from llmspell.testing.terminal import Terminal, plain

ECHO = "import sys\nfor line in sys.stdin:\n    print('got ' + line.strip(), flush=True)\n"


def test_typed_lines_reach_the_command_and_what_it_shows_is_read() -> None:
    terminal = Terminal.start([sys.executable, "-c", ECHO])
    terminal.type("one\r")
    terminal.read_until("got one")
    terminal.type(b"two\r")
    assert terminal.read_until("got two").strip() == "two"  # the terminal echoes the input
    terminal.type("\x04")  # Ctrl-D: end of input
    assert terminal.wait() == 0
    assert "got one" in terminal.output and "got two" in terminal.output


def test_a_text_that_never_appears_fails_with_what_was_shown() -> None:
    terminal = Terminal.start([sys.executable, "-c", "print('ready', flush=True); input()"])
    with pytest.raises(AssertionError, match="never appeared; the terminal showed:\nready"):
        terminal.read_until("something else", timeout=0.5)
    terminal.close()
    assert terminal.process.poll() is not None  # closing stopped the command


def test_the_window_size_and_a_closed_terminal() -> None:
    code = "import os; print(os.get_terminal_size(0))"
    terminal = Terminal.start([sys.executable, "-c", code], columns=77, rows=11)
    assert terminal.wait() == 0
    assert "columns=77, lines=11" in terminal.output
    with pytest.raises(AssertionError, match="closed before"):
        Terminal.start([sys.executable, "-c", "pass"]).read_until("x", timeout=5)


def test_plain_removes_escape_sequences() -> None:
    assert plain("\x1b[1;32mok\x1b[0m\r\n\x1b[?2004h>>> ") == "ok\n>>> "


def test_a_command_that_does_not_end_fails_the_wait() -> None:
    terminal = Terminal.start([sys.executable, "-c", "print('waiting', flush=True); input()"])
    with pytest.raises(AssertionError) as info:
        terminal.wait(timeout=0.5)
    shown = "the terminal showed:\nwaiting\n"
    assert str(info.value) == f"the command did not end within 0.5 s; {shown}"
    assert terminal.process.poll() is not None
