"""Token counts as the gateway estimates them, with no tokenizer to download: the protocols' characters-per-token
rule of thumb, plus four tokens of framing per message and three per reply. The counts are estimates."""

from __future__ import annotations

import math
from typing import Any

from tagging_assets.core.contracts import PREFERRED_TAGS_HEADER
from tagging_assets.core.protocol import CHARS_PER_TOKEN
from tagging_assets.gateway.models import message_text

TOKENS_PER_MESSAGE = 4
TOKENS_PER_REPLY = 3
CACHE_MINIMUM, CACHE_STEP = 1024, 128


def estimate_tokens(text: str) -> int:
    """Tokens in ``text`` by the documented estimate."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_tokens(body: dict[str, Any]) -> int:
    """Estimated input tokens of a chat completion or a response request body."""
    return TOKENS_PER_REPLY + sum(TOKENS_PER_MESSAGE + estimate_tokens(text) for _, text in _turns(body))


def input_characters(body: dict[str, Any]) -> int:
    """The characters of every turn of a request, instructions included: what OpenAI's rate limiter estimates
    a request's input from."""
    return sum(len(text) for _, text in _turns(body))


def user_text(body: dict[str, Any]) -> str:
    """What a request of any endpoint asks to tag: its user turns, as each endpoint's reader takes them."""
    return "\n\n".join(text for role, text in _turns(body) if role == "user")


def preferred_tags(body: dict[str, Any]) -> list[str]:
    """The library's tags a request's system prompt asks to reuse (TAGGING_VOCABULARY=prefer), listed on the last
    line of the block its header opens; none without one."""
    system = "\n\n".join(text for role, text in _turns(body) if role != "user")
    if PREFERRED_TAGS_HEADER not in system:
        return []
    listed = system.rsplit(PREFERRED_TAGS_HEADER, 1)[1].rstrip().rsplit("\n", 1)[-1]
    return [tag.strip() for tag in listed.split(",") if tag.strip()]


def cached_tokens(body: dict[str, Any]) -> int:
    """The prompt prefix OpenAI's cache would serve: the instructions, in steps of 128 tokens, once they reach
    1,024 (shorter prefixes are never cached). The gateway treats the cache as warm."""
    system = sum(TOKENS_PER_MESSAGE + estimate_tokens(text) for role, text in _turns(body) if role != "user")
    return (system // CACHE_STEP) * CACHE_STEP if system >= CACHE_MINIMUM else 0


def _turns(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) of every turn of any endpoint's body; the Responses API's instructions and Gemini's
    ``systemInstruction`` are a system turn, Gemini's ``contents`` its user and model turns."""
    turns: list[tuple[str, str]] = []
    instruction = body.get("systemInstruction", body.get("system_instruction"))
    if isinstance(instruction, dict):
        turns.append(("system", parts_text(instruction)))
    contents = body.get("contents")
    if isinstance(contents, list):
        turns.extend((str(c.get("role") or "user"), parts_text(c)) for c in contents if isinstance(c, dict))
    system = body.get("instructions", body.get("system"))
    if isinstance(system, str):
        turns.append(("system", system))
    messages = body.get("messages", body.get("input"))
    if isinstance(messages, str):
        turns.append(("user", messages))
    elif isinstance(messages, list):
        turns.extend((str(m.get("role", "user")), message_text(m)) for m in messages if isinstance(m, dict))
    return turns


def parts_text(content: dict[str, Any]) -> str:
    """The text of a Gemini ``Content``: its text parts, joined."""
    parts = content.get("parts")
    if not isinstance(parts, list):
        return ""
    return "\n".join(part["text"] for part in parts if isinstance(part, dict) and isinstance(part.get("text"), str))
