"""The one seam that knows what goes over the wire: a batch's request lines and its result lines.

Everything else in the package speaks in ``RequestOptions``, ``RequestLine``, ``ResultLine`` and ``Reply``:
selection, sharding, write-back, the checks and the Dagster layer never look inside a request body or a reply.
Each endpoint family has its own module, holding the models of its request lines, its builder and the reader of
its replies: OpenAI's Batch API files for ``/v1/chat/completions`` (``chat_completions``) and ``/v1/responses``
(``responses``), whose result envelope both share (``batch_files``), Anthropic's Message Batches
(``messages``), and Gemini's batches of ``generateContent`` requests (``gemini``, whose lines name no model).
``dispatch`` picks one by endpoint or by a line's shape, so another endpoint or provider is one module more and
an entry there; ``realtime`` sends any of these lines as a realtime call and writes its answer as that
provider's result line. What a model accepts comes from its profile (``core/models.py``), as ``RequestOptions``;
the endpoint paths and other protocol facts come from ``core/protocol.py``.
"""

from tagging_assets.wire.batch_files import BatchLineError, BatchResponse, BatchResult
from tagging_assets.wire.chat_completions import ChatCompletionBody, ChatCompletionRequest, ChatCompletions
from tagging_assets.wire.custom_ids import MESSAGE_CUSTOM_ID, item_id_of, message_custom_id
from tagging_assets.wire.dispatch import BUILDERS, REPLY_READERS, builder_for, read_request, read_result
from tagging_assets.wire.encoding import RequestEncoder, encoder
from tagging_assets.wire.gemini import (
    GOOGLE_ERROR_STATUS,
    GeminiError,
    GeminiRequest,
    GeminiRequestBody,
    GeminiResult,
    GenerateContent,
    GenerationConfig,
    gemini_reply,
    gemini_usage,
    read_gemini_request,
    read_gemini_result,
)
from tagging_assets.wire.lines import Reply, ReplyReader, RequestBuilder, RequestLine, ResultLine
from tagging_assets.wire.messages import (
    ANTHROPIC_ERROR_STATUS,
    MessageBatchOutcome,
    MessageBatchRequest,
    MessageBatchResult,
    MessageParams,
    Messages,
)
from tagging_assets.wire.responses import Responses, ResponsesBody, ResponsesRequest
from tagging_assets.wire.schema import SCHEMA_NAME, tagging_json_schema, tagging_response_format, tagging_text_format

__all__ = [
    "ANTHROPIC_ERROR_STATUS",
    "BUILDERS",
    "GOOGLE_ERROR_STATUS",
    "MESSAGE_CUSTOM_ID",
    "REPLY_READERS",
    "SCHEMA_NAME",
    "BatchLineError",
    "BatchResponse",
    "BatchResult",
    "ChatCompletionBody",
    "ChatCompletionRequest",
    "ChatCompletions",
    "GeminiError",
    "GeminiRequest",
    "GeminiRequestBody",
    "GeminiResult",
    "GenerateContent",
    "GenerationConfig",
    "MessageBatchOutcome",
    "MessageBatchRequest",
    "MessageBatchResult",
    "MessageParams",
    "Messages",
    "Reply",
    "ReplyReader",
    "RequestBuilder",
    "RequestEncoder",
    "RequestLine",
    "Responses",
    "ResponsesBody",
    "ResponsesRequest",
    "ResultLine",
    "builder_for",
    "encoder",
    "gemini_reply",
    "gemini_usage",
    "item_id_of",
    "message_custom_id",
    "read_gemini_request",
    "read_gemini_result",
    "read_request",
    "read_result",
    "tagging_json_schema",
    "tagging_response_format",
    "tagging_text_format",
]
