"""Text tools for llmspell: regular expressions with a time guard, sandboxed templates,
transforms, statistics, chunking, hashes, encodings, UUIDs.
"""
