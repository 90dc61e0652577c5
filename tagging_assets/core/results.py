"""Reading Batch API output and error files into one outcome per request, and pricing what they used.

A line is a success only if it is a 200 whose reply has the shape of a ``TaggingReply``
and finished normally (how its tags are spelled is write-back's to fix); everything else
is a failure with its reason, so no request vanishes silently and one bad line costs one
item, never the batch.
Each line's usage is billed at the tier its response names (``TierUsage``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import ValidationError

from tagging_assets.core.contracts import NO_USAGE, Cost, RunMode, TaggingReply, TokenUsage
from tagging_assets.core.cost import cost_of, usd_at
from tagging_assets.core.models import ModelProfile
from tagging_assets.wire import ResultLine, read_result


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one request came to."""

    custom_id: str
    output: TaggingReply | None
    """The reply as the model wrote it; its tags are canonicalised where they are written."""
    error: str | None
    usage: TokenUsage = NO_USAGE
    retryable: bool = True
    model_snapshot: str | None = None
    service_tier: str | None = None
    """The tier the response says served it; it decides the rate its usage is billed at."""

    @property
    def ok(self) -> bool:
        return self.output is not None


def outcome_of(line: ResultLine) -> Outcome:
    """Classify one result line."""
    if line.status_code is None:
        message = f": {line.error_message}" if line.error_message else ""
        return Outcome(line.custom_id, None, f"{line.error_code or 'no_response'}{message}")

    snapshot = line.reply.model if line.reply else None
    tier = line.service_tier

    def failed(error: str, *, retryable: bool = True) -> Outcome:
        return Outcome(line.custom_id, None, error, line.usage, retryable, snapshot, tier)

    if line.status_code != 200 or line.reply is None:
        permanent = 400 <= line.status_code < 500 and line.status_code not in (408, 409, 429)
        return failed(f"http_{line.status_code}: {line.error_message or 'no message'}", retryable=not permanent)
    reply = line.reply
    if reply.problem:
        return failed(reply.problem)
    if reply.refusal:
        return failed(f"refusal: {reply.refusal}")
    if reply.finish_reason == "length":
        spent = f", {line.usage.reasoning_tokens:,} of them reasoning" if line.usage.reasoning_tokens else ""
        return failed(f"truncated: the reply hit its output token limit ({line.usage.output_tokens:,} tokens{spent})")
    if reply.content is None:
        return failed(f"empty_reply: the reply has no content (finish_reason {reply.finish_reason})")
    try:
        output = TaggingReply.model_validate_json(reply.content)
    except ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            return failed("invalid_json: the reply is not JSON")
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'reply'}: {e['msg']}" for e in error.errors())
        return failed(f"schema_violation: {problems}")
    return Outcome(line.custom_id, output, None, line.usage, True, snapshot, tier)


_TIER_RATES: dict[str, RunMode] = {
    "flex": "flex",
    "batch": "batch",
    "default": "realtime",
    "auto": "realtime",
    "standard": "realtime",
}


def billing_tier(service_tier: str | None, mode: RunMode) -> RunMode:
    """The rate a response's usage is billed at: the tier it names, else the job's mode. A tier priced
    nowhere here (``priority``, ``scale``) is taken at the standard rate, the nearest one known: such a figure
    is a lower bound."""
    if service_tier is None:
        return mode
    return _TIER_RATES.get(service_tier, "realtime")


@dataclass(frozen=True, slots=True)
class TierUsage:
    """A job's usage split by the tier each response named, so that a flex job partly served at ``default`` is
    billed at the rate each line was served at. ``unnamed`` holds lines that named no tier."""

    realtime: TokenUsage = NO_USAGE
    batch: TokenUsage = NO_USAGE
    flex: TokenUsage = NO_USAGE
    unnamed: TokenUsage = NO_USAGE

    def add(self, usage: TokenUsage, service_tier: str | None) -> TierUsage:
        if service_tier is None:
            return replace(self, unnamed=self.unnamed + usage)
        tier = billing_tier(service_tier, "realtime")
        return replace(self, **{tier: getattr(self, tier) + usage})

    @property
    def total(self) -> TokenUsage:
        return self.realtime + self.batch + self.flex + self.unnamed


def cost_of_tiers(profile: ModelProfile, usage: TierUsage, *, mode: RunMode) -> Cost | None:
    """A job's cost: the whole usage at every mode's prices, and billed as its lines were served, each tier at
    its rate and lines that named none at the job's mode's. None when the model has no price."""
    prices = profile.prices
    cost = cost_of(profile, usage.total, mode=mode)
    if prices is None or cost is None:
        return None
    served = (
        usd_at(prices.realtime, usage.realtime)
        + usd_at(prices.batch, usage.batch)
        + usd_at(prices.at("flex"), usage.flex)
        + usd_at(prices.at(mode), usage.unnamed)
    )
    return replace(cost, served_usd=served)


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """A line of a result file that could not be read at all."""

    path: Path
    line: int
    problem: str


def read_outcomes(path: Path, problems: list[ParseProblem]) -> Iterator[Outcome]:
    """Stream the outcomes of one result file; unreadable lines (any bytes at all) go to ``problems``."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                result = read_result(line)
            except ValidationError as error:
                problems.append(ParseProblem(path, number, str(error.errors()[0]["msg"])))
                continue
            yield outcome_of(result)
