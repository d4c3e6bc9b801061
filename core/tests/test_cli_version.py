from click.testing import CliRunner

from llmspell import __version__
from llmspell.cli import main


def test_version_prints_package_version() -> None:
    result = CliRunner().invoke(main, ["version"])
    assert result.exit_code == 0
    assert result.output.strip() == __version__
