from click.testing import CliRunner

from llmspell import __version__
from llmspell.cli import cli


def test_version_prints_package_version() -> None:
    result = CliRunner().invoke(cli, ["version"])
    assert result.exit_code == 0
    assert result.output.strip() == __version__
