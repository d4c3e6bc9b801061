"""llmspell.toml: where it is read from, how files merge, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmspell.config import Config, parse, parse_file, user_config_path
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.lifecycle import hookimpl


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_user_file_then_project_file_merge_table_by_table(tmp_path: Path) -> None:
    user = write(
        tmp_path / "home" / "llmspell.toml",
        'default_model = "openai/gpt-4o-mini"\n'
        '[providers.openai]\ntimeout = 30\nmax_retries = 2\n',
    )
    project = tmp_path / "proj"
    write(project / "llmspell.toml", '[providers.openai]\ntimeout = 5\n')
    config = Config.load(project, env={"LLMSPELL_CONFIG": str(user)})
    assert config.default_model == ("openai/gpt-4o-mini",)
    table = config.provider("openai")
    assert table.get("timeout", float, 60.0) == 5.0
    assert table.get("max_retries", int, 4) == 2
    assert config.sources == (user, project / "llmspell.toml")


def test_xdg_config_home_locates_the_user_file(tmp_path: Path) -> None:
    assert user_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == (
        tmp_path / "llmspell" / "llmspell.toml"
    )


def test_no_file_gives_an_empty_config(tmp_path: Path) -> None:
    config = Config.load(tmp_path, env={"XDG_CONFIG_HOME": str(tmp_path / "none")})
    assert config == Config()
    assert config.provider("openai").get("timeout", float, 60.0) == 60.0


def test_a_fallback_list_is_a_default_model() -> None:
    config = parse({"default_model": ["openai/gpt-4o-mini", "local/smollm2"]})
    assert config.default_model == ("openai/gpt-4o-mini", "local/smollm2")


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "llmspell.toml", 'default_model = "a/b"\n[providers.openai\n')
    with pytest.raises(LlmspellError) as info:
        parse_file(path)
    assert info.value.code == "config_error"
    assert str(path) in info.value.message and "line 2" in info.value.message


def test_misspelt_top_level_key_gets_a_suggestion() -> None:
    with pytest.raises(LlmspellError, match="did you mean 'default_model'"):
        parse({"default_modle": "a/b"})


def test_wrong_type_names_the_key_and_file(tmp_path: Path) -> None:
    path = write(tmp_path / "llmspell.toml", '[providers.openai]\ntimeout = "soon"\n')
    table = parse_file(path).provider("openai")
    with pytest.raises(LlmspellError) as info:
        table.positive("timeout", 60.0)
    assert info.value.code == "config_error"
    assert info.value.details["key"] == "providers.openai.timeout"
    assert str(path) in info.value.message and "'soon'" in info.value.message


def test_a_secret_in_the_file_is_refused_with_the_env_indirection_as_hint() -> None:
    with pytest.raises(LlmspellError) as info:
        parse({"providers": {"openai": {"api_key": "sk-123"}}})
    assert info.value.details["key"] == "providers.openai.api_key"
    assert "sk-123" not in info.value.message
    assert "api_key_env" in (info.value.hint or "")


def test_default_model_must_be_model_strings() -> None:
    with pytest.raises(LlmspellError, match="default_model must be 'provider/model'"):
        parse({"default_model": "gpt-4o"})


def test_negative_price_is_refused() -> None:
    with pytest.raises(LlmspellError, match=r"prices\.a/b\.input must not be negative"):
        parse({"prices": {"a/b": {"input": -1}}})


def test_registration_hooks_that_ask_for_config_receive_it() -> None:
    seen = []

    class Plugin:
        @hookimpl
        def llmspell_register_providers(self, registry, config):  # type: ignore[no-untyped-def]
            seen.append(config.provider("mine").get("base_url", str, ""))

    config = parse({"providers": {"mine": {"base_url": "http://127.0.0.1:9"}}})
    Kernel.load(entry_points=False, plugins=[("mine", Plugin())], config=config)
    assert seen == ["http://127.0.0.1:9"]


def test_a_config_error_raised_while_registering_reaches_the_user() -> None:
    class Plugin:
        @hookimpl
        def llmspell_register_providers(self, registry, config):  # type: ignore[no-untyped-def]
            config.provider("mine").positive("timeout", 1.0)

    config = parse({"providers": {"mine": {"timeout": 0}}})
    with pytest.raises(LlmspellError) as info:
        Kernel.load(entry_points=False, plugins=[("mine", Plugin())], config=config)
    assert info.value.details["key"] == "providers.mine.timeout"
