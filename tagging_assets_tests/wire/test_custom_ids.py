"""The custom_id codec: every item id goes out under a custom_id its provider accepts, and reads back."""

import re

from hypothesis import given
from hypothesis import strategies as st

from tagging_assets.core.protocol import MESSAGE_CUSTOM_ID
from tagging_assets.wire import item_id_of, message_custom_id


def test_a_video_id_is_spelled_for_anthropic_by_escaping_its_colon():
    assert message_custom_id("youtube:dQw4w9WgXcQ") == "youtube-3adQw4w9WgXcQ"
    assert item_id_of("youtube-3adQw4w9WgXcQ") == item_id_of("youtube:dQw4w9WgXcQ") == "youtube:dQw4w9WgXcQ"


@given(st.text(min_size=1, max_size=40))
def test_every_item_id_becomes_a_message_batch_custom_id_and_back(item_id: str) -> None:
    custom_id = message_custom_id(item_id)
    assert re.fullmatch(MESSAGE_CUSTOM_ID, custom_id)
    assert item_id_of(custom_id) in (item_id, None)
    if len(item_id.encode()) <= 21:
        assert item_id_of(custom_id) == item_id, "an id of up to 21 bytes always fits, escaped, in 64 characters"
    assert message_custom_id(item_id + "x") != custom_id
