"""The offline tagger on real speech: tags from each transcript's own words, one tag a stem, and the words
every document of a batch uses weighed down."""

from __future__ import annotations

import json
import re
from collections import Counter

import Stemmer
from hypothesis import given, settings
from hypothesis import strategies as st

from tagging_assets.core.contracts import TaggingOutput
from tagging_assets.core.prompt import SYSTEM_PROMPT, user_message
from tagging_assets.gateway.tagger import BatchTerms, document_terms, tag_text
from tagging_assets_tests.support import jsonl, one_per_lesson, read_lines, submit, wait_for

STEMMER = Stemmer.Stemmer("english")


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


def _stems(tag: str) -> set[str]:
    """The Snowball stems of a tag's words, and of each with a plural s dropped (the stemmer keeps "gpus" apart
    from "gpu")."""
    words = tag.split("-")
    return set(STEMMER.stemWords(words)) | set(STEMMER.stemWords([word.removesuffix("s") for word in words]))


FAMILIES = [
    ["token", "tokens", "tokenizer", "tokenizers", "tokenization", "tokenize"],
    ["model", "models", "modeling", "modelled"],
    ["train", "training", "trained", "trains", "trainer"],
    ["embedding", "embeddings", "embed", "embedded"],
    ["query", "queries", "querying"],
    ["index", "indexes", "indexing", "indexed"],
    ["vector", "vectors"],
    ["gradient", "gradients"],
    ["gpu", "gpus", "GPUs", "GPU"],
    ["api", "apis", "APIs"],
]
SENTENCE = st.lists(
    st.sampled_from([word for family in FAMILIES for word in family] + ["the", "of", "and"]), min_size=3, max_size=12
)


@settings(max_examples=150, deadline=None)
@given(st.lists(SENTENCE, min_size=1, max_size=20), st.booleans())
def test_no_two_tags_share_a_stem_whatever_the_inflections(sentences, capitalise):
    text = " ".join(" ".join(words).capitalize() if capitalise else " ".join(words) for words in sentences)
    tags = tag_text(text.replace(" and ", ". "), max_tags=5).tags
    for index, tag in enumerate(tags):
        for other in tags[index + 1 :]:
            assert not _stems(tag) & _stems(other), (tag, other)


def test_inflections_are_one_tag_spelled_as_the_text_mostly_spells_it():
    text = (
        "Tokenizers split text into tokens. A tokenizer learns its tokens from a corpus. "
        "Tokenization comes before the model; the tokenizer maps each token to an id. "
        "Kubernetes schedules the training pods. Kubernetes restarts a failed pod."
    )
    tags = tag_text(text).tags
    assert sum(1 for tag in tags if _stems(tag) & {"token"}) == 1, tags
    assert "kubernetes" in tags


TALK = (
    "Title: Retries in a pipeline\n\nTranscript:\n"
    "Our pipeline pulls events from Kafka. The pipeline retries each Kafka consumer with backoff. "
    "When the pipeline fails, idempotent writes keep Postgres consistent. "
    "We test the pipeline with chaos experiments against Kafka and Postgres."
)


def test_a_word_every_document_of_the_batch_holds_is_weighed_down_and_rarer_ones_rise():
    alone = tag_text(TALK).tags
    others = [f"A pipeline for topic {n}. The pipeline runs; subject{n} matters to the pipeline." for n in range(20)]
    batch = BatchTerms.of(document_terms(text) for text in [TALK, *others])
    assert batch.documents == 21
    assert batch.share("pipelin") == 1.0 and batch.share("kafka") == 0.0
    in_batch = tag_text(TALK, batch=batch).tags
    assert "pipeline" in alone
    assert "pipeline" not in in_batch, in_batch
    assert {"kafka", "postgres"} <= set(in_batch)


RETRIES = (
    "Our service pulls events from Kafka and writes them to Postgres. Each consumer keeps its offset in Kafka. "
    "When a write fails, the consumer waits and tries again with backoff; idempotent writes keep Postgres "
    "consistent. Backpressure tells the producer to slow down. We test it with chaos experiments against Kafka and "
    "Postgres."
)


def test_a_title_weighs_its_words_up_whether_or_not_it_ends_as_a_question():
    plain = tag_text(f"Title: Backpressure and retries\n\nTranscript:\n{RETRIES}").tags
    question = tag_text(f"Title: Backpressure and retries?\n\nTranscript:\n{RETRIES}").tags
    untitled = tag_text(RETRIES).tags
    assert set(plain[:2]) == set(question[:2]) == {"retries", "backpressure"}, (plain, question)
    assert "backpressure" not in untitled[:2]


def test_a_batch_of_one_learns_nothing_from_itself():
    batch = BatchTerms.of([document_terms(TALK)])
    assert batch.share("pipelin") == 0.0
    assert tag_text(TALK, batch=batch) == tag_text(TALK)


def test_the_batch_terms_survive_a_write_and_a_read(tmp_path):
    batch = BatchTerms.of([{"kafka", "pipelin"}, {"pipelin"}, {"postgr"}])
    path = tmp_path / "terms.json"
    batch.write(path)
    assert BatchTerms.read(path) == batch == BatchTerms(3, {"pipelin": 2})
    assert [entry.name for entry in tmp_path.iterdir()] == ["terms.json"]


def test_the_gateway_tags_a_batch_knowing_its_common_words_and_realtime_knowing_english(
    shared_gateway, real_transcripts
):
    """The 105 real transcripts with the project's prompt, through the OpenAI SDK: in realtime, the word every
    machine-learning talk uses is a tag on a quarter of them; in one batch, no tag is on more than a tenth, every
    video keeps a tag from its title's words, and no video has two tags of one stem."""
    client = shared_gateway.client()
    lines = [
        {
            "custom_id": item["video_id"],
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": user_message(item["title"], item["transcript"])},
                ],
            },
        }
        for item in real_transcripts
    ]
    done = wait_for(client, submit(client, jsonl(lines)).id)
    assert done.request_counts.completed == len(lines)
    in_batch = {
        line["custom_id"]: json.loads(line["response"]["body"]["choices"][0]["message"]["content"])["tags"]
        for line in read_lines(client, done.output_file_id)
    }
    in_realtime = {
        line["custom_id"]: json.loads(client.chat.completions.create(**line["body"]).choices[0].message.content)["tags"]
        for line in lines
    }
    videos = len(real_transcripts)
    realtime_top, realtime_on = Counter(tag for tags in in_realtime.values() for tag in tags).most_common(1)[0]
    batch_top, batch_on = Counter(tag for tags in in_batch.values() for tag in tags).most_common(1)[0]
    assert realtime_on > videos / 10, (realtime_top, realtime_on)
    assert batch_on <= videos / 10, (batch_top, batch_on)
    assert sum(realtime_top in tags for tags in in_batch.values()) < realtime_on / 2
    titled = sum(
        bool(document_terms(" ".join(in_batch[item["video_id"]]).replace("-", " ")) & document_terms(item["title"]))
        for item in real_transcripts
    )
    assert titled >= 0.9 * videos
    for tags in in_batch.values():
        for index, tag in enumerate(tags):
            assert not any(_stems(tag) & _stems(other) for other in tags[index + 1 :]), tags
    assert not (shared_gateway.state_dir / "files" / f".{done.id}.terms.json").exists(), "its terms outlive it"
