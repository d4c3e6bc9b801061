"""The ``llmspell`` command line."""

import click

from llmspell import __version__


@click.group()
@click.version_option(__version__, prog_name="llmspell")
def main() -> None:
    """llmspell: run spells that drive agents, tools and workflows."""


@main.command()
def version() -> None:
    """Print the llmspell version."""
    click.echo(__version__)
