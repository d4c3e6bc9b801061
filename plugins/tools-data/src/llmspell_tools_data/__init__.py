"""Data tools for llmspell: JSON query and validation, CSV, YAML/TOML/JSON conversion, XML,
diffs, tables.
"""
