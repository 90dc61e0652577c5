"""A deterministic offline embedding for the sample cache.

The pipeline never reads vectors (it tags payloads), but a cache without
vectors is not a real Qdrant collection, so seeding writes real ones: signed
feature hashing (Weinberger et al., 2009) of the lowercased words and word pairs
into 256 dimensions, L2-normalised, so texts that share words lie close under
cosine distance. No model, no download, the same vector on every machine.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re

DIMENSIONS = 256
_WORD = re.compile(r"[a-z0-9]+")


def embed(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    """The hashed bag-of-words vector of ``text``."""
    vector = [0.0] * dimensions
    words = _WORD.findall(text.lower())
    for feature in [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dimensions
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(value * value for value in vector))
    return [value / norm for value in vector] if norm else vector
