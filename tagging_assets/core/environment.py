"""How a pydantic-settings class meets the environment: which variables a field is read from, and the
environment a caller hands it (``os.environ``, or a mapping of its own, as the tests do).

The pipeline's settings and the gateway's both build on this module, which knows nothing of either: it is the one
module of ``core`` besides the contracts and the protocols' facts that the gateway imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource


class KeywordSettings(BaseSettings):
    """Settings that hold what they are given and their defaults alone. The environment is read once, through an
    ``EnvironmentSource``, by the function that builds them from it, so that a shell's variables never steer
    settings a test or a Python caller builds in code."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class EnvironmentSource(EnvSettingsSource):
    """pydantic-settings' own environment source, over the mapping given instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self.environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {
            name if self.case_sensitive else name.lower(): value
            for name, value in self.environ.items()
            if value or not self.env_ignore_empty
        }


def environment_variables(settings: type[BaseSettings], field: str) -> tuple[str, ...]:
    """The variables a field is read from, as pydantic-settings looks them up: its validation alias (each of its
    choices, in order), else the settings' prefix and the field's name."""
    alias = settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(str(choice) for choice in alias.choices)
    if isinstance(alias, str):
        return (alias,)
    name = f"{settings.model_config.get('env_prefix', '')}{field}"
    return (name if settings.model_config.get("case_sensitive") else name.upper(),)


def variable_of(settings: type[BaseSettings], field: str) -> str:
    """The variable to set for a field (the first it is read from), for messages that say what to change; a name
    that is no field stays as it is."""
    return environment_variables(settings, field)[0] if field in settings.model_fields else field


def field_of(settings: type[BaseSettings], name: str) -> str:
    """The field a variable is read into; a field's own name stays as it is."""
    for field in settings.model_fields:
        if name in environment_variables(settings, field):
            return field
    return name


def shown_default(default: str) -> dict[str, Any]:
    """A field's ``json_schema_extra``: its default as the help and the configuration page show it, where the
    value alone would mislead."""
    return {"shown_default": default}
