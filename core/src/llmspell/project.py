"""Where a project keeps its files: the project directory and its ``.llmspell/`` folder."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ENV = "LLMSPELL_PROJECT"
DATA_DIR = ".llmspell"


def project_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``explicit``, else ``$LLMSPELL_PROJECT``, else the nearest ancestor of the current
    directory holding ``llmspell.toml`` or ``.llmspell/``, else the current directory."""
    if explicit is not None:
        return Path(explicit).resolve()
    env = os.environ.get(PROJECT_ENV)
    if env:
        return Path(env).resolve()
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / "llmspell.toml").is_file() or (folder / DATA_DIR).is_dir():
            return folder
    return cwd


def data_dir(project: Path) -> Path:
    """The project's ``.llmspell/`` folder (not created here)."""
    return project / DATA_DIR
