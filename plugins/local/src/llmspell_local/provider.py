"""The provider ``local``: GGUF models run in-process by llama-cpp-python, SmolLM2-135M-Instruct
(``local/smollm2``) by default.

Each request runs in a worker thread (:mod:`llmspell_local.worker`), so trio stays responsive
while the model generates; generations on one model take turns (one ``Llama`` per model file,
loaded on first use). Cancelling the calling trio task stops the generation within a token and
waits for the thread. Costs are always 0.0.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from llmspell.errors import LlmspellError
from llmspell.providers import (
    Capabilities,
    ChatRequest,
    ChatResponse,
    ProviderStatus,
    StreamChunk,
)

if TYPE_CHECKING:  # the generation machinery is imported on first use (start-up time)
    from llmspell.config import Table
    from llmspell_local.generation import Job
    from llmspell_local.model_files import ModelFile
    from llmspell_local.settings import LocalSettings


class LocalProvider:
    """Model strings ``local/NAME``: ``smollm2``, a name from ``[providers.local] models``, or a
    path ending in ``.gguf``. A candidate for the default model with the lowest rank, so a
    hosted provider with a key wins."""

    name = "local"
    capabilities = Capabilities(tools=True, json_schema=True, streaming=True)
    default_rank = 0

    def __init__(self, settings: LocalSettings | None = None, *, table: Table | None = None
                 ) -> None:
        """``settings``, or those of ``table`` (an empty ``[providers.local]``: nothing to check,
        so they are made, and their modules imported, on first use: start-up time), or the
        defaults."""
        self._settings = settings
        self._table = table

    @property
    def settings(self) -> LocalSettings:
        if self._settings is None:
            from llmspell_local.settings import LocalSettings

            table = self._table
            self._settings = LocalSettings() if table is None else LocalSettings.from_table(table)
        return self._settings

    @settings.setter
    def settings(self, value: LocalSettings) -> None:
        self._settings = value

    def __repr__(self) -> str:
        return f"LocalProvider(default_model={self.default_model!r})"

    @property
    def default_model(self) -> str:
        return self.settings.default_model

    def models(self) -> list[str]:
        """``smollm2`` and the configured model names."""
        from llmspell_local.model_files import SMOLLM2

        return list(dict.fromkeys([SMOLLM2, *self.settings.models]))

    def model_file(self, name: str) -> ModelFile:
        """The file of model ``name``; ``config_error`` for a name that is not known."""
        from llmspell_local.model_files import find_model

        found = find_model(name, self.settings.models)
        if found is None:
            known = ", ".join(repr(m) for m in self.models())
            raise LlmspellError(
                "config_error",
                f"local model {name!r} is not configured (known: {known}; or a path ending "
                f"in .gguf)",
                {"model": f"local/{name}", "known": self.models()},
                hint=f"add it to llmspell.toml: [providers.local] models = "
                f"{{{name} = \"/path/{name}.gguf\"}}",
            )
        return found

    def status(self) -> ProviderStatus:
        """Usable when the default model's file is there; the detail names its path or what
        is missing. Nothing is loaded."""
        try:
            file = self.model_file(self.default_model)
        except LlmspellError as err:
            return ProviderStatus(False, err.message)
        problem = file.problem()
        if problem is not None:
            return ProviderStatus(False, problem)
        return ProviderStatus(True, f"{self.default_model}: {file.path}")

    async def probe(self) -> ProviderStatus:
        """``status()``, and for a usable model: load it (``llmspell providers --check``)."""
        status = self.status()
        if not status.usable:
            return status
        from llmspell_local.llama_models import load_model
        from llmspell_local.worker import run_in_worker

        path = self.model_file(self.default_model).checked()
        settings = self.settings

        def load(emit: Callable[[Any], None], cancel: Any) -> None:
            load_model(path, n_ctx=settings.n_ctx, n_threads=settings.n_threads)

        try:
            await run_in_worker(load)
        except LlmspellError as err:
            return ProviderStatus(False, err.message)
        return ProviderStatus(True, f"{self.default_model}: loaded {path}")

    def job(self, request: ChatRequest) -> Job:
        """The worker's job for ``request``, checked first: the model file exists and is a
        GGUF file (``config_error``), a forced tool is among the request's tools
        (``invalid_value``)."""
        from llmspell_local.generation import Job

        path = self.model_file(request.model).checked()
        choice = request.tool_choice
        if choice not in (None, "auto", "none", "required"):
            names = [t.name for t in request.tools]
            if choice not in names:
                raise LlmspellError(
                    "invalid_value",
                    f"tool_choice {choice!r} names no tool of the request (tools: "
                    f"{', '.join(names) or 'none'})",
                    {"tool_choice": choice, "tools": names},
                )
        return Job(path, self.settings, request)

    async def chat(self, request: ChatRequest) -> ChatResponse:
        from llmspell_local.generation import generate
        from llmspell_local.replies import collect
        from llmspell_local.worker import run_in_worker

        job = self.job(request)

        def work(emit: Callable[[Any], None], cancel: Any) -> ChatResponse:
            return collect(generate(job, cancel), request.model)

        return await run_in_worker(work)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        from llmspell_local.generation import generate
        from llmspell_local.worker import WorkerJob

        job = self.job(request)

        def work(emit: Callable[[Any], None], cancel: Any) -> None:
            for chunk in generate(job, cancel):
                emit(chunk)

        worker = WorkerJob.start(work)
        try:
            async for chunk in worker.items:
                yield chunk
            await worker.result()
        finally:
            await worker.stop()
