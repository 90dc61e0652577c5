"""Request lines encoded fast: prepare writes one per transcript, so the shared part is encoded once."""

from __future__ import annotations

import json
from collections.abc import Callable

import orjson

from tagging_assets.core.models import RequestOptions
from tagging_assets.wire.dispatch import builder_for

_ID_PLACEHOLDER = "custom_id_placeholder"
"""Where the encoder's template holds the custom_id: first in every line, and valid for every endpoint."""
_USER_PLACEHOLDER = "\x00user"


def encoder(endpoint: str, options: RequestOptions, system_prompt: str) -> RequestEncoder:
    """A fast encoder of request lines for one endpoint and one set of options."""
    builder = builder_for(endpoint)
    template = builder.request(_ID_PLACEHOLDER, options, system_prompt, _USER_PLACEHOLDER)
    return RequestEncoder(template.model_dump_json(exclude_none=True), builder.custom_id)


class RequestEncoder:
    """Serialises request lines without building a model per line.

    Everything but the custom_id and the user message is the same on every line,
    so it is encoded once, and the two strings are escaped by orjson, several times
    faster than the standard library on transcript-sized text (prepare's largest
    cost after the scan). The output equals the builder's ``request(...).model_dump_json(exclude_none=True)``
    (a test holds it to that).
    """

    def __init__(self, template: str, custom_id: Callable[[str], str]) -> None:
        head, rest = template.split(json.dumps(_ID_PLACEHOLDER), 1)
        middle, tail = rest.split(json.dumps(_USER_PLACEHOLDER), 1)
        self._head, self._middle, self._tail = head.encode(), middle.encode(), f"{tail}\n".encode()
        self.custom_id = custom_id
        """The ``custom_id`` an item's request goes out under, as the endpoint spells it."""

    def encode(self, custom_id: str, user: str) -> bytes:
        return b"".join((self._head, orjson.dumps(custom_id), self._middle, orjson.dumps(user), self._tail))
