"""The renderer of the command line's environment help and the configuration page, on settings made for the test."""

from pathlib import Path

import pytest
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tagging_assets.core.environment import EnvironmentSource, environment_variables, field_of, variable_of
from tagging_assets.core.settings_reference import Variable, environment_help, markdown_table, variables


class Example(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_")

    folder: Path = Field(Path(".example"), description="Where the example keeps its files. More about it here.")
    limit: float = Field(30.0, description="How many at most.")
    token: str | None = Field(None, validation_alias="EXAMPLE_TOKEN", description="The key. Keep it secret.")
    cache: Path = Field(
        default_factory=Path.cwd,
        validation_alias=AliasChoices("FIRST_CACHE", "SECOND_CACHE"),
        description="A cache | a folder.",
        json_schema_extra={"shown_default": "the `current` folder"},
    )


def test_a_field_is_read_from_its_alias_else_from_the_prefix_and_its_name():
    assert environment_variables(Example, "folder") == ("EXAMPLE_FOLDER",)
    assert environment_variables(Example, "token") == ("EXAMPLE_TOKEN",)
    assert environment_variables(Example, "cache") == ("FIRST_CACHE", "SECOND_CACHE")
    assert variable_of(Example, "cache") == "FIRST_CACHE" and variable_of(Example, "elsewhere") == "elsewhere"
    assert field_of(Example, "SECOND_CACHE") == "cache" and field_of(Example, "limit") == "limit"


def test_the_environment_given_is_read_as_pydantic_settings_reads_os_environ():
    read = EnvironmentSource(Example, {"example_folder": "/a", "EXAMPLE_LIMIT": "2", "SECOND_CACHE": "/c"})()
    assert read == {"folder": "/a", "limit": "2", "FIRST_CACHE": "/c"}


def test_each_variable_shows_its_default_and_its_description():
    assert variables(Example) == [
        Variable(("EXAMPLE_FOLDER",), "`.example`", "Where the example keeps its files. More about it here."),
        Variable(("EXAMPLE_LIMIT",), "`30`", "How many at most."),
        Variable(("EXAMPLE_TOKEN",), None, "The key. Keep it secret."),
        Variable(("FIRST_CACHE", "SECOND_CACHE"), "the `current` folder", "A cache | a folder."),
    ]


def test_the_help_gives_each_variable_its_first_sentence_and_its_default():
    assert environment_help(Example, "Environment:").splitlines() == [
        "",
        "\b",
        "Environment:",
        f"  {'EXAMPLE_FOLDER':<31} Where the example keeps its files (.example)",
        f"  {'EXAMPLE_LIMIT':<31} How many at most (30)",
        f"  {'EXAMPLE_TOKEN':<31} The key",
        f"  {'FIRST_CACHE':<31} A cache | a folder (the current folder)",
    ]


def test_the_table_gives_each_variable_its_whole_description():
    rows = markdown_table(variables(Example)).splitlines()
    assert rows[:2] == ["| variable | default | meaning |", "| --- | --- | --- |"]
    assert rows[4] == "| `EXAMPLE_TOKEN` | unset | The key. Keep it secret. |"
    assert rows[5] == "| `FIRST_CACHE` or `SECOND_CACHE` | the `current` folder | A cache &#124; a folder. |"


def test_a_setting_without_a_description_or_with_a_computed_default_unexplained_is_refused():
    class Undescribed(BaseSettings):
        quiet: int = 1

    class Unexplained(BaseSettings):
        folder: Path = Field(default_factory=Path.cwd, description="A folder.")

    with pytest.raises(ValueError, match="quiet has no description"):
        variables(Undescribed)
    with pytest.raises(ValueError, match="folder computes its default"):
        variables(Unexplained)
