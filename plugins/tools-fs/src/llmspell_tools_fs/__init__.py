"""File tools for llmspell: read, write, list, search, stat, move, copy, delete, archives, diff —
confined to the policy's roots.
"""
