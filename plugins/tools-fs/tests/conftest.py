"""Fixtures of the tools-fs tests: the kernel (loaded through the entry points) and the file
tree of :mod:`tools_fs_support` with the current directory inside its write root."""

from __future__ import annotations

from pathlib import Path

import pytest
from tools_fs_support import FS, build_tree

from llmspell.kernel import Kernel


@pytest.fixture(scope="module")
def kernel() -> Kernel:
    # env={}: load every entry point, whatever LLMSPELL_* the developer has set
    return Kernel.load(env={})


@pytest.fixture
def fs(kernel: Kernel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FS:
    build_tree(tmp_path)
    monkeypatch.chdir(tmp_path / "work")
    return FS(kernel, tmp_path)
