"""The custom_id codec: an item id spelled as each provider's ``custom_id`` allows, and read back.

OpenAI's batches take ``youtube:ID`` as it is; Anthropic's allow only ``MESSAGE_CUSTOM_ID``, so the id is mapped
into it reversibly, and the shard's index maps every ``custom_id`` back to its point either way.
"""

from __future__ import annotations

import hashlib
import re

from tagging_assets.core.protocol import MESSAGE_CUSTOM_ID

__all__ = ["MESSAGE_CUSTOM_ID", "item_id_of", "message_custom_id"]

_KEPT_IN_CUSTOM_ID = re.compile(r"[A-Za-z0-9_]")
_ESCAPED = re.compile(r"-([0-9a-f]{2})")
_HASHED_PREFIX = "h-z"


def message_custom_id(item_id: str) -> str:
    """An item id spelled as Anthropic's ``custom_id`` allows, reversibly: letters, digits and ``_`` stay, and
    each byte of anything else becomes ``-`` and two hex digits (``youtube:dQw4w9WgXcQ`` ->
    ``youtube-3adQw4w9WgXcQ``). An id too long for 64 characters that way goes by its sha256 instead, which
    ``item_id_of`` cannot reverse; the shard's index still maps it to its point."""
    spelled = "".join(
        char if _KEPT_IN_CUSTOM_ID.fullmatch(char) else "".join(f"-{byte:02x}" for byte in char.encode())
        for char in item_id
    )
    if len(spelled) <= 64:
        return spelled
    return _HASHED_PREFIX + hashlib.sha256(item_id.encode()).hexdigest()[:60]


def item_id_of(custom_id: str) -> str | None:
    """The item id a ``custom_id`` spells, for people to read: OpenAI's as they are, a Message Batch's
    reversed; None for a hashed one or one not spelled here."""
    if ":" in custom_id:
        return custom_id
    if custom_id.startswith(_HASHED_PREFIX):
        return None
    spelled = bytearray()
    position = 0
    while position < len(custom_id):
        if custom_id[position] == "-":
            escape = _ESCAPED.match(custom_id, position)
            if escape is None:
                return None
            spelled.append(int(escape.group(1), 16))
            position = escape.end()
        else:
            spelled += custom_id[position].encode()
            position += 1
    try:
        return spelled.decode()
    except UnicodeDecodeError:
        return None
