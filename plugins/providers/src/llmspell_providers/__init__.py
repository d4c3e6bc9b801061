"""Model providers for llmspell over HTTP: OpenAI-compatible chat completions, Anthropic
Messages and Gemini, sharing one client layer (:mod:`llmspell_providers.http`)."""
