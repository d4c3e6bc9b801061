"""Core tools for llmspell: echo, sleep, calculator."""
