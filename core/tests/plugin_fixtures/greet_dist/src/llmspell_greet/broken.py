"""An entry point whose module cannot be imported."""

raise ImportError("llmspell_greet.broken needs the missing library 'frobnicate'")
