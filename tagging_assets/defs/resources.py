"""Dagster resources: the cache, the Batch API and the tagging settings, each built from ``TaggingSettings``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dagster import ConfigurableResource, EnvVar
from openai import AzureOpenAI, OpenAI

from tagging_assets.batches.processor import BatchProcessor
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import Backend
from tagging_assets.core.settings import AZURE_API_VERSION, LOCAL_GATEWAY_KEY, TaggingSettings
from tagging_assets.core.wire import CHAT_COMPLETIONS


class QdrantCacheResource(ConfigurableResource):
    """The transcript cache: embedded at ``path``, or the Qdrant server or Qdrant Cloud at ``url``.

    Opened per step and closed at once, because an embedded store admits one client at a time.
    """

    collection: str = "nate_content"
    path: str = ".qdrant"
    url: str | None = None
    api_key: str | None = None

    @contextmanager
    def open(self) -> Iterator[QdrantCache]:
        with QdrantCache.connect(self.collection, path=self.path, url=self.url, api_key=self.api_key) as cache:
            yield cache


class BatchApiResource(ConfigurableResource):
    """The OpenAI Batch API, Azure OpenAI's (``provider`` "azure": ``base_url`` is the resource's endpoint) or
    any compatible endpoint; with no credentials, the local gateway, whose offline tagger's tags are recorded as
    such (``backend``) so that a real API tags those items again."""

    base_url: str | None = None
    api_key: str
    provider: str = "openai"
    api_version: str = AZURE_API_VERSION
    offline_tagger: bool = False
    """The local gateway, whose tags a real API replaces (Dagster config takes no ``Literal``, so a flag)."""

    @property
    def backend(self) -> Backend:
        return "offline-tagger" if self.offline_tagger else "api"

    max_retries: int = 5
    timeout_seconds: float = 120.0

    def dashboard_url(self, batch_id: str) -> str | None:
        """Where OpenAI's dashboard shows the batch; None for any other endpoint, which has no such page."""
        if self.base_url and not self.base_url.startswith("https://api.openai.com"):
            return None
        return f"https://platform.openai.com/batches/{batch_id}"

    def get_client(self, *, max_retries: int | None = None, timeout_seconds: float | None = None) -> OpenAI:
        retries = self.max_retries if max_retries is None else max_retries
        timeout = timeout_seconds or self.timeout_seconds
        if self.provider == "azure":
            return AzureOpenAI(
                azure_endpoint=self.base_url or "",
                api_key=self.api_key,
                api_version=self.api_version,
                max_retries=retries,
                timeout=timeout,
            )
        return OpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=retries, timeout=timeout)


class TaggingResource(ConfigurableResource):
    """What the batches ask for and where their files live: the workflow's part of ``TaggingSettings``."""

    model: str = "gpt-4o-mini"
    endpoint: str = CHAT_COMPLETIONS
    reasoning_effort: str | None = None
    file_ttl_days: float = 30
    work_dir: str = ".tagging"
    max_attempts: int = 3
    max_requests_per_file: int = 50_000
    max_transcript_tokens: int = 32_000
    stuck_after_seconds: float = 6 * 3600
    max_cost_usd: float | None = None
    enqueued_token_limit: int | None = None
    pricing_file: str | None = None

    @classmethod
    def from_settings(cls, settings: TaggingSettings) -> TaggingResource:
        return cls(**settings.model_dump(mode="json", include=set(cls.model_fields)))

    def settings(self) -> TaggingSettings:
        return TaggingSettings.model_validate({name: getattr(self, name) for name in type(self).model_fields})

    def processor(
        self,
        *,
        cache: QdrantCache | None,
        client: OpenAI | None,
        backend: Backend = "api",
        warn: Callable[[str], None] | None = None,
    ) -> BatchProcessor:
        return BatchProcessor(cache, client, settings=self.settings(), backend=backend, warn=warn)


def _api_key(settings: TaggingSettings) -> str:
    """The provider's key as an ``EnvVar`` (never its value), or the local gateway's."""
    if settings.uses_local_gateway:
        return LOCAL_GATEWAY_KEY
    if settings.batch_provider == "azure":
        return EnvVar("AZURE_OPENAI_API_KEY")
    return EnvVar("OPENAI_API_KEY") if settings.openai_api_key else LOCAL_GATEWAY_KEY


def resources_from_settings(settings: TaggingSettings) -> dict[str, ConfigurableResource]:
    """The resources the settings describe; secrets stay ``EnvVar`` s, never values."""
    return {
        "qdrant": QdrantCacheResource(
            collection=settings.collection,
            path=str(settings.qdrant_path.resolve()),
            url=settings.qdrant_url,
            api_key=EnvVar("QDRANT_API_KEY") if settings.qdrant_api_key else None,
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
