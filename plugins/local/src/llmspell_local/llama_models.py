"""Loaded llama-cpp-python models: one ``Llama`` per model file (and load settings) per process,
loaded lazily on first use and kept for the life of the process.

A ``Llama`` object is not thread-safe: every generation holds :attr:`LoadedModel.lock` for its
whole run, so generations on one model run one at a time (on different models, side by side).
Everything here blocks; call it from a worker thread.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from llmspell.errors import LlmspellError

#: How often a worker waiting for a model's lock looks at its cancel flag (seconds).
LOCK_POLL = 0.05


class Stopped(Exception):
    """Raised in a worker thread when the trio side asked the work to stop."""


@attrs.define(eq=False)
class LoadedModel:
    """A loaded model. ``own_format`` is the chat format llama-cpp-python picked for the file at
    load time (its GGUF chat template when it has one). ``llama`` may only be used while holding
    ``lock`` (see :meth:`hold`)."""

    path: Path
    llama: Any
    own_format: str
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    @contextmanager
    def hold(self, cancel: threading.Event) -> Iterator[Any]:
        """Hold :attr:`lock` for the block and give it the ``Llama``. While waiting for the lock,
        ``cancel`` is looked at: :class:`Stopped` is raised when it is set first."""
        while not self.lock.acquire(timeout=LOCK_POLL):
            if cancel.is_set():
                raise Stopped
        try:
            if cancel.is_set():
                raise Stopped
            yield self.llama
        finally:
            self.lock.release()


_loaded: dict[tuple[Path, int, int | None], LoadedModel] = {}
_loading = threading.Lock()


def _free_all() -> None:
    """Free the loaded models while the interpreter is still whole (``Llama.__del__`` during
    the final teardown finds llama.cpp's functions gone and prints a traceback)."""
    with _loading:
        models = list(_loaded.values())
        _loaded.clear()
    for model in models:
        if model.lock.acquire(timeout=1.0):  # a generation still running keeps its model
            try:
                model.llama.close()
            finally:
                model.lock.release()


atexit.register(_free_all)


def load_model(path: Path, *, n_ctx: int, n_threads: int | None) -> LoadedModel:
    """The model at ``path`` loaded with these settings: the cached one, or a new one.
    ``provider_error`` naming the file when llama.cpp cannot load it."""
    key = (path.resolve(), n_ctx, n_threads)
    with _loading:
        model = _loaded.get(key)
        if model is not None:
            return model
        from llama_cpp import Llama

        options: dict[str, Any] = {"n_ctx": n_ctx, "verbose": False}
        if n_threads is not None:
            options["n_threads"] = n_threads
            options["n_threads_batch"] = n_threads
        try:
            llama = Llama(model_path=str(path), **options)
        except (ValueError, RuntimeError, OSError) as exc:
            raise LlmspellError(
                "provider_error",
                f"local: llama.cpp cannot load the model file {path}: {exc}",
                {"provider": "local", "path": str(path), "reason": "load"},
                hint="check that the file is a complete GGUF model that this llama.cpp "
                "version supports",
            ) from None
        model = LoadedModel(path, llama, str(llama.chat_format))
        _loaded[key] = model
        return model


def loaded_models() -> list[LoadedModel]:
    """The models loaded so far in this process."""
    with _loading:
        return list(_loaded.values())
