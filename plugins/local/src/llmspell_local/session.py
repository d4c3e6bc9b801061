"""One generation on a held ``Llama``: the sampling options of the request, the cancel flag the
trio side sets, and a token meter. Every llama call runs as a stream here, so that the cancel
flag is looked at after every token (a cancelled generation stops within one token)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import attrs

from llmspell.messages import Usage
from llmspell_local.llama_models import Stopped


@attrs.define
class TokenMeter:
    """A llama logits processor that counts and never changes the scores: ``prompt_tokens`` is
    the context length at the first sampled token (the prompt), ``output_tokens`` the tokens
    sampled, over all passes of a reply, without the end-of-turn token that ends a pass. For a
    single pass these are the numbers llama-cpp-python reports as usage."""

    prompt_tokens: int | None = None
    output_tokens: int = 0
    _samples: int = 0

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.prompt_tokens is None:
            self.prompt_tokens = len(input_ids)
        self._samples += 1
        return scores

    def end_pass(self, finish: str | None) -> None:
        """Close a pass: a pass ended by a stop (not by the length limit) sampled one token,
        the end of turn, that is not output."""
        self.output_tokens += max(0, self._samples - (1 if finish == "stop" else 0))
        self._samples = 0

    def usage(self) -> Usage:
        return Usage(self.prompt_tokens or 0, self.output_tokens, 0.0)


@attrs.define(eq=False)
class Session:
    """Runs llama passes for one reply. ``sampling`` holds ``temperature`` and ``seed``;
    ``finish`` is the finish reason of the last pass that ended."""

    llama: Any
    cancel: threading.Event
    sampling: dict[str, Any]
    meter: TokenMeter = attrs.field(factory=TokenMeter)
    finish: str | None = None

    def check(self) -> None:
        """Raise :class:`Stopped` when the trio side asked to stop."""
        if self.cancel.is_set():
            raise Stopped

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int,
        stop: list[str],
        grammar: str | None = None,
        schema: dict[str, Any] | None = None,
        temperature: float | None = None,
    ) -> Iterator[str]:
        """Text pieces of one completion of ``prompt``, constrained by a GBNF ``grammar`` or a
        JSON ``schema`` when given; sets :attr:`finish` when done."""
        options = dict(self.sampling)
        if temperature is not None:
            options["temperature"] = temperature
        stream = self.llama.create_completion(
            prompt=prompt,
            max_tokens=max_tokens,
            stop=stop,
            stream=True,
            grammar=_grammar(grammar, schema),
            logits_processor=[self.meter],
            **options,
        )
        finish = None
        try:
            for chunk in stream:
                self.check()
                choice = chunk["choices"][0]
                if choice.get("text"):
                    yield choice["text"]
                finish = choice.get("finish_reason") or finish
        finally:
            stream.close()
        self.meter.end_pass(finish)
        self.finish = finish

    def chat(self, **request: Any) -> Iterator[dict[str, Any]]:
        """The chunks of ``create_chat_completion(stream=True, **request)`` with the chat format
        that is set on the ``Llama``; the caller ends the meter's pass."""
        stream = self.llama.create_chat_completion(
            stream=True, logits_processor=[self.meter], **self.sampling, **request
        )
        try:
            for chunk in stream:
                self.check()
                yield chunk
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()


def _grammar(gbnf: str | None, schema: dict[str, Any] | None) -> Any:
    """A ``LlamaGrammar`` from GBNF text or a JSON schema (a schema llama.cpp cannot convert
    falls back to any JSON value, as llama-cpp-python's chat handlers do)."""
    if gbnf is None and schema is None:
        return None
    from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar

    if gbnf is not None:
        return LlamaGrammar.from_string(gbnf, verbose=False)
    try:
        return LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
    except Exception:
        return LlamaGrammar.from_string(JSON_GBNF, verbose=False)
