"""Model profiles: what each model family's requests may carry, how it reasons, and what it costs.

OpenAI's model list changes every few months, so the rules match families (glob patterns such
as ``gpt-5.*``), not a fixed list of names, and a dated snapshot (``gpt-5-mini-2025-08-07``)
matches what its family name matches. Entries are read in order and each field comes from the
first matching entry that sets it: the user's file (TAGGING_PRICING_FILE) first, then the
prices of named models, then the family rules. So a file entry that gives only a price for
``gpt-5.4-mini`` still gets the ``gpt-5.*`` request rules, and a model that no entry prices
has no price at all, rather than another model's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tagging_assets.core.errors import ConfigError

Temperature = Literal["any", "default-only", "without-reasoning"]
"""Which temperatures a family accepts: any; only the default (1), so none is sent; or any, but only with
``reasoning_effort: none`` (gpt-5.1 and later)."""

JsonOutput = Literal["schema", "tool"]
"""How a reply is held to the tagging schema: the endpoint's structured outputs, or (for Claude models without
them) a forced tool whose input schema it is."""

PRICES_SOURCE = (
    "LiteLLM model_prices_and_context_window.json (about July 2026), cross-checked against OpenAI's model "
    "pages; USD per million tokens at realtime (standard) rates"
)
BATCH_DISCOUNT = 0.5
"""The Batch API bills half the realtime price, cached input included (OpenAI quotes it for the gpt-5 family;
for the older families only the input and output discounts are confirmed)."""

REPLY_TOKENS = 300
"""The visible reply's budget: a tags-and-summary reply runs to about 80 tokens."""
EXPECTED_REPLY_TOKENS = 80
"""What a reply is expected to take, for estimates before submitting."""
TEMPERATURE = 0.2
"""Tagging wants steady answers; sent only where the family accepts it."""

REASONING_ALLOWANCE = {"none": 0, "minimal": 1_000, "low": 4_000, "medium": 12_000, "high": 25_000}
"""Room for reasoning on top of the reply, by effort. Reasoning counts against the completion limit, and a
limit it uses up leaves an empty reply; unused room costs nothing."""
EXPECTED_REASONING_TOKENS = {"none": 0, "minimal": 50, "low": 400, "medium": 1_500, "high": 4_000}
"""Rough reasoning tokens per tagging request, for estimates before submitting: they are billed as output."""
UNKNOWN_FAMILY_OUTPUT_TOKENS = REPLY_TOKENS + REASONING_ALLOWANCE["low"]
"""An unknown family might reason; a limit with room for it costs nothing extra if it does not."""

_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")
"""A dated snapshot: OpenAI's ``-2025-08-07`` or Anthropic's ``-20251001``."""


class ModelEntry(BaseModel):
    """One entry of the table; a field left out is taken from the next matching entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float | None = Field(None, ge=0)
    cached_input: float | None = Field(None, ge=0)
    output: float | None = Field(None, ge=0)
    reasoning_efforts: tuple[str, ...] | None = None
    """The efforts the family accepts, lowest first; empty for a model that does not reason."""
    temperature: Temperature | None = None
    max_output_tokens: int | None = Field(None, ge=1)
    json_output: JsonOutput | None = None
    source: str | None = None


CLAUDE_PRICES_SOURCE = (
    "Anthropic's pricing page (platform.claude.com/docs/en/about-claude/pricing, 2026): base input, cache hit, "
    "output, USD per million tokens; Message Batches bill half"
)


def _priced(input_: float, cached: float, output: float, source: str = PRICES_SOURCE) -> ModelEntry:
    return ModelEntry(input=input_, cached_input=cached, output=output, source=source)


_GPT_5 = ("minimal", "low", "medium", "high")
_GPT_5_1 = ("none", "low", "medium", "high")
_O_SERIES = ("low", "medium", "high")

BUILT_IN: tuple[tuple[str, ModelEntry], ...] = (
    ("gpt-4o-mini", _priced(0.15, 0.075, 0.60)),
    ("gpt-4o", _priced(2.50, 1.25, 10.00)),
    ("gpt-4.1", _priced(2.00, 0.50, 8.00)),
    ("gpt-4.1-mini", _priced(0.40, 0.10, 1.60)),
    ("gpt-4.1-nano", _priced(0.10, 0.025, 0.40)),
    ("gpt-5", _priced(1.25, 0.125, 10.00)),
    ("gpt-5-mini", _priced(0.25, 0.025, 2.00)),
    ("gpt-5-nano", _priced(0.05, 0.005, 0.40)),
    ("gpt-5.1", _priced(1.25, 0.125, 10.00)),
    ("o3", _priced(2.00, 0.50, 8.00)),
    ("o4-mini", _priced(1.10, 0.275, 4.40)),
    ("claude-haiku-4-5", _priced(1.00, 0.10, 5.00, CLAUDE_PRICES_SOURCE)),
    ("claude-sonnet-4-5", _priced(3.00, 0.30, 15.00, CLAUDE_PRICES_SOURCE)),
    *((f"claude-opus-4-{minor}", _priced(5.00, 0.50, 25.00, CLAUDE_PRICES_SOURCE)) for minor in (5, 6, 7, 8)),
    # The rules, by family, most specific first.
    ("gpt-5-pro*", ModelEntry(reasoning_efforts=("high",), temperature="default-only")),
    ("gpt-5*-chat*", ModelEntry(reasoning_efforts=(), temperature="default-only")),
    ("gpt-5.*", ModelEntry(reasoning_efforts=_GPT_5_1, temperature="without-reasoning")),
    ("gpt-[6-9]*", ModelEntry(reasoning_efforts=_GPT_5_1, temperature="without-reasoning")),
    ("gpt-5*", ModelEntry(reasoning_efforts=_GPT_5, temperature="default-only")),
    ("o[1-9]*", ModelEntry(reasoning_efforts=_O_SERIES, temperature="default-only")),
    ("gpt-4*", ModelEntry(reasoning_efforts=(), temperature="any")),
    ("gpt-3.5*", ModelEntry(reasoning_efforts=(), temperature="any")),
    ("claude-opus-4-[7-9]*", ModelEntry(reasoning_efforts=(), temperature="default-only")),
    ("claude-*-4-[5-9]*", ModelEntry(reasoning_efforts=(), temperature="any", json_output="schema")),
    ("claude-*-4*", ModelEntry(reasoning_efforts=(), temperature="any", json_output="tool")),
    ("claude-3*", ModelEntry(reasoning_efforts=(), temperature="any", json_output="tool")),
    ("claude-*", ModelEntry(reasoning_efforts=(), temperature="default-only")),
)
"""Prices for the models in REFERENCE-models.md, then the request rules of each family. Claude's newest
models (Opus 4.7 and later, the Claude 5 family) are sent no temperature: LiteLLM marks them without sampling
parameters (not confirmed against Anthropic's documentation). A model of no family
here is sent no temperature and no effort, with room to reason in case it does. Claude models before 4.5 have
no structured outputs (Anthropic lists them GA from the 4.5 models on), so their JSON comes as a forced tool's
input."""


@dataclass(frozen=True, slots=True)
class Prices:
    """Realtime USD per million tokens; a model without a cached rate bills cached input at the input rate."""

    input: float
    cached_input: float | None
    output: float


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """What a request carries besides its messages: the wire seam spells them for its endpoint."""

    model: str
    max_output_tokens: int
    temperature: float | None = None
    reasoning_effort: str | None = None
    json_output: JsonOutput = "schema"


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """One model's resolved profile."""

    model: str
    family: str
    """The name it is priced under, or its own name without a snapshot date when nothing prices it."""
    prices: Prices | None
    reasoning_efforts: tuple[str, ...]
    temperature: Temperature
    max_output_tokens: int | None
    source: str | None
    json_output: JsonOutput = "schema"

    @property
    def reasons(self) -> bool:
        return bool(self.reasoning_efforts)

    def effort(self, requested: str | None) -> str | None:
        """The reasoning effort to ask for: the one requested, else the family's lowest."""
        if not self.reasons:
            if requested is not None:
                raise ConfigError(
                    f"invalid configuration: TAGGING_REASONING_EFFORT={requested}: {self.model} is not a reasoning "
                    "model; unset it"
                )
            return None
        if requested is None:
            return self.reasoning_efforts[0]
        if requested not in self.reasoning_efforts:
            raise ConfigError(
                f"invalid configuration: TAGGING_REASONING_EFFORT={requested}: {self.model} accepts "
                f"{', '.join(self.reasoning_efforts)}"
            )
        return requested

    def request_options(self, requested_effort: str | None = None) -> RequestOptions:
        """The options a tagging request for this model carries, within its family's rules."""
        effort = self.effort(requested_effort)
        accepts_temperature = self.temperature == "any" or (
            self.temperature == "without-reasoning" and effort == "none"
        )
        budget = self.max_output_tokens or REPLY_TOKENS + REASONING_ALLOWANCE.get(effort or "none", 0)
        return RequestOptions(
            model=self.model,
            max_output_tokens=budget,
            temperature=TEMPERATURE if accepts_temperature else None,
            reasoning_effort=effort,
            json_output=self.json_output,
        )

    def expected_output_tokens(self, requested_effort: str | None = None) -> int:
        """A reply's expected output tokens, reasoning included, for estimates."""
        effort = self.effort(requested_effort)
        return EXPECTED_REPLY_TOKENS + EXPECTED_REASONING_TOKENS.get(effort or "none", 0)


class ModelTable:
    """The table of model families, the user's entries first."""

    def __init__(self, entries: tuple[tuple[str, ModelEntry], ...] = BUILT_IN, file: Path | None = None) -> None:
        self.entries = entries
        self.file = file

    def profile(self, model: str) -> ModelProfile:
        """The profile of ``model``, each field from the first entry that matches and sets it."""
        names = {model, _DATED.sub("", model)}
        fields: dict[str, object] = {}
        family = None
        for pattern, entry in self.entries:
            if not any(fnmatchcase(name, pattern) for name in names):
                continue
            for name, value in entry.model_dump(exclude_none=True).items():
                fields.setdefault(name, value)
            if family is None and entry.input is not None:
                family = pattern
        merged = ModelEntry.model_validate(fields)
        prices = None
        if merged.input is not None and merged.output is not None:
            prices = Prices(merged.input, merged.cached_input, merged.output)
        return ModelProfile(
            model=model,
            family=family or _DATED.sub("", model),
            prices=prices,
            reasoning_efforts=merged.reasoning_efforts or (),
            temperature=merged.temperature or "default-only",
            max_output_tokens=merged.max_output_tokens
            or (UNKNOWN_FAMILY_OUTPUT_TOKENS if merged.reasoning_efforts is None else None),
            source=merged.source,
            json_output=merged.json_output or "schema",
        )

    def where_to_add(self) -> str:
        """The file that can add a price, for messages."""
        return f"TAGGING_PRICING_FILE={self.file}" if self.file else "the file TAGGING_PRICING_FILE names"


def model_table(file: Path | None = None) -> ModelTable:
    """The built-in table, after the entries of the JSON file at ``file`` (TAGGING_PRICING_FILE)."""
    return _table(str(file) if file else None)


@cache
def _table(path: str | None) -> ModelTable:
    if path is None:
        return ModelTable()
    example = (
        f"TAGGING_PRICING_FILE={path} must be JSON like "
        '{"gpt-5.4-mini": {"input": 0.75, "cached_input": 0.075, "output": 4.50}} '
        "(USD per million tokens; optional reasoning_efforts, temperature, max_output_tokens, json_output)"
    )
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"{example}: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{example}: the file holds one JSON object, keyed by model name or pattern")
    entries: list[tuple[str, ModelEntry]] = []
    for name, entry in raw.items():
        try:
            parsed = ModelEntry.model_validate(entry)
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(map(str, (name, *problem["loc"])))
            raise ConfigError(f"{example}: {where}: {problem['msg']}") from None
        if parsed.source is None and parsed.input is not None:
            parsed = parsed.model_copy(update={"source": f"TAGGING_PRICING_FILE={path}"})
        entries.append((str(name), parsed))
    return ModelTable((*entries, *BUILT_IN), Path(path))
