"""What every step of one run shares: the settings, who answers, the prompt, and the model's rules and prices.

The steps (``steps.py``) take a ``TaggingPlan`` so that the command line, the Dagster assets and the lesson's
``BatchProcessor`` select with the same prompt version they write requests with, shard to the same limits, and
price and cap a submission the same way.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from urllib.parse import urlsplit

from tagging_assets.core.contracts import PREFERRED_TAGS_HEADER, Backend, Cost, RunMode, Shard, TokenUsage
from tagging_assets.core.cost import cost_of, enforce_cap, expected_cost, unknown_price
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.models import ModelProfile, ModelTable, RequestOptions, model_table
from tagging_assets.core.prompt import SYSTEM_PROMPT, configured_prompt, prompt_version_for
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.core.shards import Limits
from tagging_assets.core.tags import NO_ALIASES, load_aliases
from tagging_assets.core.tokens import TokenCounter, counter_for
from tagging_assets.core.vocabulary import check_enum_fits, load_vocabulary

PREFIX_CACHING_PROVIDERS = ("openai", "azure")
CACHE_MINIMUM = 1_024
CACHE_STEP = 128
"""OpenAI's automatic prompt caching: prefixes of 1,024 tokens and more, cached in steps of 128."""
PREFERRED_TAGS_INSTRUCTION = (
    f"{PREFERRED_TAGS_HEADER}, in alphabetical order. Where one of them names a topic of this video, use it exactly "
    "as written rather than a new spelling; add a new tag only for a topic none of them covers."
)


def gateway_backend(base_url: str) -> Backend:
    """Who answers behind the local gateway at ``base_url``, as its ``/health`` says: a model server it runs in
    front of (``gateway --upstream``), or its offline tagger (also when it does not answer yet: a gateway the
    pipeline starts for a command runs the offline tagger)."""
    parts = urlsplit(base_url)
    try:
        with urllib.request.urlopen(f"{parts.scheme}://{parts.netloc}/health", timeout=5) as response:
            health = json.load(response)
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return "offline-tagger"
    return "upstream" if isinstance(health, dict) and health.get("backend") == "upstream" else "offline-tagger"


def answering_backend(settings: TaggingSettings) -> Backend:
    """Who answers with these settings: a Batch API, or whatever answers behind the local gateway."""
    return gateway_backend(settings.gateway_url) if settings.uses_local_gateway else "api"


@dataclass(frozen=True)
class TaggingPlan:
    """One run's choices, read from the settings once.

    ``backend`` says who answers (the local gateway's offline tagger, a model server behind it, or a real API),
    which selection needs to know whether the offline tagger's tags still stand in; ``system_prompt`` is the prompt
    every request carries, whose version marks the items it tagged.
    """

    settings: TaggingSettings
    backend: Backend
    system_prompt: str = SYSTEM_PROMPT
    preferred_tags: tuple[str, ...] = ()
    """Under TAGGING_VOCABULARY=prefer, the library's most used tags, which every request names for reuse."""

    @classmethod
    def from_settings(
        cls, settings: TaggingSettings, *, backend: Backend | None = None, system_prompt: str | None = None
    ) -> TaggingPlan:
        """The plan the settings describe; ``backend`` and ``system_prompt`` override theirs. The prompt is
        TAGGING_PROMPT_FILE's text, read now, so that a bad file is refused before anything is scanned or sent."""
        prompt = system_prompt or configured_prompt(settings.prompt_file)
        return cls(settings, backend or answering_backend(settings), prompt)

    @cached_property
    def prompt_version(self) -> str:
        return prompt_version_for(self.system_prompt)

    @property
    def request_prompt(self) -> str:
        """The system prompt the requests carry: the user's, then the preferred tags as one block. The block is the
        same for every request of a submission, so the prompt is one prefix a provider's prompt caching can
        discount; the items keep the user's prompt version, so the library's tags changing selects nothing again."""
        if not self.preferred_tags:
            return self.system_prompt
        return f"{self.system_prompt}\n\n{PREFERRED_TAGS_INSTRUCTION}\n{', '.join(self.preferred_tags)}"

    def with_preferred_tags(self, tags: tuple[str, ...]) -> TaggingPlan:
        return replace(self, preferred_tags=tags)

    @cached_property
    def aliases(self) -> Mapping[str, str]:
        """The tag aliases of TAGGING_TAG_ALIASES, read once a run; none when it is unset."""
        path = self.settings.tag_aliases
        return load_aliases(path) if path is not None else NO_ALIASES

    @cached_property
    def counter(self) -> TokenCounter:
        """Exact token counts when tiktoken has the model's encoding on this machine, else the estimate."""
        return counter_for(self.settings.model, self.settings.tiktoken_cache_dir)

    @cached_property
    def models(self) -> ModelTable:
        """The model profiles: the built-in table after TAGGING_PRICING_FILE's entries."""
        return model_table(self.settings.pricing_file)

    @cached_property
    def profile(self) -> ModelProfile:
        return self.models.profile(self.settings.model)

    @cached_property
    def request_options(self) -> RequestOptions:
        """What each request carries for the configured model and effort, naming the Azure deployment where
        there is one, with the closed vocabulary where there is one; a wrong effort is a ``ConfigError``."""
        options = self.profile.request_options(self.settings.reasoning_effort)
        return replace(options, model=self.settings.deployment, allowed_tags=self.closed_vocabulary)

    @cached_property
    def closed_vocabulary(self) -> tuple[str, ...]:
        """The tags a reply may give under TAGGING_VOCABULARY=closed, checked against what the provider's structured
        outputs can hold; empty under the other vocabularies. A vocabulary that cannot be held is a ``ConfigError``."""
        path = self.settings.vocabulary_file
        if self.settings.vocabulary != "closed" or path is None:
            return ()
        tags = load_vocabulary(path)
        check_enum_fits(tags, provider=self.settings.batch_provider, path=path)
        return tags

    @property
    def shard_limits(self) -> Limits:
        """How much one batch may hold: the API's limits, the configured request count and the token budget."""
        return Limits.for_endpoint(
            self.settings.endpoint,
            requests=self.settings.max_requests_per_file,
            tokens=self.settings.enqueued_token_limit,
        )

    def profile_of(self, requested: str) -> ModelProfile:
        """The profile of a model that requests named: the configured model's for its deployment too."""
        if requested in (self.settings.model, self.settings.deployment):
            return self.profile
        return self.models.profile(requested)

    def expected_cost(self, input_tokens: int, requests: int, *, mode: RunMode = "batch") -> Cost | None:
        """What requests of the configured model are expected to cost, billed at ``mode``, the prompt prefix they
        share counted cached after the first request where the provider caches it; None without a price."""
        cached = max(requests - 1, 0) * self.cached_prefix_tokens
        return expected_cost(
            self.profile, input_tokens, requests, self.settings.reasoning_effort, mode=mode, cached_tokens=cached
        )

    @cached_property
    def cached_prefix_tokens(self) -> int:
        """The tokens of the system prompt every request starts with that the provider's prompt cache serves:
        OpenAI (and Azure) cache a prefix of 1,024 tokens or more by itself, in steps of 128, which the library's
        tags under TAGGING_VOCABULARY=prefer can reach; Anthropic caches only what a request marks, and these do
        not mark it."""
        if self.settings.batch_provider not in PREFIX_CACHING_PROVIDERS:
            return 0
        prefix = self.counter.request_tokens([self.request_prompt])
        return prefix // CACHE_STEP * CACHE_STEP if prefix >= CACHE_MINIMUM else 0

    def expected_output_tokens(self, requests: int) -> int:
        return requests * self.profile.expected_output_tokens(self.settings.reasoning_effort)

    def cost_of(self, usage: TokenUsage, model: str | None = None, *, mode: RunMode = "batch") -> Cost | None:
        return cost_of(self.profile_of(model or self.settings.model), usage, mode=mode)

    def enforce_cap(self, cost: Cost | None, what: str, *, mode: RunMode = "batch") -> None:
        """Refuse what would cost more than TAGGING_MAX_COST_USD at ``mode``'s prices, or what has no price while
        a cap is set."""
        billed = replace(cost, mode=mode) if cost is not None else None
        enforce_cap(billed, self.settings.max_cost_usd, what, self.profile, self.models)

    def enforce_cap_on(self, shard: Shard, *, mode: RunMode = "batch") -> None:
        """The cap on one new batch, priced by the model its requests name, at ``mode``'s prices."""
        profile = self.profile_of(shard.model)
        effort = self.settings.reasoning_effort if profile is self.profile else None
        expected = expected_cost(profile, shard.input_tokens, shard.requests, effort, mode=mode)
        enforce_cap(expected, self.settings.max_cost_usd, shard.path.name, profile, self.models)

    @property
    def unknown_price(self) -> str:
        return unknown_price(self.profile, self.models)

    def check_mode(self) -> None:
        """Refuse TAGGING_MODE=flex before anything is written or sent where the model has no flex tier."""
        if self.settings.mode == "flex" and not self.profile.takes_flex:
            raise ConfigError(
                f"invalid configuration: TAGGING_MODE=flex: {self.settings.model} does not take flex processing; "
                "it runs in batch, realtime or auto"
            )

    def mode_for(self, requests: int) -> RunMode:
        """The mode a submission of ``requests`` runs in (``auto`` decided by its size)."""
        self.check_mode()
        return self.settings.mode_for(requests)
