"""What identifies a submission, read from its files alone: no SDK is needed to find a batch again."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tagging_assets.core.contracts import Shard


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def submission_key(shard: Shard, input_sha256: str) -> str:
    """What identifies a submission: the bytes of its requests (``input_sha256``, hashed once by the caller, who
    names the upload by it too) and of its index, which holds the items' attempt counts, so a retry of the same
    requests after a finished batch is a new batch."""
    return hashlib.sha256(f"{input_sha256}:{file_sha256(shard.index_path)}".encode()).hexdigest()
