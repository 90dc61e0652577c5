"""The offline tagger on real speech: tags from each transcript's own words."""

from __future__ import annotations

import re

from tagging_assets.core.contracts import TaggingOutput
from tagging_assets.gateway.tagger import tag_text
from tagging_assets_tests.support import one_per_lesson


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def test_forty_real_transcripts_get_distinct_tags_grounded_in_their_own_text(real_transcripts):
    items = one_per_lesson(real_transcripts, 40)
    assert len(items) == 40
    tag_sets = []
    for item in items:
        tagging = tag_text(f"{item['title']}\n\n{item['transcript']}")
        TaggingOutput(tags=tagging.tags, summary=tagging.summary)
        words = _words(item["title"] + " " + item["transcript"])
        for tag in tagging.tags:
            missing = [part for part in tag.split("-") if part not in words]
            assert not missing, f"{item['video_id']}: tag {tag!r} has words not in its transcript: {missing}"
        assert len(set(tagging.tags)) == len(tagging.tags)
        tag_sets.append(frozenset(tagging.tags))
    assert len(set(tag_sets)) == len(tag_sets), "two different transcripts got the same tags"


def test_the_summary_is_one_sentence_of_the_transcript(real_transcripts):
    for item in real_transcripts[:40]:
        summary = tag_text(item["transcript"]).summary
        body = summary.rstrip(".…")
        assert body[1:] in " ".join(item["transcript"].split()), item["video_id"]
        assert len(summary.split()) <= 41


def test_tagging_is_deterministic(real_transcripts):
    text = real_transcripts[-1]["transcript"]
    assert tag_text(text) == tag_text(text)


def test_speaker_labels_and_stage_cues_never_become_tags():
    text = (
        "Daniel Whitenack: Welcome back. Today we cover vector databases. [laughs]\n"
        "Chris Benson: Vector databases store embeddings for semantic search.\n"
        "Daniel Whitenack: Semantic search over embeddings needs vector databases. (applause)\n"
    )
    tags = tag_text(text).tags
    assert "vector-databases" in tags
    assert not {"daniel", "chris", "whitenack", "benson", "laughs", "applause"} & {
        part for tag in tags for part in tag.split("-")
    }


def test_empty_text_gets_no_tags():
    assert tag_text("   \n ").tags == []
