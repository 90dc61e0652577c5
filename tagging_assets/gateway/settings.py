"""How one gateway instance behaves: its limits and the faults it injects.

Every field can be set from the environment (``TAGGING_GATEWAY_<FIELD>``, read by pydantic-settings) or from
a command-line flag, so a test can start a gateway that misbehaves in exactly one way and prove the pipeline
survives it. The gateway stands apart from the pipeline, so these settings are its own; only the way they meet
the environment (``core/environment.py``) is shared.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import SettingsConfigDict

from tagging_assets.core.environment import EnvironmentSource, KeywordSettings
from tagging_assets.core.protocol import MAX_BYTES_PER_FILE, MAX_REQUESTS_PER_FILE, MAX_REQUESTS_PER_MESSAGE_BATCH

ENV_PREFIX = "TAGGING_GATEWAY_"


class _GatewaySettings(KeywordSettings):
    """A gateway's settings: ``TAGGING_GATEWAY_<FIELD>`` each, read by ``settings_from_env``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)


class FaultSettings(_GatewaySettings):
    """Faults injected on purpose. All off by default.

    Per-line faults pick their lines by a hash of the custom_id, so the same
    lines fail on every run and after a restart.
    """

    line_error_rate: float = Field(0.0, ge=0, le=1, description="Fraction of lines answered with an HTTP error.")
    line_error_status: int = Field(500, ge=400, le=599, description="The HTTP status of those lines.")
    invalid_json_rate: float = Field(0.0, ge=0, le=1, description="Fraction of replies that are not JSON.")
    schema_violation_rate: float = Field(0.0, ge=0, le=1, description="Fraction of replies that break the schema.")
    refusal_rate: float = Field(0.0, ge=0, le=1, description="Fraction of replies that are refusals.")
    messy_tags_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Fraction of replies whose tags are messy but meant: mixed case, spaces and underscores, "
        "inflection twins, generic tags, six or more of them; a quarter of those have only two usable tags.",
    )
    rate_limit_every: int = Field(0, ge=0, description="Every Nth API request gets a 429 (0: never).")
    retry_after_seconds: float = Field(1.0, ge=0, description="The Retry-After sent with a 429.")
    server_error_every: int = Field(0, ge=0, description="Every Nth API request gets a 500 (0: never).")
    disconnect_every: int = Field(
        0, ge=0, description="Every Nth API request is carried out but its response is cut off mid-body (0: never)."
    )
    length_rate: float = Field(0.0, ge=0, le=1, description="Fraction of replies cut off at max_tokens.")
    seconds_per_line: float = Field(0.0, ge=0, description="Extra time each line takes: slow progress.")
    latency_seconds: float = Field(
        0.0,
        ge=0,
        description="How long every API request waits before it is answered: an API far away. Requests wait "
        "side by side, not in turn.",
        json_schema_extra={"flag_aliases": ["--latency"]},
    )
    quota_exhausted_after: int | None = Field(
        None,
        ge=0,
        description="After this many admitted realtime requests, every realtime request gets the 429 of a spent "
        "quota (insufficient_quota; Anthropic's enforced_spend_limit_reached), which retrying does not cure.",
    )
    flex_unavailable_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Fraction of realtime flex requests answered 429 resource_unavailable, not billed; picked "
        "by the request's content and attempt, so a retry can get through.",
    )
    flex_served_default_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Fraction of realtime flex requests served at the default tier (the reply's service_tier "
        "says default).",
    )
    expire_after_seconds: float | None = Field(
        None, gt=0, description="Completion window in seconds; unset means the 24 hours of the real API."
    )
    validating_stall_seconds: float = Field(0.0, ge=0, description="How long a batch sits in validating.")
    finalizing_stall_seconds: float = Field(0.0, ge=0, description="How long a batch sits in finalizing.")
    seed: str = Field("0", description="Changes which lines the per-line faults pick.")
    shutdown_dates: str = Field(
        "",
        pattern=r"^([\w.\-]+=\d{4}-\d{2}-\d{2})?(,[\w.\-]+=\d{4}-\d{2}-\d{2})*$",
        description="MODEL=YYYY-MM-DD,...: /v1/models lists these shutdown dates, and from its date on a model's "
        "requests fail with model_not_found.",
    )

    azure_deployments: str = Field(
        "",
        pattern=r"^([\w.\-]+=[\w.\-]+)?(,[\w.\-]+=[\w.\-]+)*$",
        description="NAME=MODEL,...: Azure deployments and the model each serves; requests may name a deployment "
        "as their model (a served model's own name always works).",
    )

    def model_behind(self, name: str) -> str:
        """The model a request's ``model`` names: the one behind an Azure deployment, else the name itself."""
        deployments = dict(pair.split("=", 1) for pair in self.azure_deployments.split(",") if pair)
        return deployments.get(name, name)

    def shutdown_date(self, model: str) -> date | None:
        """The day ``model`` (or the family name of a dated snapshot) stops answering, if one is set."""
        dates = dict(pair.split("=", 1) for pair in self.shutdown_dates.split(",") if pair)
        found = dates.get(model) or dates.get(re.sub(r"-\d{4}-\d{2}-\d{2}$", "", model))
        return date.fromisoformat(found) if found else None

    def retired(self, model: str) -> bool:
        shutdown = self.shutdown_date(model)
        return shutdown is not None and datetime.now(UTC).date() >= shutdown

    def picks(self, fault: str, custom_id: str, rate: float) -> bool:
        """Whether ``fault`` hits the line ``custom_id``, deterministically."""
        if rate <= 0:
            return False
        digest = hashlib.sha256(f"{self.seed}:{fault}:{custom_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < rate


class GatewaySettings(_GatewaySettings):
    """The gateway's configuration: where it keeps state, its limits, its tagger and its faults."""

    state_dir: Path = Field(Path(".gateway"), description="Files, batches and per-line progress live here.")
    api_key: str | None = Field(None, description="When set, requests must carry it as a bearer token.")
    tagger: Literal["keywords", "echo"] = Field(
        "keywords", description="keywords: the offline key-phrase tagger; echo: a trivial reply, to time the server."
    )
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        description="Tagger processes.",
        json_schema_extra={"shown_default": "the machine's cores"},
    )
    max_lines_per_batch: int | None = Field(
        None,
        ge=1,
        description=f"Requests a batch may hold; unset means each API's own ({MAX_REQUESTS_PER_FILE:,} at OpenAI, "
        f"{MAX_REQUESTS_PER_MESSAGE_BATCH:,} at Anthropic). More fail validation as too_many_tasks, or a Message "
        "Batch's create.",
    )
    max_input_bytes: int = Field(MAX_BYTES_PER_FILE, ge=1, description="A larger input file fails validation.")
    enqueued_token_limit: int | None = Field(
        None, ge=1, description="Tokens that may be queued per model at once (token_limit_exceeded above it)."
    )
    requests_per_minute: int | None = Field(
        None,
        ge=1,
        description="Realtime requests per minute per API key, enforced per second as OpenAI quantizes it; "
        "unset means no limit.",
        json_schema_extra={"flag_aliases": ["--rpm"]},
    )
    tokens_per_minute: int | None = Field(
        None,
        ge=1,
        description="Realtime tokens per minute per API key (each request counts max(its output budget, its "
        "characters / 4)), enforced per second; unset means no limit.",
        json_schema_extra={"flag_aliases": ["--tpm"]},
    )
    upstream: str | None = Field(
        None,
        pattern=r"^https?://",
        description="An OpenAI-compatible server's base URL (vLLM, Ollama, llama.cpp, LM Studio, a provider's API; "
        "e.g. http://localhost:11434/v1) that answers each batch line and the realtime endpoints instead of the "
        "offline tagger.",
    )
    upstream_key_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The environment variable holding the upstream's API key, sent as a bearer token (the key "
        "itself is never a flag); unset: no key.",
    )
    upstream_requests_per_minute: int | None = Field(
        None,
        ge=1,
        description="Requests per minute the gateway sends the upstream, paced evenly; unset means no limit.",
        json_schema_extra={"flag_aliases": ["--upstream-rpm"]},
    )
    upstream_tokens_per_minute: int | None = Field(
        None,
        ge=1,
        description="Tokens per minute the gateway sends the upstream (each request counts max(its output budget, "
        "its characters / 4)); unset means no limit.",
        json_schema_extra={"flag_aliases": ["--upstream-tpm"]},
    )
    upstream_concurrency: int = Field(16, ge=1, description="Requests in flight to the upstream at once.")
    upstream_max_retries: int = Field(
        8, ge=0, description="Retries of a line the upstream answered 5xx, 408/409, or never answered."
    )
    upstream_timeout_seconds: float = Field(
        600.0, gt=0, description="How long one upstream request may take before it counts as a lost connection."
    )
    faults: FaultSettings = Field(default_factory=FaultSettings, description="The faults injected on purpose.")

    def upstream_key(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The upstream's key, read from the variable ``upstream_key_env`` names, never from a flag (``ps`` shows
        flags)."""
        if self.upstream_key_env is None:
            return None
        key = (os.environ if environ is None else environ).get(self.upstream_key_env)
        if not key:
            raise GatewayConfigError(
                f"--upstream-key-env names {self.upstream_key_env}, which is not set: export the upstream's key "
                "there, or leave --upstream-key-env out for a server without keys"
            )
        return key


class GatewayConfigError(ValueError):
    """The gateway's configuration is wrong; the message names the setting."""


def settings_from_env(overrides: dict[str, object], environ: Mapping[str, str] | None = None) -> GatewaySettings:
    """Settings from ``TAGGING_GATEWAY_*`` variables, with ``overrides`` (flags) taking precedence; the faults
    are read one variable each, as their flags are."""
    environ = os.environ if environ is None else environ
    flags = {name: value for name, value in overrides.items() if value is not None}
    faults = EnvironmentSource(FaultSettings, environ)() | {
        name: value for name, value in flags.items() if name in FaultSettings.model_fields
    }
    values = EnvironmentSource(GatewaySettings, environ)() | {
        name: value for name, value in flags.items() if name not in FaultSettings.model_fields
    }
    values.pop("faults", None)
    try:
        settings = GatewaySettings(**values, faults=FaultSettings(**faults))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise GatewayConfigError(f"invalid gateway setting: {problems}") from None
    if settings.upstream_key_env is not None and settings.upstream is None:
        raise GatewayConfigError("--upstream-key-env names the key of an upstream: pass --upstream URL too")
    settings.upstream_key(environ)
    return settings
