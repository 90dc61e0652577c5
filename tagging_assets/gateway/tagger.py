"""The offline tagger: key phrases and a one-sentence summary from the text alone.

It stands in for the model when no API key is set, so it must behave like a real
tagger: every transcript's tags come from its own words. The key phrases are
scored the YAKE way (Campos et al., 2020: casing, position, frequency, context
spread and sentence spread of each word; a phrase scores by its words and its
own frequency) and the summary is the transcript's own sentence that best covers
those phrases. It is deterministic and needs no network, model or corpus.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import resources

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


@dataclass(frozen=True)
class Tagging:
    """What the tagger found in one text."""

    tags: list[str]
    summary: str


@dataclass
class _WordStats:
    count: int = 0
    capitalised: int = 0
    sentences: set[int] = field(default_factory=set)
    left: set[str] = field(default_factory=set)
    right: set[str] = field(default_factory=set)


def tag_text(text: str, max_tags: int = MAX_TAGS, min_tags: int = MIN_TAGS) -> Tagging:
    """Tag one text: up to ``max_tags`` key phrases (at least ``min_tags`` where the
    text has that many distinct content words) and its most representative sentence."""
    speakers = {word.lower() for label in _SPEAKER_LABEL_RE.findall(text) for word in _WORD_RE.findall(label)}
    sentences = _sentences(_STAGE_CUE_RE.sub(" ", _SPEAKER_LABEL_RE.sub("", text)))
    tokenised = [
        [word for word in _WORD_RE.findall(sentence) if word.lower() not in speakers] for sentence in sentences
    ]
    word_scores = _score_words(tokenised)
    if not word_scores:
        return Tagging(tags=[], summary="")
    phrases = _score_phrases(tokenised, word_scores)
    tags = _pick_tags(phrases, word_scores, max_tags, min_tags)
    summary = _pick_summary(sentences, tokenised, tags)
    return Tagging(tags=tags, summary=summary)


def _sentences(text: str) -> list[str]:
    return [" ".join(part.split()) for part in _SENTENCE_END_RE.split(text) if part and part.strip()]


def _is_content(word: str) -> bool:
    lowered = word.lower().replace("\u2019", "'")
    return len(lowered) > 2 and lowered not in _STOPWORDS and not lowered.isdigit() and "'" not in lowered


def _norm(word: str) -> str:
    """Fold case and plural so that "Transformers" and "transformer" are one term."""
    lowered = word.lower()
    if len(lowered) > 4 and lowered.endswith("ies"):
        return lowered[:-3] + "y"
    if len(lowered) > 3 and lowered.endswith("s") and not lowered.endswith(("ss", "us", "is")):
        return lowered[:-1]
    return lowered


def _score_words(tokenised: list[list[str]]) -> dict[str, float]:
    """YAKE's per-word score: lower is more important."""
    stats: dict[str, _WordStats] = defaultdict(_WordStats)
    for index, words in enumerate(tokenised):
        for position, word in enumerate(words):
            if not _is_content(word):
                continue
            term = _norm(word)
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
    sentence_total = len(tokenised)
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
    score: float
    surface: str
    """The phrase as the text most often spells it, lowercased and hyphenated."""


def _score_phrases(tokenised: list[list[str]], word_scores: dict[str, float]) -> dict[tuple[str, ...], _Phrase]:
    """YAKE's phrase score over runs of up to three content words: lower is better."""
    spellings: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for words in tokenised:
        run: list[str] = []
        for word in [*words, ""]:
            if word and _is_content(word):
                run.append(word)
                continue
            for size in range(1, _MAX_PHRASE_WORDS + 1):
                for start in range(len(run) - size + 1):
                    words_in_run = run[start : start + size]
                    phrase = tuple(_norm(term) for term in words_in_run)
                    if len(set(phrase)) == size:
                        spellings[phrase][_as_tag(words_in_run)] += 1
            run = []
    scored: dict[tuple[str, ...], _Phrase] = {}
    for phrase, spelled in spellings.items():
        count = sum(spelled.values())
        if len(phrase) > 1 and count < 2:
            continue
        product = math.prod(word_scores[term] for term in phrase)
        surface = min(spelled, key=lambda spelling: (-spelled[spelling], spelling))
        scored[phrase] = _Phrase(product / (count * (1 + sum(word_scores[term] for term in phrase))), surface)
    return scored


def _pick_tags(
    phrases: dict[tuple[str, ...], _Phrase], word_scores: dict[str, float], max_tags: int, min_tags: int
) -> list[str]:
    """The best phrases that do not repeat one another's words."""
    chosen: list[str] = []
    used: set[str] = set()
    for phrase in sorted(phrases, key=lambda item: (phrases[item].score, item)):
        if used.intersection(phrase):
            continue
        chosen.append(phrases[phrase].surface)
        used.update(phrase)
        if len(chosen) == max_tags:
            break
    if len(chosen) < min_tags:
        for term in sorted(word_scores, key=lambda item: (word_scores[item], item)):
            if term not in used:
                chosen.append(_as_tag([term]))
                used.add(term)
            if len(chosen) == min_tags:
                break
    return chosen


def _as_tag(words: list[str]) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", "-", word.lower()).strip("-") for word in words)


def _pick_summary(sentences: list[str], tokenised: list[list[str]], tags: list[str]) -> str:
    """The sentence that covers the most tag words for its length, early sentences first on ties.

    Real sentences (ending in . ! or ?) win over headings such as a title line."""
    tag_terms = {term for tag in tags for term in tag.split("-")}
    best_index, best_score = 0, -1.0
    for index, words in enumerate(tokenised):
        if not _SUMMARY_MIN_WORDS <= len(words) <= _SUMMARY_MAX_WORDS:
            continue
        covered = {_norm(word) for word in words} & tag_terms
        finished = sentences[index].rstrip("\"'\u201d\u2019)]").endswith((".", "!", "?"))
        score = len(covered) / math.sqrt(len(words)) + (1.0 if finished else 0.0)
        if score > best_score:
            best_index, best_score = index, score
    sentence = sentences[best_index] if sentences else ""
    words = sentence.split()
    if len(words) > _SUMMARY_MAX_WORDS:
        sentence = " ".join(words[:_SUMMARY_MAX_WORDS]).rstrip(",;:") + "…"
    if sentence and sentence[-1] not in ".!?…":
        sentence += "."
    return sentence[:1].upper() + sentence[1:]
