"""The models the gateway serves and OpenAI's request rules for each family, as the real API enforces them.

The pipeline has its own table of what to send (``core/models.py``); this one is the other side, written from
OpenAI's documented behaviour and errors, so a pipeline that sends what a model refuses fails here as it would
there: one line at a time, with a 400 whose ``type``, ``param`` and ``code`` are OpenAI's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SNAPSHOTS = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-5": "gpt-5-2025-08-07",
    "gpt-5-mini": "gpt-5-mini-2025-08-07",
    "gpt-5-nano": "gpt-5-nano-2025-08-07",
    "gpt-5.1": "gpt-5.1-2025-11-13",
    "gpt-5.2": "gpt-5.2-2025-12-11",
    "gpt-5.3-chat-latest": "gpt-5.3-chat-latest",
    "gpt-5.4": "gpt-5.4",
    "gpt-5.4-mini": "gpt-5.4-mini",
    "gpt-5.4-nano": "gpt-5.4-nano",
    "gpt-5.5": "gpt-5.5",
    "gpt-5.6-sol": "gpt-5.6-sol-2026-07-09",
    "gpt-5.6-terra": "gpt-5.6-terra",
    "gpt-5.6-luna": "gpt-5.6-luna",
    "o3": "o3-2025-04-16",
    "o4-mini": "o4-mini-2025-04-16",
}
"""Each served model and the dated snapshot its replies name, as OpenAI's replies do. A model whose dated snapshot
the references do not give (gpt-5.4, gpt-5.5, most of gpt-5.6, a ``-chat-latest`` alias) answers under its own
name."""

FLEX_MODELS = frozenset(
    (
        "o3",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "gpt-5.1",
        "gpt-5.2",
        "gpt-5.4",
        "gpt-5.4-mini",
        "gpt-5.4-nano",
        "gpt-5.5",
        "gpt-5.6-sol",
        "gpt-5.6-terra",
        "gpt-5.6-luna",
    )
)
"""The models that take ``service_tier: "flex"`` (and their dated snapshots): OpenAI's flex guide names o3 and
o4-mini at launch and the gpt-5 families since; gpt-4o, gpt-4.1, the ``-chat`` aliases and gpt-5-pro do not."""
SERVICE_TIERS = ("auto", "default", "flex", "scale", "priority")
"""The ``service_tier`` values OpenAI's Chat Completions and Responses take."""


@dataclass(frozen=True)
class TaggingRequest:
    """What a valid request of any endpoint asks for."""

    model: str
    snapshot: str
    user_text: str
    schema: dict[str, Any] | None
    limit: int | None
    effort: str | None
    tool: str | None = None
    """The tool an Anthropic request forces, whose input is the reply."""
    service_tier: str | None = None
    """The tier an OpenAI request asks for; ``flex`` is served slower and cheaper, when there is capacity."""


_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Family:
    """How one family of models takes requests."""

    efforts: tuple[str, ...]
    """The reasoning efforts it accepts; empty for a model that does not reason."""
    default_effort: str | None
    temperature_with_effort_none: bool
    """gpt-5.1 and later take a temperature only when they do not reason; earlier reasoning models never do."""


NOT_REASONING = Family((), None, False)
GPT_5 = Family(("minimal", "low", "medium", "high"), "medium", False)
GPT_5_1 = Family(("none", "low", "medium", "high"), "none", True)
GPT_5_2_AND_LATER = Family(("none", "low", "medium", "high", "xhigh"), "none", True)
"""As gpt-5.1, and ``xhigh``, which OpenAI's SDK says every model after gpt-5.1-codex-max (2025-12-04) takes."""
O_SERIES = Family(("low", "medium", "high"), "medium", False)

REASONING_TOKENS = {"none": 0, "minimal": 24, "low": 320, "medium": 1_280, "high": 3_840, "xhigh": 7_680}
"""The hidden reasoning a tagging request takes at each effort. It counts against the completion limit: a limit
below it leaves an empty reply with ``finish_reason: "length"``, as OpenAI's reasoning models do."""


def message_text(message: Any) -> str:
    """The text of one message of any of the three APIs: a string, or a list of text parts."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def family_of(model: str) -> Family:
    """A ``-chat`` alias does not reason (OpenAI refuses an effort on it), whatever its version."""
    name = _DATED.sub("", model)
    if "-chat" in name:
        return NOT_REASONING
    if re.fullmatch(r"gpt-5\.1(-.*)?", name):
        return GPT_5_1
    if re.fullmatch(r"gpt-5\.\d+.*", name):
        return GPT_5_2_AND_LATER
    if name.startswith("gpt-5"):
        return GPT_5
    if re.fullmatch(r"o\d.*", name):
        return O_SERIES
    return NOT_REASONING


def snapshot_of(model: str) -> str | None:
    """The dated snapshot that answers for ``model``; None for a model the gateway does not serve."""
    if model in SNAPSHOTS.values():
        return model
    return SNAPSHOTS.get(model)


def takes_flex(model: str) -> bool:
    return _DATED.sub("", model) in FLEX_MODELS


def service_tier_problem(model: str, tier: Any) -> dict[str, Any] | None:
    """The 400 a ``service_tier`` gets: a value OpenAI does not know, or ``flex`` on a model without flex.

    The flex refusal's text is the one the Codex backend (openai/codex#15099) and Azure's flex guide (HTTP 400
    ``invalid_request_error``, no fallback) show; OpenAI's exact public text is not confirmed."""
    if tier is None:
        return None
    if tier not in SERVICE_TIERS:
        supported = ", ".join(f"'{value}'" for value in SERVICE_TIERS[:-1])
        return error_body(
            f"Invalid value: {tier!r}. Supported values are: {supported}, and '{SERVICE_TIERS[-1]}'.",
            "invalid_request_error",
            "service_tier",
            "invalid_value",
        )
    if tier == "flex" and not takes_flex(model):
        return error_body("Unsupported service_tier: flex", "invalid_request_error", "service_tier")
    return None


def error_body(message: str, error_type: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """An error in OpenAI's shape."""
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def missing_parameter(param: str) -> dict[str, Any]:
    return error_body(
        f"Missing required parameter: '{param}'.", "invalid_request_error", param, "missing_required_parameter"
    )


def model_not_found(model: str) -> dict[str, Any]:
    return error_body(
        f"The model `{model}` does not exist or you do not have access to it.",
        "invalid_request_error",
        None,
        "model_not_found",
    )


def unsupported_parameter(param: str, hint: str = "") -> dict[str, Any]:
    return error_body(
        f"Unsupported parameter: '{param}' is not supported with this model.{hint}",
        "invalid_request_error",
        param,
        "unsupported_parameter",
    )


def unsupported_value(param: str, message: str) -> dict[str, Any]:
    return error_body(f"Unsupported value: '{param}' {message}", "invalid_request_error", param, "unsupported_value")


def reasoning_problem(
    model: str, effort: Any, effort_param: str, temperature: Any, max_tokens: Any
) -> dict[str, Any] | None:
    """The 400 a request for ``model`` gets for its reasoning effort, temperature or ``max_tokens``, if any."""
    family = family_of(model)
    if not family.efforts:
        if effort is not None:
            return unsupported_parameter(effort_param)
        return None
    if max_tokens is not None:
        return unsupported_parameter("max_tokens", " Use 'max_completion_tokens' instead.")
    if effort is not None and effort not in family.efforts:
        supported = ", ".join(f"'{value}'" for value in family.efforts)
        return unsupported_value(
            effort_param, f"does not support {effort!r} with this model. Supported values are: {supported}."
        )
    reasoning = (effort or family.default_effort) != "none"
    if temperature is not None and temperature != 1 and (reasoning or not family.temperature_with_effort_none):
        return unsupported_value(
            "temperature", f"does not support {temperature} with this model. Only the default (1) value is supported."
        )
    return None


def reasoning_tokens(model: str, effort: Any) -> int:
    """The reasoning a tagging request takes on ``model`` at ``effort`` (or the family's default)."""
    family = family_of(model)
    chosen = effort if isinstance(effort, str) else family.default_effort
    return REASONING_TOKENS.get(chosen or "none", 0) if family.efforts else 0
