"""Support of the tools-fs tests (a module with a unique name, imported by the tests and by
conftest.py): a file tree in tmp_path with a write root, a read-only root, a secret outside
both, and symlinks out.

Layout (the current directory is ``work``)::

    tmp_path/
      outside/secret.txt          "TOP SECRET"   (no root)
      outside/sub/inner.txt
      ro/data.txt                 "read only"    (read root)
      work/                                      (write root, cwd)
        notes/todo.txt  notes/done.txt  notes/old.txt
        link_out     -> ../outside/secret.txt
        link_dir_out -> ../outside
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.security import SecurityPolicy

SECRET = "TOP SECRET"


class FS:
    """The tree, the policies over it and helpers to call tools through a real run."""

    def __init__(self, kernel: Kernel, base: Path) -> None:
        self.kernel = kernel
        self.base = base
        self.outside = base / "outside"
        self.ro = base / "ro"
        self.work = base / "work"
        self.secret = self.outside / "secret.txt"
        #: reads inside ro and work, writes inside work; destructive tools approved
        self.policy = SecurityPolicy(read_roots=[self.ro], write_roots=[self.work],
                                     auto_approve=True)
        #: the same without approval
        self.unapproved = SecurityPolicy(read_roots=[self.ro], write_roots=[self.work])
        #: reading only
        self.read_only = SecurityPolicy(read_roots=[self.ro, self.work], auto_approve=True)
        #: nothing at all
        self.nothing = SecurityPolicy(auto_approve=True)

    async def call(self, name: str, args: Any, policy: SecurityPolicy | None = None) -> Any:
        async with SpellRun.open(self.kernel, policy=policy or self.policy) as run:
            return await run.call_tool(name, args)

    async def error(self, name: str, args: Any,
                    policy: SecurityPolicy | None = None) -> LlmspellError:
        with pytest.raises(LlmspellError) as info:
            await self.call(name, args, policy)
        return info.value

    def outside_snapshot(self) -> dict[str, bytes | str]:
        """Everything outside the write root (names and contents), to prove it unchanged."""
        out: dict[str, bytes | str] = {}
        for top in (self.outside, self.ro):
            for dirpath, dirnames, filenames in os.walk(top):
                for d in dirnames:
                    out[os.path.join(dirpath, d)] = "dir"
                for f in filenames:
                    out[os.path.join(dirpath, f)] = Path(dirpath, f).read_bytes()
        out["base"] = "|".join(sorted(os.listdir(self.base)))
        return out


def build_tree(base: Path) -> None:
    """Lay out the tree of this module's docstring below ``base``."""
    (base / "outside" / "sub").mkdir(parents=True)
    (base / "outside" / "secret.txt").write_text(SECRET)
    (base / "outside" / "sub" / "inner.txt").write_text(SECRET + " inner")
    (base / "ro").mkdir()
    (base / "ro" / "data.txt").write_text("read only\n")
    work = base / "work"
    (work / "notes").mkdir(parents=True)
    (work / "notes" / "todo.txt").write_text("TODO buy milk\nfix the bike\n")
    (work / "notes" / "done.txt").write_text("buy milk\nfix the bike\n")
    (work / "notes" / "old.txt").write_text("old stuff\n")
    os.symlink("../outside/secret.txt", work / "link_out")
    os.symlink("../outside", work / "link_dir_out")
