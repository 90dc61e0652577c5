"""The ``messy_tags_rate`` fault: replies whose tags are spelled as a straying model spells them, through the
OpenAI SDK in a batch and in realtime, still meaning the tagger's tags; some keep only two usable tags."""

from __future__ import annotations

import re

from tagging_assets.core.contracts import GENERIC_TAGS, MAX_TAGS, TAG_PATTERN, TaggingOutput, TaggingReply
from tagging_assets.core.tags import canonicalize
from tagging_assets_tests.support import jsonl, read_lines, request_line, submit, wait_for

TEXTS = [
    "Speculative decoding speeds up language model inference. Speculative decoding uses a draft model.",
    "Vector databases store embeddings. Vector databases build HNSW indexes for approximate nearest neighbours.",
    "Kubernetes schedules containers. Kubernetes operators reconcile custom resources in the cluster.",
]


def _replies(client, batch) -> dict[str, TaggingReply]:
    messages = {
        line["custom_id"]: line["response"]["body"]["choices"][0]["message"]
        for line in read_lines(client, batch.output_file_id)
    }
    return {custom_id: TaggingReply.model_validate_json(message["content"]) for custom_id, message in messages.items()}


def test_messy_replies_break_the_format_but_keep_their_shape_and_meaning(start_gateway):
    client = start_gateway(messy_tags_rate=1.0).client()
    lines = [request_line(f"n{n}", TEXTS[n % len(TEXTS)]) for n in range(60)]
    batch = wait_for(client, submit(client, jsonl(lines)).id)
    assert batch.request_counts.completed == 60

    replies = _replies(client, batch)
    assert len(replies) == 60
    few = 0
    for reply in replies.values():
        canonical = canonicalize(reply.tags)
        assert len(reply.tags) > MAX_TAGS or canonical.few_tags, reply.tags
        assert GENERIC_TAGS & {tag.casefold() for tag in reply.tags}, "a generic tag among them"
        assert any(tag != tag.lower() for tag in reply.tags), "a tag in upper or title case"
        assert canonical.dropped and len(canonical.tags) >= 2
        assert all(re.fullmatch(TAG_PATTERN, tag) for tag in canonical.tags)
        few += canonical.few_tags
        if not canonical.few_tags:
            TaggingOutput(tags=list(canonical.tags), summary=reply.summary)
            assert len(canonical.tags) + len(canonical.dropped) < len(reply.tags), "repeats and twins made one"
    assert 0 < few < 60, "some replies keep only two usable tags, most keep three or more"

    completion = client.chat.completions.create(**lines[0]["body"])
    realtime = TaggingReply.model_validate_json(completion.choices[0].message.content or "")
    assert canonicalize(realtime.tags).tags != tuple(realtime.tags), "realtime replies are messy alike"


def test_the_same_replies_are_messy_on_every_run(start_gateway):
    client = start_gateway(messy_tags_rate=0.5).client()
    lines = [request_line(f"n{n}", TEXTS[n % len(TEXTS)]) for n in range(30)]
    runs = [_replies(client, wait_for(client, submit(client, jsonl(lines)).id)) for _ in range(2)]
    assert runs[0] == runs[1]
    messy = [reply for reply in runs[0].values() if canonicalize(reply.tags).tags != tuple(reply.tags)]
    assert 0 < len(messy) < 30
