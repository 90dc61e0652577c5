"""Dagster resources: the cache, the Batch API and the tagging settings, each built from ``TaggingSettings``."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster import ConfigurableResource, EnvVar
from pydantic import Field

from tagging_assets.batches.jobs import Jobs, jobs_of
from tagging_assets.batches.plan import TaggingPlan, gateway_backend
from tagging_assets.batches.providers import BatchApi, batch_api_of, sdk_client
from tagging_assets.batches.records import RecordStore
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import Backend
from tagging_assets.core.environment import environment_variables, variable_of
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.prompt import SYSTEM_PROMPT, configured_prompt
from tagging_assets.core.settings import (
    CREDENTIAL_VARIABLES,
    DEFAULTS,
    LOCAL_GATEWAY_KEY,
    PROVIDERS,
    Provider,
    TaggingSettings,
)
from tagging_assets.core.tags import NO_ALIASES, load_aliases
from tagging_assets.core.vocabulary import load_vocabulary

if TYPE_CHECKING:
    from tagging_assets.batches.providers.dispatch import BatchClient

_DEFAULT_VALUES = DEFAULTS.model_dump(mode="json")


def _setting(name: str) -> Any:
    """A resource field that takes its default (as Dagster's config holds it) and its description from the
    setting ``name``, so that neither is written twice."""
    return Field(default=_DEFAULT_VALUES[name], description=TaggingSettings.model_fields[name].description)


class QdrantCacheResource(ConfigurableResource):
    """The transcript cache: embedded at ``path``, or the Qdrant server or Qdrant Cloud at ``url``.

    Opened per step and closed at once, because an embedded store admits one client at a time.
    """

    collection: str = _setting("collection")
    path: str = _setting("qdrant_path")
    url: str | None = _setting("qdrant_url")
    api_key: str | None = _setting("qdrant_api_key")

    @contextmanager
    def open(self) -> Iterator[QdrantCache]:
        with QdrantCache.connect(self.collection, path=self.path, url=self.url, api_key=self.api_key) as cache:
            yield cache


class BatchApiResource(ConfigurableResource):
    """The OpenAI Batch API, Azure OpenAI's (``provider`` "azure": ``base_url`` is the resource's endpoint),
    Anthropic's Message Batches (``provider`` "anthropic"), Gemini's Batch API (``provider`` "gemini") or any
    compatible endpoint; with no credentials, the local gateway, whose offline tagger's tags are recorded as such
    (``backend``) so that a real API tags those items again."""

    base_url: str | None = None
    api_key: str
    provider: str = DEFAULTS.batch_provider
    """openai, azure, anthropic or gemini (Dagster config takes no ``Literal``)."""
    api_version: str = _setting("azure_api_version")
    offline_tagger: bool = False
    """The local gateway, whose tags a real API replaces (Dagster config takes no ``Literal``, so a flag)."""
    max_retries: int = 5
    timeout_seconds: float = 120.0

    @property
    def backend(self) -> Backend:
        """A Batch API, or whoever the local gateway says answers behind it (``gateway --upstream``)."""
        return gateway_backend(self.base_url or "") if self.offline_tagger else "api"

    @property
    def batch_provider(self) -> Provider:
        if self.provider not in PROVIDERS:
            raise ConfigError(f"invalid configuration: batch_api.provider={self.provider}: expected one of {PROVIDERS}")
        return self.provider

    def dashboard_url(self, batch_id: str) -> str | None:
        """Where OpenAI's dashboard shows the batch; None for any other API, which has no page per batch."""
        if self.batch_provider != "openai" or (
            self.base_url and not self.base_url.startswith("https://api.openai.com")
        ):
            return None
        return f"https://platform.openai.com/batches/{batch_id}"

    def get_client(self, *, max_retries: int | None = None, timeout_seconds: float | None = None) -> BatchClient:
        return sdk_client(
            self.batch_provider,
            base_url=self.base_url,
            api_key=self.api_key,
            api_version=self.api_version,
            max_retries=self.max_retries if max_retries is None else max_retries,
            timeout=timeout_seconds or self.timeout_seconds,
        )

    def get_api(self, *, quick: bool = False) -> BatchApi:
        """The Batch API; ``quick``: one retry and a ten-second timeout, for a sensor tick or a question."""
        client = self.get_client(max_retries=1, timeout_seconds=10) if quick else self.get_client()
        return batch_api_of(client, self.batch_provider)


class TaggingResource(ConfigurableResource):
    """What the batches ask for and where their files live: the workflow's part of ``TaggingSettings``."""

    model: str = _setting("model")
    endpoint: str = _setting("endpoint")
    reasoning_effort: str | None = _setting("reasoning_effort")
    mode: str = _setting("mode")
    realtime_below: int = _setting("realtime_below")
    max_requests_per_minute: int | None = _setting("max_requests_per_minute")
    max_tokens_per_minute: int | None = _setting("max_tokens_per_minute")
    max_concurrency: int = _setting("max_concurrency")
    file_ttl_days: float = _setting("file_ttl_days")
    work_dir: str = _setting("work_dir")
    max_attempts: int = _setting("max_attempts")
    max_requests_per_file: int | None = _setting("max_requests_per_file")
    max_transcript_tokens: int = _setting("max_transcript_tokens")
    stuck_after_seconds: float = _setting("stuck_after_seconds")
    max_cost_usd: float | None = _setting("max_cost_usd")
    enqueued_token_limit: int | None = _setting("enqueued_token_limit")
    pricing_file: str | None = _setting("pricing_file")
    vocabulary: str = _setting("vocabulary")
    vocabulary_size: int = _setting("vocabulary_size")
    vocabulary_file: str | None = _setting("vocabulary_file")
    tag_aliases: str | None = _setting("tag_aliases")
    max_single_video_tag_share: float = _setting("max_single_video_tag_share")
    max_near_duplicate_groups: int = _setting("max_near_duplicate_groups")
    system_prompt: str | None = Field(
        None,
        description="The system prompt every request carries; unset: the bundled one. Filled from "
        "TAGGING_PROMPT_FILE when the definitions load.",
    )

    @classmethod
    def from_settings(cls, settings: TaggingSettings) -> TaggingResource:
        """The resource the settings describe, holding TAGGING_PROMPT_FILE's text (read now) as its prompt: the
        run's config then shows the prompt it ran with, and an edited file takes effect when the definitions
        reload, not halfway through a run."""
        fields = settings.model_dump(mode="json", include=set(cls.model_fields))
        prompt = None if settings.prompt_file is None else configured_prompt(settings.prompt_file)
        return cls(**fields, system_prompt=prompt)

    def settings(self, provider: Provider = "openai") -> TaggingSettings:
        fields = {name: getattr(self, name) for name in type(self).model_fields if name != "system_prompt"}
        return TaggingSettings.model_validate({**fields, "provider": provider})

    def plan(self, batch_api: BatchApiResource) -> TaggingPlan:
        """The run's choices for these settings at ``batch_api``, whose provider they speak and whose backend
        answers."""
        settings = self.settings(batch_api.batch_provider)
        return TaggingPlan(settings, batch_api.backend, self.system_prompt or SYSTEM_PROMPT)

    def aliases(self) -> Mapping[str, str]:
        """The tag aliases write-back applies (TAGGING_TAG_ALIASES), for the checks to apply them alike."""
        return load_aliases(Path(self.tag_aliases)) if self.tag_aliases else NO_ALIASES

    def allowed_tags(self) -> frozenset[str] | None:
        """The closed vocabulary write-back holds tags to (TAGGING_VOCABULARY=closed), for the checks to hold them
        alike; None under the other vocabularies."""
        if self.vocabulary != "closed" or not self.vocabulary_file:
            return None
        return frozenset(load_vocabulary(Path(self.vocabulary_file)))

    def records(self) -> RecordStore:
        """What the work directory knows of the batches it submitted."""
        return RecordStore(Path(self.work_dir))

    def jobs(self, batch_api: BatchApiResource, *, quick: bool = False) -> Jobs:
        """Jobs of every mode at ``batch_api``: its batches, and the realtime and flex jobs of this work directory
        within these settings' rate limits; ``quick`` as for ``BatchApiResource.get_api``."""
        client = batch_api.get_client(max_retries=1, timeout_seconds=10) if quick else batch_api.get_client()
        return jobs_of(client, self.settings(batch_api.batch_provider), provider=batch_api.batch_provider)


def _api_key(settings: TaggingSettings) -> str:
    """The provider's key as an ``EnvVar`` (never its value), or the local gateway's. Gemini's key is read from
    either of two variables; the ``EnvVar`` names the one set, ``GOOGLE_API_KEY`` first as google-genai reads
    them."""
    if settings.uses_local_gateway:
        return LOCAL_GATEWAY_KEY
    variable = CREDENTIAL_VARIABLES[settings.batch_provider][1]
    if settings.batch_provider == "gemini":
        choices = environment_variables(TaggingSettings, "gemini_api_key")
        variable = next((name for name in choices if os.environ.get(name)), variable)
    key = EnvVar(variable)
    if settings.batch_provider == "azure":
        return key
    return key if settings.batch_api_key != LOCAL_GATEWAY_KEY else LOCAL_GATEWAY_KEY


def resources_from_settings(settings: TaggingSettings) -> dict[str, ConfigurableResource]:
    """The resources the settings describe; secrets stay ``EnvVar`` s, never values."""
    return {
        "qdrant": QdrantCacheResource(
            collection=settings.collection,
            path=str(settings.qdrant_path.resolve()),
            url=settings.qdrant_url,
            api_key=EnvVar(variable_of(TaggingSettings, "qdrant_api_key")) if settings.qdrant_api_key else None,
        ),
        "batch_api": BatchApiResource(
            base_url=settings.batch_api_url,
            api_key=_api_key(settings),
            provider=settings.batch_provider,
            api_version=settings.azure_api_version,
            offline_tagger=settings.backend == "offline-tagger",
        ),
        "tagging": TaggingResource.from_settings(settings.model_copy(update={"work_dir": settings.work_dir.resolve()})),
    }
