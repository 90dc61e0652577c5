"""One chat completion, response or message, answered by the offline tagger: the work behind the realtime
endpoints and every line of a batch. Each endpoint's reader checks the request, the tagger finds the tags, the
injected faults spoil the reply, and each endpoint's builder shapes it.

It runs in worker processes, so it takes and returns plain data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

from tagging_assets.core.contracts import MIN_TAGS
from tagging_assets.core.protocol import CHARS_PER_TOKEN, MESSAGES, RESPONSES
from tagging_assets.gateway.gemini import (
    GeminiRefusal,
    as_google_error,
    generate_content_response,
    google_error,
    read_generate_content,
    thinking_tokens,
)
from tagging_assets.gateway.messages import anthropic_error, error_kind, message, read_message
from tagging_assets.gateway.models import TaggingRequest, error_body, reasoning_tokens
from tagging_assets.gateway.openai_requests import read_chat, read_responses
from tagging_assets.gateway.paths import gemini_model
from tagging_assets.gateway.refusals import flex_unavailable
from tagging_assets.gateway.replies import (
    Reply,
    Usage,
    chat_completion,
    contract,
    fill,
    max_tags,
    messy,
    response,
    vocabulary_of,
)
from tagging_assets.gateway.settings import FaultSettings
from tagging_assets.gateway.tagger import BatchTerms, Tagging, tag_from_vocabulary, tag_text
from tagging_assets.gateway.tokens import (
    TOKENS_PER_REPLY,
    cached_tokens,
    estimate_tokens,
    preferred_tags,
    prompt_tokens,
)

logger = logging.getLogger(__name__)
REFUSAL = "I'm sorry, but I can't help with that request."
FEW_TAGS_SHARE = 0.25
"""The share of messy replies left with only two usable tags."""


def _reusing(preferred: list[str], text: str, own: Tagging, most: int) -> Tagging:
    """The tags a model asked to reuse the library's would give: the library's tags the text mentions most first
    (leaving room for two of its own), then its own, as many as the schema takes."""
    if not preferred:
        return own
    reused = tag_from_vocabulary(text, preferred, max_tags=max(most - 2, 1)).tags
    return Tagging(tags=list(dict.fromkeys([*reused, *own.tags]))[:most], summary=own.summary)


def request_id(key: str) -> str:
    """A stable id for one request, so a replayed line keeps its id."""
    return "req_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def answer(
    endpoint: str,
    body: dict[str, Any],
    key: str,
    tagger: str,
    faults: FaultSettings,
    batch: BatchTerms | None,
    *,
    realtime: bool = False,
) -> tuple[int, dict[str, Any]]:
    """``complete``, with an unexpected failure answered as a 500 for that one request (in Google's shape on
    Gemini's endpoint, else OpenAI's), so one strange request never stops the batch it is in."""
    try:
        return complete(endpoint, body, key, tagger, faults, batch, realtime=realtime)
    except Exception:
        logger.exception("request %s failed inside the gateway", key)
        error = error_body("The server had an error while processing your request. Sorry about that!", "server_error")
        return 500, as_google_error(500, error) if gemini_model(endpoint) else error


def complete(
    endpoint: str,
    body: dict[str, Any],
    key: str,
    tagger: str,
    faults: FaultSettings,
    batch: BatchTerms | None = None,
    *,
    realtime: bool = False,
) -> tuple[int, dict[str, Any]]:
    """Answer one ``/v1/chat/completions``, ``/v1/responses``, ``/v1/messages`` or Gemini ``generateContent`` body:
    ``(http_status, response_body)``.

    ``key`` identifies the request (the custom_id in a batch) and decides which
    injected faults hit it; ``batch`` holds the terms of the batch it is in (none in realtime).
    Flex capacity is a realtime matter: only a ``realtime`` request meets the flex faults.
    """
    if faults.seconds_per_line:
        time.sleep(faults.seconds_per_line)
    gemini = gemini_model(endpoint)
    if gemini is not None:
        try:
            request: TaggingRequest | tuple[int, dict[str, Any]] = read_generate_content(body, gemini, faults)
        except GeminiRefusal as refused:
            return refused.status, google_error(refused.status, str(refused))
    else:
        readers = {RESPONSES: read_responses, MESSAGES: read_message}
        request = readers.get(endpoint, read_chat)(body, faults)
    if not isinstance(request, TaggingRequest):
        return request
    tier = "default"
    if request.service_tier == "flex":
        if realtime and faults.picks("flex_unavailable", key, faults.flex_unavailable_rate):
            return 429, as_google_error(429, flex_unavailable()) if gemini else flex_unavailable()
        tier = "default" if realtime and faults.picks("flex_default", key, faults.flex_served_default_rate) else "flex"
    if faults.picks("line_error", key, faults.line_error_rate):
        status = faults.line_error_status
        error = _injected_error(status)
        if gemini is not None:
            return status, as_google_error(status, error)
        return status, anthropic_error(error_kind(status), error["error"]["message"]) if endpoint == MESSAGES else error
    text = request.user_text
    vocabulary, most = vocabulary_of(request.schema), max_tags(request.schema)
    if tagger == "echo":
        tagging = _echo(text)
    elif vocabulary:
        tagging = tag_from_vocabulary(text, vocabulary, max_tags=most)
    else:
        tagging = _reusing(preferred_tags(body), text, tag_text(text, max_tags=most, batch=batch), most)
    refusal = None
    limit = request.limit
    if faults.picks("refusal", key, faults.refusal_rate):
        content, refusal = None, REFUSAL
    elif faults.picks("invalid_json", key, faults.invalid_json_rate):
        content = json.dumps({"tags": tagging.tags, "summary": tagging.summary})[: len(tagging.summary) // 2 + 12]
    elif faults.picks("schema_violation", key, faults.schema_violation_rate):
        content = json.dumps({"tags": ", ".join(tagging.tags)})
    elif faults.picks("messy_tags", key, faults.messy_tags_rate):
        content = json.dumps(messy(tagging, few=faults.picks("few_tags", key, FEW_TAGS_SHARE)))
    elif faults.picks("length", key, faults.length_rate):
        content = json.dumps(contract(tagging))
        limit = TOKENS_PER_REPLY + estimate_tokens(content) // 2
    else:
        schema = request.schema
        content = json.dumps(fill(schema, tagging, "reply") if schema else contract(tagging), ensure_ascii=False)
    reasoning = thinking_tokens(request.effort) if gemini else reasoning_tokens(request.model, request.effort)
    visible = TOKENS_PER_REPLY + estimate_tokens(content or refusal or "")
    finished = True
    if isinstance(limit, int) and reasoning >= limit:
        reasoning, visible, content, refusal, finished = limit, 0, "", None, False
    elif content is not None and isinstance(limit, int) and reasoning + visible > limit:
        visible = limit - reasoning
        content = content[: max(0, (visible - TOKENS_PER_REPLY) * CHARS_PER_TOKEN)]
        finished = False
    usage = Usage(prompt_tokens(body), cached_tokens(body), reasoning + visible, reasoning)
    reply = Reply(content, refusal, finished, usage, tier)
    if gemini is not None:
        return 200, generate_content_response(key, request, reply)
    if endpoint == MESSAGES:
        counts = (usage.input_tokens, usage.cached_tokens, usage.output_tokens)
        anthropic_tier = "standard" if realtime else "batch"
        return 200, message(key, request, reply.content, reply.refusal, reply.finished, counts, anthropic_tier)
    if endpoint == RESPONSES:
        return 200, response(body, request, key, reply)
    return 200, chat_completion(request, key, reply)


def _injected_error(status: int) -> dict[str, Any]:
    if status >= 500:
        return error_body("The server had an error while processing your request. Sorry about that!", "server_error")
    if status == 429:
        return error_body("Rate limit reached for requests.", "requests", None, "rate_limit_exceeded")
    return error_body("The request was rejected (injected fault).", "invalid_request_error")


def _echo(text: str) -> Tagging:
    """The trivial tagger: the first words back. It measures the server, not the tagger."""
    words = ["".join(ch for ch in word.lower() if ch.isalnum()) for word in text.split()[:40]]
    words = [word for word in words if word]
    return Tagging(tags=words[:MIN_TAGS], summary=" ".join(words[:20]))
