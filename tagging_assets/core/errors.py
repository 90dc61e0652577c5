"""One exception tree for the whole library, and one translator from any error a user can act on to one line.

Every failure a user can fix is a ``TaggingError``, so each boundary (an asset's ``Failure``, the command line's
``error:`` line) catches one class and asks ``describe`` for the line; the SDK's own errors are described there
too, so both boundaries say the same thing about the same failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    import anthropic
    import openai


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


def api_message(error: openai.APIStatusError | anthropic.APIStatusError) -> str:
    """The API's own message for a failed call, without the SDK's framing: OpenAI's ``{"message"}`` body, or
    Anthropic's ``{"type": "error", "error": {"message"}}``."""
    body = error.body if isinstance(error.body, dict) else {}
    nested = body.get("error")
    if isinstance(nested, dict) and nested.get("message"):
        return str(nested["message"])
    return str(body.get("message") or error.message)


def describe(error: BaseException) -> str | None:
    """The one line a user sees for ``error``, or None when it is a bug rather than something they can fix."""
    if isinstance(error, TaggingError):
        return str(error)
    return _described_sdk_error(error)


def _described_sdk_error(error: BaseException) -> str | None:
    """An SDK's error in one line. The SDKs are imported here, not when this module is: a command that never
    called one (``--help``) never pays for loading them, and one that did has them loaded already."""
    import anthropic
    import openai

    if isinstance(error, openai.AuthenticationError):
        return "the Batch API rejected the API key (check OPENAI_API_KEY, or AZURE_OPENAI_API_KEY on Azure)"
    if isinstance(error, openai.NotFoundError):
        return f"not found at the Batch API: {api_message(error)}"
    if isinstance(error, openai.APIStatusError):
        return f"the Batch API answered {error.status_code}: {api_message(error)}"
    if isinstance(error, openai.APIConnectionError):
        return "cannot reach the Batch API (check OPENAI_BASE_URL, or start `tagging-assets gateway`)"
    if isinstance(error, anthropic.AuthenticationError):
        return "Anthropic's API rejected the API key (check ANTHROPIC_API_KEY)"
    if isinstance(error, anthropic.NotFoundError):
        return f"not found at Anthropic's API: {api_message(error)}"
    if isinstance(error, anthropic.APIStatusError):
        return f"Anthropic's API answered {error.status_code}: {api_message(error)}"
    if isinstance(error, anthropic.APIConnectionError):
        return "cannot reach Anthropic's API (check ANTHROPIC_BASE_URL, or start `tagging-assets gateway`)"
    return None


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
