"""The ``llmspell`` command line: kernel commands plus those that plugins add."""

from __future__ import annotations

from llmspell.cli.app import cli, main

__all__ = ["cli", "main"]
