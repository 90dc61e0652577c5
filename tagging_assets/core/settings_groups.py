"""Two groups of the pipeline's settings, each one concern: how the requests run and are paced, and how their
tags hold a library together. ``TaggingSettings`` (``settings.py``) is made of them, so each setting is still
declared once and read once, and the configuration page lists each group after the settings of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, model_validator

from tagging_assets.core.contracts import RunMode
from tagging_assets.core.environment import KeywordSettings, shown_default

Mode = Literal["batch", "flex", "realtime", "auto"]
"""How the requests run: as a batch at half price, as flex calls at batch prices (OpenAI, Azure, Gemini), as
realtime calls now, or, for ``auto``, realtime below TAGGING_REALTIME_BELOW items and a batch above."""
MODES: tuple[Mode, ...] = get_args(Mode)
FLEX_PROVIDERS = ("openai", "azure", "gemini")
"""Flex processing is OpenAI's (``service_tier: "flex"``), Azure's and Gemini's (``serviceTier: flex``, a preview at
half price); Anthropic has no such tier."""

Vocabulary = Literal["free", "prefer", "closed"]
"""How far tags are held to the library's: free (canonical tags only), prefer the collection's most used tags, or
only the tags of TAGGING_VOCABULARY_FILE."""


class RunModeSettings(KeywordSettings):
    """How the requests run: a batch, flex or realtime calls, and the rate limits the calls keep to."""

    mode: Mode = Field(
        "batch",
        validation_alias="TAGGING_MODE",
        description="How the requests run. `batch`: the provider's Batch API, half price, within 24 hours. "
        "`flex`: realtime calls with `service_tier: flex` (OpenAI, Azure and Gemini, the models that take it), "
        "billed at batch prices, answered in minutes. `realtime`: realtime calls at standard prices, answered now. "
        "`auto`: realtime below TAGGING_REALTIME_BELOW items, a batch otherwise.",
    )
    realtime_below: int = Field(
        10,
        ge=1,
        validation_alias="TAGGING_REALTIME_BELOW",
        description="With TAGGING_MODE=auto, a submission of fewer items runs realtime, as the lesson advises for "
        "small sets (under 10 items).",
    )
    max_requests_per_minute: int | None = Field(
        None,
        ge=1,
        validation_alias="TAGGING_MAX_REQUESTS_PER_MINUTE",
        description="Realtime and flex calls are paced to this many a minute: your rate limit for the model.",
        json_schema_extra=shown_default("unlimited"),
    )
    max_tokens_per_minute: int | None = Field(
        None,
        ge=1,
        validation_alias="TAGGING_MAX_TOKENS_PER_MINUTE",
        description="Realtime and flex calls are paced to this many tokens a minute, each counted as OpenAI counts "
        "it: the larger of its output budget and its estimated input.",
        json_schema_extra=shown_default("unlimited"),
    )
    max_concurrency: int = Field(
        16,
        ge=1,
        le=1024,
        validation_alias="TAGGING_MAX_CONCURRENCY",
        description="The most realtime or flex calls in flight at once, per run.",
    )

    def mode_for(self, items: int) -> RunMode:
        """The mode a submission of ``items`` runs in: TAGGING_MODE, with ``auto`` decided by its size."""
        if self.mode != "auto":
            return self.mode
        return "realtime" if items < self.realtime_below else "batch"


class TagVocabularySettings(KeywordSettings):
    """What the requests ask for and how their tags hold a library together: the prompt, the vocabulary, the
    aliases, and when the sprawl of tags is worth a warning."""

    prompt_file: Path | None = Field(
        None,
        validation_alias="TAGGING_PROMPT_FILE",
        description="A text file holding the system prompt every request carries, on the command line, in Dagster "
        "and in the Python API alike. Its version is derived from its text, so changing it selects every item again.",
        json_schema_extra=shown_default("the bundled prompt"),
    )
    tag_aliases: Path | None = Field(
        None,
        validation_alias="TAGGING_TAG_ALIASES",
        description="A file mapping tag variants to their canonical tag, one `variant: canonical` a line (e.g. "
        "`llms: large-language-models`), applied to every reply at write-back and by `tags merge --aliases`.",
    )
    vocabulary: Vocabulary = Field(
        "free",
        validation_alias="TAGGING_VOCABULARY",
        description="`free`: any tags, made canonical at write-back. `prefer`: the collection's most used tags go "
        "into the prompt, to be reused where they fit. `closed`: only the tags of TAGGING_VOCABULARY_FILE, as an "
        "`enum` in the schema where the provider takes one.",
    )
    vocabulary_size: int = Field(
        200,
        ge=1,
        validation_alias="TAGGING_VOCABULARY_SIZE",
        description="With TAGGING_VOCABULARY=prefer, how many of the collection's most used tags the prompt names.",
    )
    vocabulary_file: Path | None = Field(
        None,
        validation_alias="TAGGING_VOCABULARY_FILE",
        description="With TAGGING_VOCABULARY=closed, the tags allowed, one canonical tag a line.",
    )
    max_single_video_tag_share: float = Field(
        0.9,
        ge=0,
        le=1,
        validation_alias="TAGGING_MAX_SINGLE_VIDEO_TAG_SHARE",
        description="The check `tag_vocabulary_coherent` warns when a larger share of the cache's tags is on one "
        "video only.",
    )
    max_near_duplicate_groups: int = Field(
        0,
        ge=0,
        validation_alias="TAGGING_MAX_NEAR_DUPLICATE_GROUPS",
        description="The check `tag_vocabulary_coherent` warns when the cache holds more groups of tags that are "
        "likely the same (one stem, an alias, one edit apart).",
    )

    @model_validator(mode="after")
    def _closed_needs_its_tags(self) -> TagVocabularySettings:
        if self.vocabulary == "closed" and self.vocabulary_file is None:
            raise ValueError("TAGGING_VOCABULARY=closed needs TAGGING_VOCABULARY_FILE, the tags allowed, one a line")
        return self
