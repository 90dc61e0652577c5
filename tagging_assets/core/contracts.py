"""The typed values that travel between the layers, and the format of a reply that the gateway shares.

The gateway may import this module and the protocol facts (``protocol``) and nothing else of the pipeline,
so it imports only those facts, pydantic and the standard library. Values that the command line prints with
``--json`` or that the lesson reads by key (``status["status"]``) are pydantic
models that also answer item access; the rest are frozen dataclasses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tagging_assets.core.protocol import CHAT_COMPLETIONS, TERMINAL_STATUSES, Endpoint

MIN_TAGS = 3
MAX_TAGS = 5
TAG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_TAG_RE = re.compile(TAG_PATTERN)
GENERIC_TAGS = frozenset(
    {
        "ai", "video", "videos", "podcast", "episode", "talk", "technology", "tech", "content", "general", "misc",
        "other", "interview", "discussion", "news", "update", "overview", "introduction", "tutorial",
    }
)  # fmt: skip
"""Tags that say nothing about a video's topic: the prompt forbids them and the format check rejects them."""

PREFERRED_TAGS_HEADER = "The library already uses the tags below"
"""How the prompt under TAGGING_VOCABULARY=prefer opens its block of the library's tags (listed on its last line),
which the local gateway's offline tagger reads as a model would."""

PointId = int | str
Backend = Literal["offline-tagger", "upstream", "api"]
"""Who answers batches: the local gateway's offline tagger (no key), a model server behind the local gateway
(``gateway --upstream``), or a Batch API (OpenAI's or another)."""


class TaggingReply(BaseModel):
    """A reply's shape, the only thing that fails it: a ``tags`` list of text and a summary. How the tags are
    spelled is write-back's to fix (``core.tags.canonicalize``), so a messy tag is never paid for again."""

    model_config = ConfigDict(extra="forbid")

    tags: list[str]
    summary: str = Field(min_length=1)


class TaggingOutput(BaseModel):
    """A tagging in the format the prompt asks for: 3-5 lowercase, hyphenated tags and a summary, the contract the
    gateway's tagger is held to. Write-back writes what ``canonicalize`` makes of a ``TaggingReply``, which keeps
    fewer than three tags when no more are usable (flagged ``few_tags``)."""

    model_config = ConfigDict(extra="forbid")

    tags: list[str] = Field(min_length=MIN_TAGS, max_length=MAX_TAGS)
    summary: str = Field(min_length=1)

    @field_validator("tags")
    @classmethod
    def _tags_are_lowercase_hyphenated(cls, tags: list[str]) -> list[str]:
        bad = [tag for tag in tags if not _TAG_RE.match(tag)]
        if bad:
            raise ValueError(f"tags must be lowercase and hyphenated, got {bad}")
        return tags


class TaggingState(BaseModel):
    """The ``tagging`` object in a cache point's payload: where the point stands."""

    status: Literal["pending", "tagged", "failed"]
    batch_id: str | None = None
    model: str | None = None
    model_snapshot: str | None = None
    """The dated snapshot the reply named (``gpt-5-mini-2025-08-07``)."""
    backend: Backend | None = None
    """Who wrote the tags: the project's offline tagger (the local gateway), or a Batch API."""
    base_url: str | None = None
    """The Batch API's base URL; None for OpenAI's own."""
    endpoint: str | None = None
    prompt_version: str | None = None
    content_hash: str | None = None
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    error: str | None = None
    retryable: bool = True
    attempts: int = 0
    truncated: bool = False
    raw_tags: list[str] | None = None
    """The reply's tags as the model wrote them, so that a change of the tag rules can be replayed unpaid."""
    dropped_tags: list[str] = Field(default_factory=list)
    """The reply's tags that canonicalising dropped: generic, empty, or outside the vocabulary."""
    few_tags: bool = False
    """Fewer than three usable tags were left: kept, and reported by the format check without failing."""
    submitted_at: str | None = None
    updated_at: str | None = None


class _Readable(BaseModel):
    """A frozen model that also reads as the lesson's dicts: ``summary["tagged"]``."""

    model_config = ConfigDict(frozen=True)

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json`` and Dagster metadata: the edges, where dicts belong."""
        return self.model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens as the API bills them: cached input is part of the input, reasoning part of the output."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_tokens + other.cached_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )


NO_USAGE = TokenUsage()


RunMode = Literal["batch", "flex", "realtime"]
"""How a job's requests are sent and billed: the Batch API; realtime requests asking for ``service_tier: "flex"``
(billed at Batch API rates); or realtime requests at standard prices. The ``auto`` setting resolves to one of
these before anything is priced."""


@dataclass(frozen=True, slots=True)
class Cost:
    """One amount of work priced at every mode, and what the job's mode bills, so that each figure shown can say
    what was billed and what the other modes would have cost."""

    realtime_usd: float
    batch_usd: float
    flex_usd: float | None = None
    """None for a model that does not take flex."""
    mode: RunMode = "batch"
    served_usd: float | None = None
    """What the responses' own service tiers billed (a flex job partly served at ``default``), where they were
    counted; None: the mode's own figure is what was billed."""

    @property
    def billed_usd(self) -> float:
        """What the job's mode bills: the tiers the responses named where they were counted. A flex job of a model
        without a flex price is billed at Batch API rates, as OpenAI bills flex."""
        if self.served_usd is not None:
            return self.served_usd
        if self.mode == "realtime":
            return self.realtime_usd
        if self.mode == "flex" and self.flex_usd is not None:
            return self.flex_usd
        return self.batch_usd

    @property
    def saving_usd(self) -> float:
        """What the mode saved against realtime prices."""
        return self.realtime_usd - self.billed_usd

    def of_mode(self, mode: RunMode) -> float | None:
        """What the same work costs billed at ``mode``; None for flex where the model does not take it."""
        return {"realtime": self.realtime_usd, "batch": self.batch_usd, "flex": self.flex_usd}[mode]


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One line of a shard's index: the request's point and what it was asked from, for write-back."""

    custom_id: str
    point_id: PointId
    content_hash: str
    attempts: int
    truncated: bool
    input_tokens: int


class Shard(_Readable):
    """One input file within the Batch API's limits, with all that submitting it needs to know."""

    path: Path
    index_path: Path
    requests: int
    bytes: int
    input_tokens: int
    largest_request_tokens: int
    model: str
    prompt_version: str
    endpoint: Endpoint = CHAT_COMPLETIONS


class BatchProblem(_Readable):
    """A reason the API gave for failing a batch's validation."""

    code: str | None = None
    message: str | None = None
    line: int | None = None
    param: str | None = None


class BatchStatus(_Readable):
    """A batch's status and progress, as the API last reported them."""

    batch_id: str
    status: str
    total: int
    completed: int
    failed: int
    progress_pct: float
    output_file_id: str | None
    error_file_id: str | None
    errors: tuple[BatchProblem, ...] = ()
    created_at: int
    in_progress_at: int | None = None
    """When its requests began to run, where the API says (OpenAI and Azure; Anthropic does not)."""
    finalizing_at: int | None = None
    finished_at: int | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    model: str | None = None
    endpoint: str | None = None
    usage: TokenUsage | None = None
    """What the API reports the whole batch used, where it does (OpenAI's batches since September 2025)."""

    @property
    def done(self) -> int:
        return self.completed + self.failed

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def seconds_left(self, now: float) -> float | None:
        """The time left at the pace since the requests began to run, as the lesson's ``check_status.py``
        estimates it; None until some are done, or where the API does not say when they began."""
        if self.status != "in_progress" or not self.done or self.in_progress_at is None or self.done >= self.total:
            return None
        elapsed = max(now - self.in_progress_at, 1e-3)
        return (self.total - self.done) * elapsed / self.done

    def missing_reason(self) -> str:
        """Why a submitted request is in neither result file of this batch."""
        if self.status == "failed":
            codes = ", ".join(sorted({error.code or "unknown" for error in self.errors}))
            return f"batch_failed: the batch failed validation ({codes or 'no reason given'})"
        if self.status == "expired":
            return "batch_expired: the batch expired before this request ran, and its results hold none of it"
        return f"missing_from_results: in neither the output nor the error file of a {self.status} batch"

    def stuck_for(self, now: float, after_seconds: float) -> float | None:
        """Seconds the batch has sat in ``validating`` or ``finalizing`` past ``after_seconds``, if it has."""
        since = {"validating": self.created_at, "finalizing": self.finalizing_at}.get(self.status)
        if since is None or now - since < after_seconds:
            return None
        return now - since


class DownloadedFiles(_Readable):
    """A finished batch's result files on disk; None where the API made no such file."""

    batch_id: str
    status: str
    output: Path | None = None
    errors: Path | None = None
    output_bytes: int = 0
    errors_bytes: int = 0


class TagSample(_Readable):
    """One tagged item, for the sample table in the UI."""

    custom_id: str
    tags: list[str]
    summary: str


class WritebackSummary(_Readable):
    """What writing one batch's results into the cache came to, and what the batch cost."""

    batch_id: str
    status: str
    submitted: int
    tagged: int
    failed: int
    failed_by_reason: dict[str, int]
    unknown_custom_ids: int
    duplicate_lines: int
    unreadable_lines: int
    input_tokens: int
    cached_input_tokens: int = 0
    output_tokens: int
    reasoning_tokens: int = 0
    cost_batch_usd: float | None
    """None when the model has no price in the model table."""
    cost_realtime_usd: float | None
    saving_usd: float | None
    cost_flex_usd: float | None = None
    """None also for a model that does not take flex."""
    cost_billed_usd: float | None = None
    """What the batch's mode billed (``cost_mode``); None when the model has no price."""
    cost_mode: RunMode = "batch"
    tags_written: dict[str, int]
    few_tags: int = 0
    """Items tagged with fewer than three usable tags."""
    dropped_tags: int = 0
    """Tags of the replies dropped as generic, empty or outside the vocabulary."""
    sample: tuple[TagSample, ...] = ()

    @property
    def successful(self) -> int:
        """The lesson's name for the items tagged."""
        return self.tagged

    @property
    def cost(self) -> Cost | None:
        """The batch's cost at every mode and as billed; None when the model has no price."""
        if self.cost_batch_usd is None or self.cost_realtime_usd is None:
            return None
        return Cost(
            realtime_usd=self.cost_realtime_usd,
            batch_usd=self.cost_batch_usd,
            flex_usd=self.cost_flex_usd,
            mode=self.cost_mode,
            served_usd=self.cost_billed_usd,
        )


class SelectionReport(BaseModel):
    """What a scan of the cache found, counted so that the asset metadata and the command line can say it.

    Filled in as the scan goes; the counts are final once the scan's iterator is exhausted."""

    scanned: int = 0
    selected: dict[str, int] = Field(default_factory=dict)
    skipped: dict[str, int] = Field(default_factory=dict)
    truncated: int = 0


class SelectedItems(_Readable):
    """``cached_transcripts``' output: the items that need tags, listed in a manifest without their
    transcripts."""

    manifest: Path
    items: int
    model: str


class BatchInput(_Readable):
    """``batch_input_jsonl``'s manifest: the shards one submission wrote."""

    submission_id: str
    shards: tuple[Shard, ...]


class SubmittedBatch(_Readable):
    """One job made from one shard: a batch at the API, or a realtime or flex job run here."""

    batch_id: str
    requests: int
    input_file: Path
    mode: RunMode = "batch"


class Submission(_Readable):
    """``openai_batch_job``'s manifest: the batches made, and the shards left waiting for the token budget."""

    submission_id: str
    batches: tuple[SubmittedBatch, ...]
    deferred: tuple[Shard, ...] = ()
    mode: RunMode = "batch"
