"""The canonical form of a tag, and what makes two tags the same one: the words that hold a library together.

A model spells one idea many ways (``Vector Databases``, ``vector_db``, ``vector-database``). Write-back, the
sprawl report and ``tags merge`` all read tags through these functions, so that they agree on what one tag is: its
canonical form (lowercase, words joined by hyphens, no punctuation at the edges), and its stem key (each word's
Snowball stem), which ``gpu`` and ``gpus`` share. Aliases name the rest: a file of ``variant: canonical`` lines
(TAGGING_TAG_ALIASES). ``canonicalize`` puts them together to fix a reply's tags where their meaning is clear, so
that a messy spelling is not a failure paid for again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from types import MappingProxyType

import Stemmer

from tagging_assets.core.contracts import GENERIC_TAGS, MAX_TAGS, MIN_TAGS
from tagging_assets.core.errors import ConfigError

_SEPARATORS = re.compile(r"[\s_/]+")
_NOT_TAG = re.compile(r"[^a-z0-9-]+")
_HYPHENS = re.compile(r"-{2,}")
_STEMMER = Stemmer.Stemmer("english")


def canonical_form(tag: str) -> str:
    """``Vector Databases`` and ``vector_databases`` as ``vector-databases``: case folded, spaces, underscores and
    slashes made hyphens, other punctuation dropped, and no hyphen at either end. Empty when nothing is left."""
    hyphenated = _SEPARATORS.sub("-", tag.strip().casefold())
    return _HYPHENS.sub("-", _NOT_TAG.sub("", hyphenated)).strip("-")


@cache
def stem_key(tag: str) -> str:
    """What tags of one stem share: each word's Snowball stem, and a final ``s`` the stemmer kept dropped too (it
    keeps ``gpus``, ``apis`` and ``llms`` apart from ``gpu``, ``api`` and ``llm``)."""
    words = canonical_form(tag).split("-")
    stems: list[str] = _STEMMER.stemWords(words)
    return "-".join(_STEMMER.stemWord(stem[:-1]) if stem.endswith("s") and len(stem) > 3 else stem for stem in stems)


def load_aliases(path: Path) -> dict[str, str]:
    """The aliases in ``path``, one ``variant: canonical`` a line (``#`` starts a comment), both sides in
    canonical form; a malformed line is a ``ConfigError`` naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"TAGGING_TAG_ALIASES={path}: {error.strerror or error}") from None
    aliases: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        variant, colon, canonical = content.partition(":")
        variant, canonical = canonical_form(variant), canonical_form(canonical)
        if not colon or not variant or not canonical:
            raise ConfigError(
                f"TAGGING_TAG_ALIASES={path}, line {number}: expected `variant: canonical-tag`, got {line.strip()!r}"
            )
        aliases[variant] = canonical
    return aliases


NO_ALIASES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CanonicalTags:
    """A reply's tags as they are written: ``dropped`` holds the reply's spellings that said nothing usable
    (generic, empty, or outside the vocabulary), so that the item's state can show what was lost."""

    tags: tuple[str, ...]
    dropped: tuple[str, ...]

    @property
    def few_tags(self) -> bool:
        """Fewer tags than the prompt asks for: kept, and flagged for the format check to report."""
        return len(self.tags) < MIN_TAGS


def canonicalize(
    raw: Sequence[str], *, aliases: Mapping[str, str] = NO_ALIASES, allowed: frozenset[str] | None = None
) -> CanonicalTags:
    """The first ``MAX_TAGS`` tags of ``raw`` in canonical form, their aliases applied, one tag a stem key (the
    first spelling seen wins), generic tags dropped. With ``allowed`` (a closed vocabulary), a tag outside it takes
    the vocabulary's tag of its stem key (``gpus`` is ``gpu``), or is dropped when it has none. Applying it to its
    own ``tags`` gives them back unchanged."""
    tags: list[str] = []
    dropped: list[str] = []
    stems: set[str] = set()
    for spelling in raw:
        tag = _usable(canonical_form(spelling), aliases, allowed)
        if not tag or tag in GENERIC_TAGS:
            dropped.append(spelling)
            continue
        key = stem_key(tag)
        if key in stems or len(tags) == MAX_TAGS:
            continue
        stems.add(key)
        tags.append(tag)
    return CanonicalTags(tuple(tags), tuple(dropped))


def _usable(tag: str, aliases: Mapping[str, str], allowed: frozenset[str] | None) -> str:
    """The tag ``tag`` stands for: itself when the vocabulary holds it, else its alias, held to the vocabulary by
    stem key; empty when the vocabulary has nothing of its stem."""
    if allowed is None:
        return _resolve(tag, aliases)
    if tag in allowed:
        return tag
    tag = _resolve(tag, aliases)
    return tag if tag in allowed else _by_stem(allowed).get(stem_key(tag), "")


@cache
def _by_stem(allowed: frozenset[str]) -> dict[str, str]:
    """A vocabulary's tags by stem key, the first in sorted order where two share one."""
    by_stem: dict[str, str] = {}
    for tag in sorted(allowed):
        by_stem.setdefault(stem_key(tag), tag)
    return by_stem


def _resolve(tag: str, aliases: Mapping[str, str]) -> str:
    """The tag an alias chain ends at (``a: b`` and ``b: c`` take ``a`` to ``c``), so that canonicalising twice
    changes nothing; a chain that loops ends at the loop's first tag in sorted order, whichever tag it began at."""
    chain = [tag]
    while (target := canonical_form(aliases.get(tag, tag))) != tag:
        if target in chain:
            return min(chain[chain.index(target) :])
        chain.append(target)
        tag = target
    return tag


class LibrarySpellings:
    """One spelling a stem across the library, so that ``gpu`` on one video and ``gpus`` on the next are one tag
    to filter by: the cache's most used spelling of a stem, else the first one written."""

    def __init__(self, most_used_first: Iterable[str]) -> None:
        self._by_stem: dict[str, str] = {}
        for tag in most_used_first:
            self._by_stem.setdefault(stem_key(tag), tag)

    def spelled(self, canonical: CanonicalTags) -> CanonicalTags:
        """The reply's tags in the library's spelling (the reply's own, for a stem the library has not seen)."""
        return replace(canonical, tags=tuple(self._by_stem.setdefault(stem_key(tag), tag) for tag in canonical.tags))
