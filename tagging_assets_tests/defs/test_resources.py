"""The Dagster resources come from the settings: their defaults are the settings' own and their config says what
each field is for, in the settings' words."""

from dagster import EnvVar

from tagging_assets.core.settings import DEFAULTS, TaggingSettings
from tagging_assets.defs.resources import (
    BatchApiResource,
    QdrantCacheResource,
    TaggingResource,
    resources_from_settings,
)


def test_a_resource_built_without_values_holds_the_settings_defaults():
    assert TaggingResource() == TaggingResource.from_settings(DEFAULTS)
    cache = QdrantCacheResource()
    assert (cache.collection, cache.path, cache.url) == (DEFAULTS.collection, str(DEFAULTS.qdrant_path), None)
    api = BatchApiResource(api_key="k")
    assert (api.provider, api.api_version) == (DEFAULTS.batch_provider, DEFAULTS.azure_api_version)


def test_the_resources_config_describes_each_field_as_the_settings_do():
    fields = TaggingResource.to_config_schema().as_field().config_type.fields
    settings = TaggingResource.model_fields.keys() & TaggingSettings.model_fields.keys()
    assert TaggingResource.model_fields.keys() - settings == {"system_prompt"}, "the prompt alone is the resource's own"
    for name in settings:
        assert fields[name].description == TaggingSettings.model_fields[name].description
    assert fields["system_prompt"].description


def test_the_resources_read_secrets_from_the_environment_at_run_time_never_as_values():
    settings = TaggingSettings.from_env({"ANTHROPIC_API_KEY": "sk-ant-secret", "QDRANT_API_KEY": "qdrant-secret"})
    resources = resources_from_settings(settings)
    for resource, variable in (("batch_api", "ANTHROPIC_API_KEY"), ("qdrant", "QDRANT_API_KEY")):
        key = resources[resource].api_key
        assert isinstance(key, EnvVar) and key.env_var_name == variable
    assert resources["tagging"].model == "claude-haiku-4-5"
