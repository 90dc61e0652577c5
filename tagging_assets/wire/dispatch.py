"""Which endpoint's module speaks a line: the configured endpoint's for a request, the line's own shape's for a
line read back.

Another endpoint or provider is its own module and an entry here: its builder in ``BUILDERS``, and how its lines
are told apart in ``read_request`` and ``read_result`` (its reply reader in ``REPLY_READERS`` where it shares the
Batch API's file envelope).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from tagging_assets.core.errors import ConfigError
from tagging_assets.core.protocol import CHAT_COMPLETIONS, GENERATE_CONTENT, MESSAGES, RESPONSES
from tagging_assets.wire.batch_files import read_batch_file_result
from tagging_assets.wire.chat_completions import ChatCompletionRequest, ChatCompletions, chat_reply
from tagging_assets.wire.gemini import GenerateContent, read_gemini_request, read_gemini_result
from tagging_assets.wire.lines import ReplyReader, RequestBuilder, RequestLine, ResultLine
from tagging_assets.wire.messages import Messages, read_message_batch_request, read_message_batch_result
from tagging_assets.wire.responses import Responses, ResponsesRequest, response_reply

BUILDERS: dict[str, RequestBuilder] = {
    CHAT_COMPLETIONS: ChatCompletions(),
    RESPONSES: Responses(),
    MESSAGES: Messages(),
    GENERATE_CONTENT: GenerateContent(),
}
REPLY_READERS: dict[str, ReplyReader] = {"chat.completion": chat_reply, "response": response_reply}
"""The reader of a Batch API body's reply by the ``object`` the body names; one that names none is read as a
chat completion."""
_BATCH_FILE_REQUEST: TypeAdapter[ChatCompletionRequest | ResponsesRequest] = TypeAdapter(
    Annotated[ChatCompletionRequest | ResponsesRequest, Field(discriminator="url")]
)


def builder_for(endpoint: str) -> RequestBuilder:
    """The seam for one endpoint; TAGGING_ENDPOINT names it."""
    try:
        return BUILDERS[endpoint]
    except KeyError:
        raise ConfigError(
            f"invalid configuration: TAGGING_ENDPOINT={endpoint}: expected one of {', '.join(BUILDERS)}"
        ) from None


def read_request(line: bytes) -> RequestLine:
    """Validate one input line of any endpoint; a ``ValidationError`` names what is wrong with it. A Message
    Batch request is told apart by its ``params``, which OpenAI's lines (``url`` and ``body``) never have, and a
    Gemini request by its ``key`` and ``request``, where every other line has a ``custom_id``."""
    if b'"key"' in line and b'"request"' in line and b'"custom_id"' not in line:
        return read_gemini_request(line)
    if b'"params"' in line and b'"url"' not in line:
        return read_message_batch_request(line)
    request = _BATCH_FILE_REQUEST.validate_json(line)
    return RequestLine(request.custom_id, request.body.model, request.url)


def read_result(line: bytes | str) -> ResultLine:
    """Parse one result line of any endpoint; a ``ValidationError`` means it is not a result line at all. A
    Message Batch result is told apart by its ``result``, where OpenAI's lines have a ``response``; a Gemini
    result by its ``key``, where every other line has a ``custom_id``."""
    raw = line.encode() if isinstance(line, str) else line
    if b'"key"' in raw and b'"custom_id"' not in raw:
        return read_gemini_result(raw)
    if b'"result"' in raw and b'"response"' not in raw:
        return read_message_batch_result(raw)
    return read_batch_file_result(line, _reply_reader)


def _reply_reader(body: dict[str, Any]) -> ReplyReader:
    kind = body.get("object")
    return REPLY_READERS.get(kind, chat_reply) if isinstance(kind, str) else chat_reply
