"""A closed vocabulary (TAGGING_VOCABULARY=closed): the tags a reply may give, read from a file, and whether the
provider's structured outputs can hold them as an ``enum``.

OpenAI's Structured Outputs take at most 1,000 enum values in a schema, and a string enum of more than 250 values
at most 15,000 characters in all (REFERENCE-runmodes §3, the limits since July 2025). Anthropic documents no enum
limit. A vocabulary over the limit is refused at ``prepare``, before anything is written, in one line naming it.
"""

from __future__ import annotations

from pathlib import Path

from tagging_assets.core.errors import ConfigError
from tagging_assets.core.tags import canonical_form

OPENAI_ENUM_VALUES = 1_000
"""The most enum values one OpenAI schema may hold."""
OPENAI_LONG_ENUM = 250
"""Past this many values, one string enum's values may add up to ``OPENAI_LONG_ENUM_CHARS`` characters at most."""
OPENAI_LONG_ENUM_CHARS = 15_000
LIMITED_PROVIDERS = ("openai", "azure")
"""The providers whose structured outputs limit an enum: OpenAI's, and Azure's, which serves the same models."""


def load_vocabulary(path: Path) -> tuple[str, ...]:
    """The tags in ``path``, one a line (``#`` starts a comment), in canonical form, each once, in the file's
    order; an unreadable or empty file is a ``ConfigError`` naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"TAGGING_VOCABULARY_FILE={path}: {error.strerror or error}") from None
    tags = dict.fromkeys(tag for line in text.splitlines() if (tag := canonical_form(line.split("#", 1)[0])))
    if not tags:
        raise ConfigError(f"TAGGING_VOCABULARY_FILE={path} holds no tags: write one tag a line")
    return tuple(tags)


def check_enum_fits(tags: tuple[str, ...], *, provider: str, path: Path) -> None:
    """Refuse a vocabulary that the provider's structured outputs cannot hold as one ``enum``."""
    if provider not in LIMITED_PROVIDERS:
        return
    where = f"TAGGING_VOCABULARY_FILE={path}"
    if len(tags) > OPENAI_ENUM_VALUES:
        raise ConfigError(
            f"{where}: {len(tags):,} tags, over the {OPENAI_ENUM_VALUES:,} enum values OpenAI's structured outputs "
            "take in a schema; keep the most used, or use TAGGING_VOCABULARY=prefer"
        )
    characters = sum(len(tag) for tag in tags)
    if len(tags) > OPENAI_LONG_ENUM and characters > OPENAI_LONG_ENUM_CHARS:
        raise ConfigError(
            f"{where}: {len(tags):,} tags of {characters:,} characters in all; OpenAI's structured outputs take an "
            f"enum of more than {OPENAI_LONG_ENUM} values only up to {OPENAI_LONG_ENUM_CHARS:,} characters"
        )
