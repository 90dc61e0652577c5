"""One exception tree for the whole library, and one translator from any error a user can act on to one line.

Every failure a user can fix is a ``TaggingError``, so each boundary (an asset's ``Failure``, the command line's
``error:`` line) catches one class and asks ``describe`` for the line, and both say the same thing about the same
failure. An SDK's own errors never reach a boundary: each provider's implementation (``batches/providers/``) turns
them into ``UnknownBatchError`` or ``BatchApiError`` with their line, in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn


class TaggingError(Exception):
    """A step cannot go on; the message says why and what to do."""


class ConfigError(TaggingError):
    """A setting, or a file a setting names (the price table), is wrong."""


class InputError(TaggingError):
    """A file given to the pipeline (transcripts to seed, requests to submit) is malformed."""


class CacheError(TaggingError):
    """The cache cannot be used: unreachable, missing, or held by another process."""


class BackendError(TaggingError):
    """No batch backend answers where the settings point."""


class BatchError(TaggingError):
    """A batch step cannot go on: the batch is unknown, unfinished, or an API call kept failing."""


class UnknownBatchError(BatchError):
    """The Batch API in use does not know the batch: it was made at another API, or with another key."""


class BatchApiError(BatchError):
    """A call to the Batch API failed after its retries; the message is the one line ``describe`` gives."""


class CostCapError(TaggingError):
    """A submission would cost more than TAGGING_MAX_COST_USD allows."""


class TokenBudgetError(BatchError):
    """Submitting now would queue more tokens than the enqueued-token budget allows; it can wait for batches."""


def api_message(body: object, message: str) -> str:
    """The API's own message for a failed call, without the SDK's framing: OpenAI's ``{"message"}`` body, or
    Anthropic's ``{"type": "error", "error": {"message"}}``; else the SDK's ``message``."""
    fields = body if isinstance(body, dict) else {}
    nested = fields.get("error")
    if isinstance(nested, dict) and nested.get("message"):
        return str(nested["message"])
    return str(fields.get("message") or message)


def describe(error: BaseException) -> str | None:
    """The one line a user sees for ``error``, or None when it is a bug rather than something they can fix."""
    return str(error) if isinstance(error, TaggingError) else None


@contextmanager
def reported(fail: Callable[[str], NoReturn]) -> Iterator[None]:
    """Hand the one line for any error a user can fix to ``fail`` (the boundary's way of stopping: a Dagster
    ``Failure``, an ``error:`` line and exit); anything else is a bug and goes up as it is."""
    try:
        yield
    except Exception as error:
        line = describe(error)
        if line is None:
            raise
        fail(line)
