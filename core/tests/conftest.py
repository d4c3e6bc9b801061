"""Fixtures shared by the core tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current directory (``tmp_path / "cwd"``) and no ``LLMSPELL_PROJECT``, so a
    command without ``--project`` finds no project of the developer's."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("LLMSPELL_PROJECT", raising=False)
    return cwd
