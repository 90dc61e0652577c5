"""Reading a reply body's untyped JSON leniently: a field of the wrong type reads as absent, so one odd reply
costs one item, never the batch."""

from __future__ import annotations

from typing import Any


def object_of(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def count_of(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def text_of(value: Any) -> str | None:
    return value if isinstance(value, str) else None
