"""Time tools for llmspell: now, parse, format, time-zone conversion, date arithmetic."""
