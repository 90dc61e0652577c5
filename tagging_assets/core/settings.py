"""Configuration from the environment, shared by the command line and the Dagster resources.

| variable | default | meaning |
| --- | --- | --- |
| OPENAI_API_KEY, OPENAI_BASE_URL | unset | the batch backend; with neither set, the local gateway |
| QDRANT_URL, QDRANT_API_KEY | unset | a Qdrant server or Qdrant Cloud |
| QDRANT_PATH | .qdrant | the embedded store, used when QDRANT_URL is unset |
| TAGGING_COLLECTION | nate_content | the collection of transcripts |
| TAGGING_MODEL | gpt-4o-mini | the model every request asks for |
| TAGGING_WORK_DIR | .tagging | request shards and downloaded results |
| TAGGING_GATEWAY_URL | http://127.0.0.1:8787/v1 | where the local gateway listens |
| TAGGING_MAX_ATTEMPTS | 3 | attempts per item before it is given up on |
| TAGGING_MAX_TRANSCRIPT_TOKENS | 32000 | longer transcripts are trimmed (head and tail) and marked truncated |
| TAGGING_STUCK_AFTER_SECONDS | 21600 | the sensor reports a batch validating or finalizing for longer as stuck |
| TAGGING_MAX_COST_USD | unset | refuse to submit work estimated above this, at batch prices |
| TAGGING_ENQUEUED_TOKEN_LIMIT | unset | the model's queued-token budget: shards stay within it, the rest waits |
| TAGGING_PRICING_FILE | unset | JSON of realtime USD per million tokens by model, over the built-in table |
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from tagging_assets.core.cache import QdrantCache

LOCAL_GATEWAY_URL = "http://127.0.0.1:8787/v1"
LOCAL_GATEWAY_KEY = "sk-local-gateway"


class TaggingSettings(BaseModel):
    """Everything the pipeline needs to know about where things are."""

    model_config = ConfigDict(frozen=True)

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    qdrant_path: Path = Path(".qdrant")
    collection: str = "nate_content"
    model: str = "gpt-4o-mini"
    work_dir: Path = Path(".tagging")
    gateway_url: str = LOCAL_GATEWAY_URL
    max_attempts: int = Field(3, ge=1)
    max_transcript_tokens: int = Field(32_000, ge=100)
    stuck_after_seconds: float = Field(6 * 3600, gt=0)
    max_cost_usd: float | None = Field(None, ge=0)
    enqueued_token_limit: int | None = Field(None, ge=1)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> TaggingSettings:
        env = os.environ if environ is None else environ
        names = {
            "openai_api_key": "OPENAI_API_KEY",
            "openai_base_url": "OPENAI_BASE_URL",
            "qdrant_url": "QDRANT_URL",
            "qdrant_api_key": "QDRANT_API_KEY",
            "qdrant_path": "QDRANT_PATH",
            "collection": "TAGGING_COLLECTION",
            "model": "TAGGING_MODEL",
            "work_dir": "TAGGING_WORK_DIR",
            "gateway_url": "TAGGING_GATEWAY_URL",
            "max_attempts": "TAGGING_MAX_ATTEMPTS",
            "max_transcript_tokens": "TAGGING_MAX_TRANSCRIPT_TOKENS",
            "stuck_after_seconds": "TAGGING_STUCK_AFTER_SECONDS",
            "max_cost_usd": "TAGGING_MAX_COST_USD",
            "enqueued_token_limit": "TAGGING_ENQUEUED_TOKEN_LIMIT",
        }
        return cls(**{field: env[variable] for field, variable in names.items() if env.get(variable)})

    @property
    def uses_local_gateway(self) -> bool:
        """No key and no base URL: the project's own gateway is the batch backend."""
        return self.openai_api_key is None and self.openai_base_url is None

    @property
    def batch_api_url(self) -> str | None:
        return self.gateway_url if self.uses_local_gateway else self.openai_base_url

    @property
    def batch_api_key(self) -> str:
        if self.openai_api_key is not None:
            return self.openai_api_key.get_secret_value()
        return LOCAL_GATEWAY_KEY

    def open_cache(self, collection: str | None = None) -> QdrantCache:
        """The configured cache; close it (or use it as a context manager) when done."""
        return QdrantCache.connect(
            collection or self.collection,
            path=self.qdrant_path,
            url=self.qdrant_url,
            api_key=self.qdrant_api_key.get_secret_value() if self.qdrant_api_key else None,
        )
