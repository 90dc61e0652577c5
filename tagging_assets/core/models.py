"""Model profiles: what each model family's requests may carry, how it reasons, and what it costs.

OpenAI's model list changes every few months, so the rules match families (glob patterns such
as ``gpt-5.*``), not a fixed list of names, and a dated snapshot (``gpt-5-mini-2025-08-07``)
matches what its family name matches. Entries are read in order and each field comes from the
first matching entry that sets it: the user's file (TAGGING_PRICING_FILE) first, then the
family rules. So a file entry that gives only a price for ``gpt-5.4-mini`` still gets the
``gpt-5.*`` request rules.

Prices come from the user's file where it prices the model, else from the genai-prices package
(pydantic/genai-prices), whose data is kept up to date by its maintainers, so this table need not
copy a price list by hand. A model that neither prices has no price at all, rather than another model's.
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
from tagging_assets.core.prices import GENAI_PRICES_SOURCE, Prices, Rates, batch_discounted, genai_prices_of
from tagging_assets.core.thinking import THINKING_EFFORTS, Thinking, ThinkingStyle, thinking_for

Temperature = Literal["any", "default-only", "without-reasoning"]
"""Which temperatures a family accepts: any; only the default (1), so none is sent; or any, but only with
``reasoning_effort: none`` (gpt-5.1 and later)."""

JsonOutput = Literal["schema", "tool"]
"""How a reply is held to the tagging schema: the endpoint's structured outputs, or (for Claude models without
them) a forced tool whose input schema it is."""

REPLY_TOKENS = 300
"""The visible reply's budget: a tags-and-summary reply runs to about 80 tokens."""
EXPECTED_REPLY_TOKENS = 80
"""What a reply is expected to take, for estimates before submitting."""
TEMPERATURE = 0.2
"""Tagging wants steady answers; sent only where the family accepts it."""

REASONING_ALLOWANCE = {"none": 0, "minimal": 1_000, "low": 4_000, "medium": 12_000, "high": 25_000, "xhigh": 50_000}
"""Room for reasoning on top of the reply, by effort. Reasoning counts against the completion limit, and a
limit it uses up leaves an empty reply; unused room costs nothing."""
EXPECTED_REASONING_TOKENS = {"none": 0, "minimal": 50, "low": 400, "medium": 1_500, "high": 4_000, "xhigh": 8_000}
"""Rough reasoning tokens per tagging request, for estimates before submitting: they are billed as output."""
UNKNOWN_FAMILY_OUTPUT_TOKENS = REPLY_TOKENS + REASONING_ALLOWANCE["low"]
"""An unknown family might reason; a limit with room for it costs nothing extra if it does not."""

_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")
"""A dated snapshot: OpenAI's ``-2025-08-07`` or Anthropic's ``-20251001``."""


class ModelEntry(BaseModel):
    """One entry of the table; a field left out is taken from the next matching entry. Prices are USD per
    million tokens and come only from the user's file: the built-in entries hold request rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float | None = Field(None, ge=0)
    cached_input: float | None = Field(None, ge=0)
    output: float | None = Field(None, ge=0)
    batch_input: float | None = Field(None, ge=0)
    batch_cached_input: float | None = Field(None, ge=0)
    batch_output: float | None = Field(None, ge=0)
    flex_input: float | None = Field(None, ge=0)
    flex_cached_input: float | None = Field(None, ge=0)
    flex_output: float | None = Field(None, ge=0)
    reasoning_efforts: tuple[str, ...] | None = None
    """The efforts the family accepts, lowest first; empty for a model that does not reason."""
    temperature: Temperature | None = None
    max_output_tokens: int | None = Field(None, ge=1)
    json_output: JsonOutput | None = None
    takes_flex: bool | None = None
    """Whether the family's requests may ask for ``service_tier: "flex"``."""
    thinking: ThinkingStyle | None = None
    """How a Gemini family thinks (``core/thinking.py``); its efforts follow from it."""
    output_limit: int | None = Field(None, ge=1)
    """The most output tokens the model writes in one reply; a request never asks for more."""
    source: str | None = None


_GPT_5 = ("minimal", "low", "medium", "high")
_GPT_5_1 = ("none", "low", "medium", "high")
_GPT_5_2 = ("none", "low", "medium", "high", "xhigh")
_O_SERIES = ("low", "medium", "high")


def _rules(
    efforts: tuple[str, ...],
    temperature: Temperature,
    *,
    takes_flex: bool = False,
    json_output: JsonOutput | None = None,
) -> ModelEntry:
    return ModelEntry(
        reasoning_efforts=efforts, temperature=temperature, takes_flex=takes_flex, json_output=json_output
    )


def _gemini(thinking: ThinkingStyle | None, output_limit: int, temperature: Temperature = "any") -> ModelEntry:
    """A Gemini family. Its efforts are derived from its thinking style where the profile is built, so an entry
    of ``TAGGING_PRICING_FILE`` that changes the style changes the efforts with it."""
    return ModelEntry(
        reasoning_efforts=None if thinking else (),
        temperature=temperature,
        takes_flex=thinking is not None,
        json_output="schema",
        thinking=thinking,
        output_limit=output_limit,
    )


def _flex_family(name: str, efforts: tuple[str, ...], temperature: Temperature) -> tuple[str, ModelEntry]:
    """A model that takes flex: named exactly, so only it and its dated snapshots match, not ``-pro`` or
    ``-chat`` relatives."""
    return name, _rules(efforts, temperature, takes_flex=True)


BUILT_IN: tuple[tuple[str, ModelEntry], ...] = (
    # The rules, by family, most specific first.
    ("gpt-5-pro*", _rules(("high",), "default-only")),
    ("gpt-5*-chat*", _rules((), "default-only")),
    *(
        _flex_family(name, _GPT_5_2, "without-reasoning")
        for name in ("gpt-5.2", "gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-5.5")
    ),
    *(_flex_family(name, _GPT_5_1, "without-reasoning") for name in ("gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna")),
    _flex_family("gpt-5.1", _GPT_5_1, "without-reasoning"),
    *(_flex_family(name, _GPT_5, "default-only") for name in ("gpt-5", "gpt-5-mini", "gpt-5-nano")),
    *(_flex_family(name, _O_SERIES, "default-only") for name in ("o3", "o4-mini")),
    ("gpt-5.*", _rules(_GPT_5_1, "without-reasoning")),
    ("gpt-[6-9]*", _rules(_GPT_5_1, "without-reasoning")),
    ("gpt-5*", _rules(_GPT_5, "default-only")),
    ("o[1-9]*", _rules(_O_SERIES, "default-only")),
    ("gpt-4*", _rules((), "any")),
    ("gpt-3.5*", _rules((), "any")),
    ("claude-opus-4-[7-9]*", _rules((), "default-only")),
    ("claude-*-4-[5-9]*", _rules((), "any", json_output="schema")),
    ("claude-*-4*", _rules((), "any", json_output="tool")),
    ("claude-3*", _rules((), "any", json_output="tool")),
    ("claude-*", _rules((), "default-only")),
    ("gemini-2.5-flash-lite*", _gemini("flash-budget", 65_536)),
    ("gemini-2.5-flash*", _gemini("flash-budget", 65_536)),
    ("gemini-2.5-pro*", _gemini("pro-budget", 65_536)),
    ("gemini-3-flash*", _gemini("flash-level", 65_536, "default-only")),
    ("gemini-3*", _gemini("pro-level", 65_536, "default-only")),
    ("gemini-2.0-flash*", _gemini(None, 8_192)),
)
"""The request rules of each family, from REFERENCE-models.md §1 (openai-python's ``reasoning_effort``
docstrings and type history).

Efforts: gpt-5.1 and the families after it take ``none`` (gpt-5.1's docstring: none, low, medium, high).
``xhigh`` is offered for gpt-5.2, gpt-5.4 (-mini, -nano) and gpt-5.5 only: the docstring from gpt-5.2's commit
(2025-12-11) to 2026-06-03 says "xhigh is supported for all models after gpt-5.1-codex-max"; by the time the
gpt-5.6 models reached the SDK (2026-07-09) it said only "not all reasoning models support every value", so
gpt-5.6-sol/-terra/-luna keep gpt-5.1's list until someone confirms more. ``minimal`` stays with the gpt-5
family (unverified for gpt-5.1: the docstring omits it). gpt-5.3-chat-latest, like every ``-chat`` model, does
not reason and takes only the default temperature.

Flex (``service_tier: "flex"``): o3, o4-mini, gpt-5, gpt-5-mini, gpt-5-nano, gpt-5.1, gpt-5.2, gpt-5.4 (-mini,
-nano), gpt-5.5 and gpt-5.6-sol/-terra/-luna, and their dated snapshots (REFERENCE-runmodes.md §2: o3/o4-mini at
launch, later guides use gpt-5.4/5.5/5.6); not gpt-4o, gpt-4.1, the ``-chat`` and ``-pro`` models, nor Claude,
which has no flex tier.

Claude's newest models (Opus 4.7 and later, the Claude 5 family) are sent no temperature: LiteLLM marks them
without sampling parameters (not confirmed against Anthropic's documentation). A model of no family here is sent
no temperature and no effort, with room to reason in case it does. Claude models before 4.5 have no structured
outputs (Anthropic lists them GA from the 4.5 models on), so their JSON comes as a forced tool's input.

Gemini (REFERENCE-runmodes.md §2-4): every family takes a JSON schema (``responseJsonSchema``) and writes up to
65,536 output tokens (2.0 Flash 8,192, and it does not think); the 2.5 and 3 families take Gemini's flex tier
(``service_tier`` flex, 50% off). Their thinking is a budget or a level, as low as each allows (``core/thinking``).
Gemini 3 models are sent no temperature: Google's Gemini 3 guide asks to keep its default of 1.0, as lower values
"can cause looping or degraded performance" (ai.google.dev/gemini-api/docs/gemini-3, "Temperature")."""


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """What a request carries besides its messages: the wire seam spells them for its endpoint."""

    model: str
    max_output_tokens: int
    temperature: float | None = None
    reasoning_effort: str | None = None
    json_output: JsonOutput = "schema"
    allowed_tags: tuple[str, ...] = ()
    """A closed vocabulary (TAGGING_VOCABULARY=closed): the only tags a reply may give, asked for as the schema's
    ``enum``; empty for any tag."""
    thinking: Thinking | None = None
    """A Gemini model's thinking budget or level; None for every other model."""


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
    """Where the prices come from: ``genai-prices <version> (...)`` or ``TAGGING_PRICING_FILE=<path>``."""
    json_output: JsonOutput = "schema"
    takes_flex: bool = False
    """Whether requests may ask for ``service_tier: "flex"``: the family table says, not the price source."""
    thinking: ThinkingStyle | None = None
    """How a Gemini model thinks, which its ``RequestOptions.thinking`` follows from; None for other models."""
    output_limit: int | None = None
    """The most output tokens the model writes; a request's ``max_output_tokens`` never exceeds it."""

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
        thinking = thinking_for(self.thinking, effort) if self.thinking and effort else None
        budget = self.max_output_tokens or REPLY_TOKENS + _thinking_room(thinking, effort)
        return RequestOptions(
            model=self.model,
            max_output_tokens=min(budget, self.output_limit) if self.output_limit else budget,
            temperature=TEMPERATURE if accepts_temperature else None,
            reasoning_effort=effort,
            json_output=self.json_output,
            thinking=thinking,
        )

    def expected_output_tokens(self, requested_effort: str | None = None) -> int:
        """A reply's expected output tokens, reasoning included, for estimates."""
        effort = self.effort(requested_effort)
        return EXPECTED_REPLY_TOKENS + EXPECTED_REASONING_TOKENS.get(effort or "none", 0)


def _thinking_room(thinking: Thinking | None, effort: str | None) -> int:
    """Room for reasoning in the output limit. A Gemini budget is the room itself, with some over, since a model
    may overrun its budget a little and thoughts count against ``maxOutputTokens``; a level, or an OpenAI
    effort, gets ``REASONING_ALLOWANCE``."""
    if thinking is not None and thinking.budget is not None:
        return thinking.budget + REASONING_ALLOWANCE["minimal"] if thinking.budget else 0
    return REASONING_ALLOWANCE.get(effort or "none", 0)


class ModelTable:
    """The table of model families, the user's entries first."""

    def __init__(self, entries: tuple[tuple[str, ModelEntry], ...] = BUILT_IN, file: Path | None = None) -> None:
        self.entries = entries
        self.file = file

    def profile(self, model: str) -> ModelProfile:
        """The profile of ``model``, each field from the first entry that matches and sets it; the prices
        from the user's file where an entry there gives input and output, else from genai-prices."""
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
        efforts = merged.reasoning_efforts
        if efforts is None and merged.thinking is not None:
            efforts = THINKING_EFFORTS[merged.thinking]
        takes_flex = bool(merged.takes_flex)
        prices, source = _file_prices(merged, takes_flex), merged.source
        if prices is None:
            family, source = None, None
            priced = genai_prices_of(model, takes_flex)
            if priced is not None:
                family, prices = priced
                source = GENAI_PRICES_SOURCE
        return ModelProfile(
            model=model,
            family=family or _DATED.sub("", model),
            prices=prices,
            reasoning_efforts=efforts or (),
            temperature=merged.temperature or "default-only",
            max_output_tokens=merged.max_output_tokens or (UNKNOWN_FAMILY_OUTPUT_TOKENS if efforts is None else None),
            source=source,
            json_output=merged.json_output or "schema",
            takes_flex=takes_flex,
            thinking=merged.thinking,
            output_limit=merged.output_limit,
        )

    def where_to_add(self) -> str:
        """The file that can add a price, for messages."""
        return f"TAGGING_PRICING_FILE={self.file}" if self.file else "the file TAGGING_PRICING_FILE names"


def _file_prices(entry: ModelEntry, takes_flex: bool) -> Prices | None:
    """The prices a file entry gives: batch at half the realtime price and flex at the batch price, unless the
    entry says otherwise."""
    if entry.input is None or entry.output is None:
        return None
    realtime = Rates(entry.input, entry.cached_input, entry.output)
    half = batch_discounted(realtime)
    batch = Rates(
        half.input if entry.batch_input is None else entry.batch_input,
        half.cached_input if entry.batch_cached_input is None else entry.batch_cached_input,
        half.output if entry.batch_output is None else entry.batch_output,
    )
    flex = None
    if takes_flex:
        flex = Rates(
            batch.input if entry.flex_input is None else entry.flex_input,
            batch.cached_input if entry.flex_cached_input is None else entry.flex_cached_input,
            batch.output if entry.flex_output is None else entry.flex_output,
        )
    return Prices(realtime, batch, flex)


def model_table(file: Path | None = None) -> ModelTable:
    """The built-in family rules, after the entries of the JSON file at ``file`` (TAGGING_PRICING_FILE), whose
    prices win over genai-prices'."""
    return _table(str(file) if file else None)


@cache
def _table(path: str | None) -> ModelTable:
    if path is None:
        return ModelTable()
    example = (
        f"TAGGING_PRICING_FILE={path} must be JSON like "
        '{"gpt-5.4-mini": {"input": 0.75, "cached_input": 0.075, "output": 4.50}} '
        "(USD per million tokens; optional batch_input, batch_cached_input, batch_output, flex_input, "
        "flex_cached_input, flex_output, takes_flex, reasoning_efforts, temperature, max_output_tokens, json_output, "
        "thinking, output_limit)"
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
