"""The typed values the wire seam hands the pipeline, and what each endpoint's module offers it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from tagging_assets.core.contracts import NO_USAGE, TokenUsage
from tagging_assets.core.models import RequestOptions
from tagging_assets.core.protocol import Endpoint


@dataclass(frozen=True, slots=True)
class RequestLine:
    """What the rest of the pipeline needs to know of one input line."""

    custom_id: str
    model: str
    endpoint: Endpoint


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful HTTP exchange's reply, as far as tagging cares."""

    content: str | None
    refusal: str | None
    finish_reason: str | None
    """``stop``; ``length`` when the output limit cut it short (reasoning included); or the API's other reason."""
    problem: str | None = None
    """Why the body holds no reply at all (``no_choices: ...``), else None."""
    model: str | None = None
    """The model snapshot that answered, as the reply names it."""


@dataclass(frozen=True, slots=True)
class ResultLine:
    """One line of a result file: an HTTP status and its reply, or a failure that never reached HTTP."""

    custom_id: str
    status_code: int | None
    reply: Reply | None
    error_code: str | None
    error_message: str | None
    usage: TokenUsage = NO_USAGE
    service_tier: str | None = None
    """The tier the response says served it (``flex``, ``default``, ``batch``, ``standard``...), which may differ
    from the one asked for; None where it names none."""


class RequestBuilder(Protocol):
    """What each endpoint's seam offers the rest of the pipeline."""

    def request(self, custom_id: str, options: RequestOptions, system_prompt: str, user: str) -> BaseModel: ...

    def custom_id(self, item_id: str) -> str:
        """The ``custom_id`` an item's request goes out under; the shard's index keeps it."""
        ...


ReplyReader = Callable[[dict[str, Any]], Reply]
"""Reads the reply out of a successful body of one endpoint."""
