"""The canonical form of a tag, and what makes two tags the same one: the words that hold a library together.

A model spells one idea many ways (``Vector Databases``, ``vector_db``, ``vector-database``). Write-back, the
sprawl report and ``tags merge`` all read tags through these functions, so that they agree on what one tag is: its
canonical form (lowercase, words joined by hyphens, no punctuation at the edges), and its stem key (each word's
Snowball stem), which ``gpu`` and ``gpus`` share. Aliases name the rest: a file of ``variant: canonical`` lines
(TAGGING_TAG_ALIASES).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import Stemmer

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
    """What tags of one stem share: each word's Snowball stem, a plural's ``s`` after a vowel dropped too (the
    stemmer keeps ``gpus`` and ``apis`` apart from ``gpu`` and ``api``)."""
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
