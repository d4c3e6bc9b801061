"""The embedded local model for llmspell (llama-cpp-python running a GGUF model in-process)."""
