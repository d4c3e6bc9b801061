"""The engine of ``file_search`` (imported when it runs): one search over files, line by
line, with a shared deadline enforced through ``regex``'s ``timeout=``."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any, NoReturn

import attrs

from llmspell.errors import LlmspellError
from llmspell_tools_fs.paths import all_roots, inside, open_regular, read_bounded
from llmspell_tools_fs.search import BINARY_SNIFF_BYTES, MAX_FILES, MAX_LINE_CHARS
from llmspell_tools_fs.walk import Entry


@attrs.define
class Search:
    """The state of one search: its compiled patterns (``exact`` for one line, ``prefilter`` for
    the whole text, or ``None`` where it could miss a line), bounds, deadline and findings."""

    exact: Any
    prefilter: Any
    max_matches: int
    max_file_bytes: int
    seconds: float
    deadline: float = 0.0
    matches: list[dict[str, Any]] = attrs.field(factory=list)
    skipped: list[dict[str, str]] = attrs.field(factory=list)
    files: int = 0
    truncated: bool = False

    def start(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.timed_out()
        return left

    def timed_out(self) -> NoReturn:
        raise LlmspellError(
            "timeout",
            f"tool 'file_search': the search ran out of its {self.seconds:g} s time budget "
            f"after {self.files} file(s)",
            {"tool": "file_search", "seconds": self.seconds, "files_searched": self.files,
             "matches": len(self.matches)},
            hint="search fewer files (path, glob) or simplify the pattern",
        )

    def entry(self, entry: Entry, policy: Any) -> bool:
        """Search a walked entry; ``False`` once the search must stop."""
        self.remaining()  # a huge tree of skipped files also uses up the budget
        kind = entry.kind
        target = entry.path
        if kind == "symlink":
            target = Path(os.path.realpath(entry.path))
            if not inside(target, all_roots(policy)):
                self.skip(entry.rel, "outside_roots")
                return True
            try:
                if not stat.S_ISREG(os.stat(target).st_mode):
                    return True  # a link to a directory (not entered) or a special file
            except OSError:
                return True  # a dangling link
        elif kind != "file":
            return True
        if self.files >= MAX_FILES:
            self.truncated = True
            return False
        self.file(target, entry.rel)
        return len(self.matches) < self.max_matches

    def skip(self, rel: str, reason: str) -> None:
        self.skipped.append({"path": rel, "reason": reason})

    def file(self, path: Path, rel: str) -> None:
        try:
            fd, st = open_regular("file_search", path, rel)
        except LlmspellError as exc:
            self.skip(rel, str(exc.details.get("reason", "unreadable")))
            return
        try:
            if st.st_size > self.max_file_bytes:
                self.skip(rel, "too_large")
                return
            data = read_bounded(fd, self.max_file_bytes + 1)
        except OSError:
            self.skip(rel, "unreadable")
            return
        finally:
            os.close(fd)
        if len(data) > self.max_file_bytes:
            self.skip(rel, "too_large")
            return
        if b"\0" in data[:BINARY_SNIFF_BYTES]:
            self.skip(rel, "binary")
            return
        self.files += 1
        if not data:
            return
        text = data.decode("utf-8", "replace").replace("\r\n", "\n")
        if text.endswith("\n"):
            text = text[:-1]  # a final newline ends the last line; it does not start another
        try:
            if self.prefilter is None:
                self._lines(text, rel)
            else:
                self._prefiltered(text, rel)
        except TimeoutError:
            self.timed_out()

    def _record(self, rel: str, number: int, line: str, start: int) -> bool:
        """Add a match; ``False`` when the bound is reached."""
        text = line
        cut = len(line) > MAX_LINE_CHARS
        if cut:
            begin = max(0, min(start - 100, len(line) - MAX_LINE_CHARS))
            text = line[begin:begin + MAX_LINE_CHARS]
        match: dict[str, Any] = {"path": rel, "line": number, "column": start + 1, "text": text}
        if cut:
            match["text_truncated"] = True
        self.matches.append(match)
        if len(self.matches) >= self.max_matches:
            self.truncated = True
            return False
        return True

    def _lines(self, text: str, rel: str) -> None:
        for number, line in enumerate(text.split("\n"), 1):
            found = self.exact.search(line, timeout=self.remaining())
            if found is not None and not self._record(rel, number, line, found.start()):
                return

    def _prefiltered(self, text: str, rel: str) -> None:
        """Line by line, but jumping from one whole-text candidate to the next: a line that
        matches on its own also matches inside the whole text (with ``MULTILINE``), so no line
        before the next candidate can match."""
        pos = counted = 0
        number = 1
        while pos <= len(text):
            candidate = self.prefilter.search(text, pos, timeout=self.remaining())
            if candidate is None:
                return
            begin = text.rfind("\n", 0, candidate.start()) + 1
            end = text.find("\n", candidate.start())
            if end < 0:
                end = len(text)
            number += text.count("\n", counted, begin)
            counted = begin
            line = text[begin:end]
            found = self.exact.search(line, timeout=self.remaining())
            if found is not None and not self._record(rel, number, line, found.start()):
                return
            pos = end + 1
