"""llmspell: scriptable LLM orchestration."""

__version__ = "0.1.0"
