"""The offline tagger: key phrases and a one-sentence summary from the text alone.

It stands in for the model when no API key is set, so it must behave like a real
tagger: every transcript's tags come from its own words, and name what sets it
apart. The key phrases are scored the YAKE way (Campos et al., 2020: casing,
position, frequency, context spread and sentence spread of each word; a phrase
scores by its words and its own frequency), then weighed down by how common
their words are: in English at large (``wordfreq``'s list) and, in a batch,
across the batch's other documents (``BatchTerms``), so a word every talk uses
names none of them, and up by a title the text opens with. Inflections are one
term (the Snowball stemmer), so no two tags share a stem. The summary is the
transcript's own sentence that best covers the tags. It is deterministic and
needs no network or model.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import Stemmer
import wordfreq

from tagging_assets.core.contracts import GENERIC_TAGS, MAX_TAGS, MIN_TAGS

_STOPWORDS = GENERIC_TAGS | frozenset(
    word
    for line in resources.files(__package__).joinpath("stopwords.txt").read_text(encoding="utf-8").splitlines()
    if not line.startswith("#")
    for word in line.split()
)
"""Words that never make a tag: none of them says what a talk is about."""

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['\u2019][A-Za-z]+)?|[0-9]+[A-Za-z][A-Za-z0-9]*")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+|\n\s*\n")
_SPEAKER_LABEL_RE = re.compile(r"^[ \t]*[A-Z][\w.'\u2019-]*(?: [A-Z][\w.'\u2019-]*){0,3}:\s+", re.MULTILINE)
_STAGE_CUE_RE = re.compile(r"\[[^\]]{0,40}\]|\([^)]{0,40}\)")
_MAX_PHRASE_WORDS = 3
_SUMMARY_MIN_WORDS = 8
_SUMMARY_MAX_WORDS = 40
_HEADING_RE = re.compile(r"\A\s*([^\n]+)\n[ \t]*\n")
_HEADING_MAX_WORDS = 25
_STEMMER = Stemmer.Stemmer("english")

ENGLISH_WEIGHT = 0.3
"""How much a word's commonness in English weighs a phrase down, per Zipf unit above ``ENGLISH_RARE_ZIPF``.
A Zipf frequency is log10 of a word's uses per billion words: "the" is 7.7, "model" 5.1, "tokenizer" under 1."""
ENGLISH_RARE_ZIPF = 3.0
"""Words no more common than this in English are not weighed down by it at all."""
BATCH_WEIGHT = 4.0
"""How much a word held by every other document of the batch weighs a phrase down, against none of them."""
HEADING_WEIGHT = 1.0
"""How much a word of the heading the text opens with (the prompt's title line) weighs a phrase up.

The three weights were chosen on the 105 real transcripts (``benchmarks/tagger_quality.py``): weaker batch or
English weights leave ``model`` on a quarter of the videos; stronger ones favour names over topics."""


@dataclass(frozen=True)
class Tagging:
    """What the tagger found in one text."""

    tags: list[str]
    summary: str


@dataclass(frozen=True)
class BatchTerms:
    """How many of a batch's documents hold each term: what the gateway learns from the whole batch before it
    tags any of it, as a model trained on the world knows which words every talk uses.

    Terms that one document alone holds are left out, since no other document shares them."""

    documents: int
    counts: Mapping[str, int]

    @classmethod
    def of(cls, documents: Iterable[Iterable[str]]) -> BatchTerms:
        """Count the terms of each document (``document_terms``) once."""
        counts: Counter[str] = Counter()
        total = 0
        for terms in documents:
            counts.update(terms)
            total += 1
        return cls(total, {term: count for term, count in counts.items() if count > 1})

    def write(self, path: Path) -> None:
        """Save the counts whole or not at all: a gateway killed mid-write counts again at its restart."""
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps({"documents": self.documents, "counts": self.counts}), encoding="utf-8")
        os.replace(partial, path)

    @classmethod
    def read(cls, path: Path) -> BatchTerms:
        saved = json.loads(path.read_text(encoding="utf-8"))
        return cls(int(saved["documents"]), dict(saved["counts"]))

    def share(self, term: str) -> float:
        """The fraction of the batch's other documents that hold ``term``, for a document that holds it."""
        if self.documents < 2:
            return 0.0
        return (self.counts.get(term, 1) - 1) / (self.documents - 1)


@dataclass
class _WordStats:
    count: int = 0
    capitalised: int = 0
    sentences: set[int] = field(default_factory=set)
    left: set[str] = field(default_factory=set)
    right: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Text:
    """A text cut into sentences and words, and the term each content word stands for."""

    sentences: list[str]
    words: list[list[str]]
    terms: dict[str, str]
    """Each content word, as spelled (letters and digits only), and its term (``_terms_of``)."""
    heading: list[str]
    """The words of a heading the text opens with: a short first line standing alone, such as a title."""


def _read(text: str) -> _Text:
    speakers = {word.lower() for label in _SPEAKER_LABEL_RE.findall(text) for word in _WORD_RE.findall(label)}
    cleaned = _STAGE_CUE_RE.sub(" ", _SPEAKER_LABEL_RE.sub("", text))
    sentences = _sentences(cleaned)
    words = [[word for word in _WORD_RE.findall(sentence) if word.lower() not in speakers] for sentence in sentences]
    content = [word for word in {word for sentence in words for word in sentence} if _is_content(word)]
    terms = dict(zip(content, _terms_of([word.lower() for word in content]), strict=True))
    heading = _HEADING_RE.match(cleaned)
    heading_words = _WORD_RE.findall(heading.group(1)) if heading else []
    if len(heading_words) > _HEADING_MAX_WORDS:
        heading_words = []
    return _Text(sentences, words, terms, heading_words)


def document_terms(text: str) -> set[str]:
    """The terms of one text, for ``BatchTerms``: a few more than tagging it finds (speaker names and stage
    cues stay in), which only adds terms no tag is made of, at a tenth of the cost of reading it for tags."""
    content = [word.lower() for word in set(_WORD_RE.findall(text)) if _is_content(word)]
    return set(_terms_of(content))


def _terms_of(words: list[str]) -> list[str]:
    """Each lowercase word's term: its Snowball stem, or its singular's where the text holds both and the
    stemmer keeps the plural apart (it leaves the s after a vowel, as in "gpus" and "apis")."""
    stems: list[str] = _STEMMER.stemWords(words)
    stem_of = dict(zip(words, stems, strict=True))
    return [
        stem_of.get(word[:-1], stem) if word.endswith("s") else stem for word, stem in zip(words, stems, strict=True)
    ]


def tag_text(
    text: str, *, max_tags: int = MAX_TAGS, min_tags: int = MIN_TAGS, batch: BatchTerms | None = None
) -> Tagging:
    """Tag one text: up to ``max_tags`` key phrases (at least ``min_tags`` where the
    text has that many distinct content words) and its most representative sentence.

    ``batch`` holds the terms of the batch the text is in; without it, only English at large says what is common."""
    read = _read(text)
    word_scores = _score_words(read)
    if not word_scores:
        return Tagging(tags=[], summary="")
    phrases = _score_phrases(read, word_scores, batch)
    tags = _pick_tags(phrases, word_scores, max_tags, min_tags)
    summary = _pick_summary(read, {term for phrase in tags for term in phrase.terms})
    return Tagging(tags=[phrase.surface for phrase in tags], summary=summary)


def tag_from_vocabulary(text: str, vocabulary: Iterable[str], *, max_tags: int = MAX_TAGS) -> Tagging:
    """Tag one text from a closed vocabulary, as a model held to an ``enum`` would: the entries whose every word
    (by its term) the text holds, the most often mentioned first, longer entries before shorter ones on ties, and
    the vocabulary's order after that. Fewer than three may match; the text is not bent to fit."""
    read = _read(text)
    mentions = Counter(read.terms[word] for words in read.words for word in words if word in read.terms)
    ranked: list[tuple[int, int, int, str, list[str]]] = []
    for position, entry in enumerate(vocabulary):
        words = [word for word in entry.split("-") if word]
        terms = _terms_of(words) if words else []
        if terms and all(term in mentions for term in terms):
            ranked.append((-min(mentions[term] for term in terms), -len(terms), position, entry, terms))
    chosen = sorted(ranked)[:max_tags]
    summary = _pick_summary(read, {term for *_, terms in chosen for term in terms}) if read.sentences else ""
    return Tagging(tags=[entry for *_, entry, _ in chosen], summary=summary)


def _sentences(text: str) -> list[str]:
    return [" ".join(part.split()) for part in _SENTENCE_END_RE.split(text) if part and part.strip()]


def _is_content(word: str) -> bool:
    lowered = word.lower().replace("\u2019", "'")
    return len(lowered) > 2 and lowered not in _STOPWORDS and not lowered.isdigit() and "'" not in lowered


@cache
def _english() -> dict[str, float]:
    return wordfreq.get_frequency_dict("en")


def _english_zipf_above_rare(word: str) -> float:
    frequency = _english().get(word, 0.0)
    if not frequency:
        return 0.0
    return max(0.0, math.log10(frequency) + 9 - ENGLISH_RARE_ZIPF)


def _is_finished(sentence: str) -> bool:
    """Whether it ends as a sentence does (. ! or ?, before any closing quote or bracket), unlike a heading."""
    return sentence.rstrip("\"'\u201d\u2019)]").endswith((".", "!", "?"))


def _score_words(read: _Text) -> dict[str, float]:
    """YAKE's per-word score: lower is more important."""
    stats: dict[str, _WordStats] = defaultdict(_WordStats)
    for index, words in enumerate(read.words):
        for position, word in enumerate(words):
            term = read.terms.get(word)
            if term is None:
                continue
            entry = stats[term]
            entry.count += 1
            if position > 0 and (word[0].isupper() or (len(word) > 1 and word.isupper())):
                entry.capitalised += 1
            entry.sentences.add(index)
            if position > 0:
                entry.left.add(words[position - 1].lower())
            if position + 1 < len(words):
                entry.right.add(words[position + 1].lower())
    if not stats:
        return {}
    counts = [entry.count for entry in stats.values()]
    mean = statistics.fmean(counts)
    spread = statistics.pstdev(counts)
    max_count = max(counts)
    sentence_total = len(read.words)
    scores: dict[str, float] = {}
    for term, entry in stats.items():
        casing = entry.capitalised / (1 + math.log(entry.count))
        placement = math.log(math.log(3 + statistics.median(entry.sentences)))
        frequency = entry.count / (mean + spread)
        relatedness = 1 + (len(entry.left) + len(entry.right)) / (2 * entry.count) * (entry.count / max_count)
        dispersion = len(entry.sentences) / sentence_total
        scores[term] = (relatedness * placement) / (casing + frequency / relatedness + dispersion / relatedness)
    return scores


@dataclass(frozen=True)
class _Phrase:
    terms: tuple[str, ...]
    score: float
    surface: str
    """The phrase as the text most often spells it, lowercased and hyphenated."""


def _score_phrases(read: _Text, word_scores: dict[str, float], batch: BatchTerms | None) -> list[_Phrase]:
    """YAKE's phrase score over runs of up to three content words, weighed down by how common their terms are
    (``_commonness``): lower is better."""
    spellings: dict[tuple[str, ...], Counter[tuple[str, ...]]] = defaultdict(Counter)
    terms = read.terms
    for words in read.words:
        run: list[str] = []
        run_terms: list[str] = []
        for word in [*words, ""]:
            term = terms.get(word)
            if term is not None:
                run.append(word.lower())
                run_terms.append(term)
                continue
            if not run:
                continue
            for size in range(1, min(len(run), _MAX_PHRASE_WORDS) + 1):
                for start in range(len(run) - size + 1):
                    phrase = tuple(run_terms[start : start + size])
                    if size == 1 or len(set(phrase)) == size:
                        spellings[phrase][tuple(run[start : start + size])] += 1
            run, run_terms = [], []
    commonness = _commonness(read, batch)
    scored: list[_Phrase] = []
    for phrase, spelled in spellings.items():
        count = sum(spelled.values())
        if len(phrase) > 1 and count < 2:
            continue
        scores = [word_scores[term] for term in phrase]
        weight = math.exp(sum(commonness[term] for term in phrase) / len(phrase))
        spelling = min(spelled, key=lambda candidate: (-spelled[candidate], candidate))
        scored.append(_Phrase(phrase, weight * math.prod(scores) / (count * (1 + sum(scores))), "-".join(spelling)))
    return scored


def _commonness(read: _Text, batch: BatchTerms | None) -> dict[str, float]:
    """How far each term is from naming what this text is about: common in English, common across the batch,
    and not in the text's heading (a title says what a talk is about)."""
    commonness: dict[str, float] = {}
    for word, term in {word.lower(): term for word, term in read.terms.items()}.items():
        commonness[term] = max(commonness.get(term, 0.0), ENGLISH_WEIGHT * _english_zipf_above_rare(word))
    if batch is not None:
        for term in commonness:
            commonness[term] += BATCH_WEIGHT * batch.share(term)
    for term in {read.terms[word] for word in read.heading if word in read.terms}:
        commonness[term] -= HEADING_WEIGHT
    return commonness


def _pick_tags(phrases: list[_Phrase], word_scores: dict[str, float], max_tags: int, min_tags: int) -> list[_Phrase]:
    """The best phrases that share no term with one another."""
    chosen: list[_Phrase] = []
    used: set[str] = set()
    for phrase in sorted(phrases, key=lambda item: (item.score, item.terms)):
        if used.intersection(phrase.terms):
            continue
        chosen.append(phrase)
        used.update(phrase.terms)
        if len(chosen) == max_tags:
            break
    if len(chosen) < min_tags:
        words = {phrase.terms[0]: phrase for phrase in phrases if len(phrase.terms) == 1}
        for term in sorted(word_scores, key=lambda item: (word_scores[item], item)):
            if term not in used and term in words:
                chosen.append(words[term])
                used.add(term)
            if len(chosen) == min_tags:
                break
    return chosen


def _pick_summary(read: _Text, tag_terms: set[str]) -> str:
    """The sentence that covers the most tag terms for its length, early sentences first on ties.

    Real sentences (ending in . ! or ?) win over headings such as a title line."""
    best_index, best_score = 0, -1.0
    for index, words in enumerate(read.words):
        if not _SUMMARY_MIN_WORDS <= len(words) <= _SUMMARY_MAX_WORDS:
            continue
        covered = {read.terms[word] for word in words if word in read.terms} & tag_terms
        score = len(covered) / math.sqrt(len(words)) + (1.0 if _is_finished(read.sentences[index]) else 0.0)
        if score > best_score:
            best_index, best_score = index, score
    sentence = read.sentences[best_index] if read.sentences else ""
    words = sentence.split()
    if len(words) > _SUMMARY_MAX_WORDS:
        sentence = " ".join(words[:_SUMMARY_MAX_WORDS]).rstrip(",;:") + "…"
    if sentence and sentence[-1] not in ".!?…":
        sentence += "."
    return sentence[:1].upper() + sentence[1:]
