"""The built-in lifecycle hooks of llmspell, one plugin per hook."""
