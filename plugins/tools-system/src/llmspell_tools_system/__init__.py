"""System tools for llmspell (off unless the policy enables them): environment, processes, system
information, SQLite.
"""
