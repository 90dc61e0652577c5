"""A batch's usage summed from its finished lines, whichever API's replies they hold."""

from __future__ import annotations

from typing import Any


def add_usage(usage: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """The batch's usage with the lines' added: a chat completion's, a response's, a Message's or a Gemini
    response's, in the batch's own shape (a Message counts its cache reads apart from its input, a Gemini response
    its thoughts apart from its output). An upstream model server may leave out
    the usage or its details: what it leaves out counts as nothing."""
    input_tokens, output_tokens = usage["input_tokens"], usage["output_tokens"]
    cached = usage["input_tokens_details"]["cached_tokens"]
    reasoning = usage["output_tokens_details"]["reasoning_tokens"]
    for record in records:
        if "result" in record:
            message = record["result"]["message"]["usage"]
            read = message["cache_read_input_tokens"]
            input_tokens, cached = input_tokens + message["input_tokens"] + read, cached + read
            output_tokens += message["output_tokens"]
            continue
        if "usageMetadata" in record["response"]:
            gemini = record["response"]["usageMetadata"]
            thoughts = gemini.get("thoughtsTokenCount") or 0
            input_tokens += gemini.get("promptTokenCount") or 0
            output_tokens += (gemini.get("candidatesTokenCount") or 0) + thoughts
            cached += gemini.get("cachedContentTokenCount") or 0
            reasoning += thoughts
            continue
        body = record["response"]["body"]
        line = (body.get("usage") if isinstance(body, dict) else None) or {}
        chat = "prompt_tokens" in line
        input_details = line.get("prompt_tokens_details" if chat else "input_tokens_details") or {}
        output_details = line.get("completion_tokens_details" if chat else "output_tokens_details") or {}
        input_tokens += line.get("prompt_tokens" if chat else "input_tokens") or 0
        output_tokens += line.get("completion_tokens" if chat else "output_tokens") or 0
        cached += input_details.get("cached_tokens") or 0
        reasoning += output_details.get("reasoning_tokens") or 0
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    }
