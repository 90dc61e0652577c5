"""The offline tagger under a vocabulary, through the openai SDK: held to a schema's ``enum`` it answers from it,
and asked to reuse the library's tags it puts the ones the text mentions first."""

import json

from tagging_assets.batches.plan import PREFERRED_TAGS_INSTRUCTION
from tagging_assets.wire import tagging_response_format

TEXT = (
    "Title: Kafka partitions\n\nTranscript:\nKafka keeps every partition as an ordered log. A consumer reads a "
    "partition from an offset, and Kafka keeps the offset for the consumer group. Partitions let Kafka scale."
)


def _tags(gateway, system: str, response_format: dict) -> list[str]:
    completion = gateway.client().chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": system}, {"role": "user", "content": TEXT}],
        response_format=response_format,
    )
    return json.loads(completion.choices[0].message.content)["tags"]


def test_held_to_an_enum_the_tagger_answers_from_it_the_most_mentioned_first(shared_gateway):
    allowed = ["zebra-crossing", "consumer", "kafka", "offset", "partition"]
    tags = _tags(shared_gateway, "Tag it.", tagging_response_format(allowed))
    assert set(tags) <= set(allowed) and tags[0] == "kafka" and "zebra-crossing" not in tags


def test_asked_to_reuse_the_librarys_tags_the_tagger_puts_those_the_text_mentions_first(shared_gateway):
    system = f"Tag it.\n\n{PREFERRED_TAGS_INSTRUCTION}\nconsumer-group, kafka, zebra-crossing"
    tags = _tags(shared_gateway, system, tagging_response_format())
    assert tags[:2] == ["kafka", "consumer-group"] and "zebra-crossing" not in tags
    assert len(tags) > 2, "room for its own tags"
