"""Input tokens of a request: exact with tiktoken when the model's encoding is on this machine, else estimated.

A run never downloads anything. tiktoken keeps each encoding it has fetched in
its cache folder (``TIKTOKEN_CACHE_DIR``, else ``data-gym-cache`` in the temp
folder); when the model's file is there, counts are exact. Otherwise they are
estimated by OpenAI's rule of thumb for English (``CHARS_PER_TOKEN``), which
the README measures against exact counts on the bundled transcripts. Fill the
cache once, where there is network, with
``python -c "import tiktoken; tiktoken.encoding_for_model('gpt-4o-mini')"``.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import tiktoken

from tagging_assets.core.protocol import CHARS_PER_TOKEN

TOKENS_PER_MESSAGE = 4
"""Chat framing: three tokens a message and one for its role (OpenAI's cookbook count for gpt-4o models)."""
TOKENS_PER_REQUEST = 3
"""The tokens that prime the reply."""
FALLBACK_ENCODING = "o200k_base"
"""The encoding of the gpt-4o and gpt-4.1 families, for a model tiktoken does not know."""
_ENCODINGS_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


class TokenCounter:
    """Counts the tokens of message texts, one way for a whole run: exactly, or by the estimate."""

    def __init__(self, encoding: tiktoken.Encoding | None = None) -> None:
        self.encoding = encoding

    @property
    def exact(self) -> bool:
        return self.encoding is not None

    @property
    def method(self) -> str:
        """How counts are made, for metadata and messages."""
        if self.encoding is None:
            return f"estimate ({CHARS_PER_TOKEN} characters a token)"
        return f"exact (tiktoken {self.encoding.name})"

    def count(self, text: str) -> int:
        if self.encoding is None:
            return math.ceil(len(text) / CHARS_PER_TOKEN)
        return len(self.encoding.encode_ordinary(text))

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """Counts for many texts; tiktoken releases the GIL, so exact counts use every core."""
        if self.encoding is None or len(texts) < 2:
            return [self.count(text) for text in texts]
        threads = min(len(texts), os.cpu_count() or 1)
        return [len(tokens) for tokens in self.encoding.encode_ordinary_batch(list(texts), num_threads=threads)]

    def request_tokens(self, messages: Sequence[str]) -> int:
        """Input tokens of a chat request with these message texts, framing included."""
        return TOKENS_PER_REQUEST + sum(TOKENS_PER_MESSAGE + count for count in self.count_many(messages))

    def trim(self, text: str, max_tokens: int) -> tuple[str, bool]:
        """Keep the head and the tail of a text over the budget (two thirds and one third of it): a talk's opening
        says what it is about and its end sums it up. Whether anything was cut goes with the text."""
        if self.encoding is None:
            budget = max_tokens * CHARS_PER_TOKEN
            if len(text) <= budget:
                return text, False
            head, tail = text[: budget * 2 // 3], text[-(budget // 3) :]
        else:
            if len(text.encode("utf-8", "surrogatepass")) <= max_tokens:
                return text, False
            tokens = self.encoding.encode_ordinary(text)
            if len(tokens) <= max_tokens:
                return text, False
            head = self.encoding.decode(tokens[: max_tokens * 2 // 3])
            tail = self.encoding.decode(tokens[-(max_tokens // 3) :])
        omitted = len(text.split()) - len(head.split()) - len(tail.split())
        return f"{head}\n\n[... {omitted:,} words omitted ...]\n\n{tail}", True


def cached_encoding_path(name: str, cache_dir: Path) -> Path:
    """The file tiktoken reads the named encoding from, once fetched (its cache key is the URL's SHA-1)."""
    url = _ENCODINGS_URL.format(name=name)
    return cache_dir / hashlib.sha1(url.encode()).hexdigest()


def encoding_name_for(model: str) -> str:
    try:
        return tiktoken.encoding_name_for_model(model)
    except KeyError:
        return FALLBACK_ENCODING


def counter_for(model: str, cache_dir: Path) -> TokenCounter:
    """Exact counts when the model's encoding is in tiktoken's cache folder (read, never downloaded); else the
    estimate. ``cache_dir`` is where tiktoken looks (``TaggingSettings.tiktoken_cache_dir``)."""
    return _counter(encoding_name_for(model), str(cache_dir))


@cache
def _counter(name: str, cache_dir: str) -> TokenCounter:
    """One counter per encoding and cache folder: the folder is part of the key, so pointing
    TIKTOKEN_CACHE_DIR elsewhere is looked at afresh."""
    if not cached_encoding_path(name, Path(cache_dir)).is_file():
        return TokenCounter()
    try:
        return TokenCounter(tiktoken.get_encoding(name))
    except (OSError, ValueError):
        return TokenCounter()
