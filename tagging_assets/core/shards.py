"""From selected items to Batch API input: JSONL shards within the API's limits, each with its index.

A shard is one input file (at most 50,000 requests and 200 MB at OpenAI, and within the
enqueued-token budget when one is set), an index beside it (one line per request:
custom_id, point id, content hash, attempts, input tokens) so that write-back
finds the points without searching the cache, and a small manifest (the ``Shard``
itself) so that submitting knows its tokens and prompt version without reading
the file again. Shard 1 is the output file itself, shard N ``{stem}.partN{suffix}``,
from the command line and from Dagster alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson

from tagging_assets.core.contracts import IndexEntry, Shard
from tagging_assets.core.errors import InputError
from tagging_assets.core.models import RequestOptions
from tagging_assets.core.prompt import prompt_version_for, user_message
from tagging_assets.core.protocol import (
    GENERATE_CONTENT,
    MAX_BYTES_PER_FILE,
    MAX_BYTES_PER_GEMINI_FILE,
    MAX_BYTES_PER_MESSAGE_BATCH,
    MAX_REQUESTS_PER_FILE,
    MAX_REQUESTS_PER_MESSAGE_BATCH,
    MESSAGES,
    Endpoint,
)
from tagging_assets.core.selection import CacheItem
from tagging_assets.core.tokens import TokenCounter
from tagging_assets.wire import encoder as request_encoder

MESSAGE_BATCH_JOINING_BYTES = MAX_REQUESTS_PER_MESSAGE_BATCH + 64
"""What joining a shard's lines into the create request's ``requests`` list adds (a comma between requests, the
brackets and the key): a Message Batch goes inline, so its shard is held that much under Anthropic's limit."""
_COUNTED_TOGETHER = 256
"""Requests whose tokens are counted in one call, so that exact counts use every core."""


@dataclass(frozen=True)
class Limits:
    """What one input file may hold: the API's limits, and the enqueued-token budget when one is set."""

    requests: int = MAX_REQUESTS_PER_FILE
    bytes: int = MAX_BYTES_PER_FILE
    tokens: int | None = None

    @classmethod
    def for_endpoint(cls, endpoint: str, *, requests: int | None = None, tokens: int | None = None) -> Limits:
        """The API's limits for one batch of ``endpoint``, tightened by the configured request count and
        token budget: 50,000 requests and 200 MB a file at OpenAI and Azure, 100,000 requests and 256 MB a
        Message Batch at Anthropic, 2 GB a file at Gemini. Gemini documents no request count, so its batches keep
        the usual 50,000; whether a shard goes inline (under 20 MB) or as a file is the provider's choice."""
        if endpoint == MESSAGES:
            most, size = MAX_REQUESTS_PER_MESSAGE_BATCH, MAX_BYTES_PER_MESSAGE_BATCH - MESSAGE_BATCH_JOINING_BYTES
        elif endpoint == GENERATE_CONTENT:
            most, size = MAX_REQUESTS_PER_FILE, MAX_BYTES_PER_GEMINI_FILE
        else:
            most, size = MAX_REQUESTS_PER_FILE, MAX_BYTES_PER_FILE
        return cls(requests=min(requests or most, most), bytes=size, tokens=tokens)


def shard_path(output: Path, number: int) -> Path:
    """Where shard ``number`` (from 1) of ``output`` goes."""
    return output if number == 1 else output.with_name(f"{output.stem}.part{number}{output.suffix}")


def index_path_for(requests_path: Path) -> Path:
    return requests_path.with_name(requests_path.stem + ".index.jsonl")


def manifest_path_for(requests_path: Path) -> Path:
    return requests_path.with_name(requests_path.stem + ".shard.json")


def write_shards(
    items: Iterable[CacheItem],
    output: Path,
    *,
    options: RequestOptions,
    endpoint: Endpoint,
    system_prompt: str,
    counter: TokenCounter,
    limits: Limits | None = None,
    prompt_version: str | None = None,
) -> list[Shard]:
    """Write request lines into as many shards of ``output`` as the limits need; an empty selection writes none.
    ``prompt_version`` marks the items (by default the system prompt's own), so a prompt that carries the library's
    tags beside the user's keeps the user's version.

    Items are counted a few hundred at a time, so exact counts run on every core.
    """
    limits = limits or Limits.for_endpoint(endpoint)
    encoder = request_encoder(endpoint, options, system_prompt)
    framing = counter.request_tokens([system_prompt, ""])
    prompt_version = prompt_version or prompt_version_for(system_prompt)
    shards: list[Shard] = []
    writer: _ShardWriter | None = None
    try:
        for chunk in _chunks(items, _COUNTED_TOGETHER):
            users = [user_message(item.title, item.transcript) for item in chunk]
            counts = [framing + count for count in counter.count_many(users)]
            for item, user, tokens in zip(chunk, users, counts, strict=True):
                custom_id = encoder.custom_id(item.custom_id)
                line = encoder.encode(custom_id, user)
                if writer is not None and not writer.fits(len(line), tokens, limits):
                    shards.append(writer.close())
                    writer = None
                if writer is None:
                    writer = _ShardWriter(shard_path(output, len(shards) + 1), options.model, endpoint, prompt_version)
                writer.add(line, _index_line(custom_id, item, tokens), tokens)
    finally:
        if writer is not None:
            shards.append(writer.close())
    return shards


def _chunks(items: Iterable[CacheItem], size: int) -> Iterator[list[CacheItem]]:
    chunk: list[CacheItem] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _index_line(custom_id: str, item: CacheItem, tokens: int) -> bytes:
    return orjson.dumps(
        {
            "custom_id": custom_id,
            "point_id": item.point_id,
            "content_hash": item.content_hash,
            "attempts": item.attempts,
            "truncated": item.truncated,
            "input_tokens": tokens,
        },
        option=orjson.OPT_APPEND_NEWLINE,
    )


class _ShardWriter:
    """Writes one shard, its index and, once closed, its manifest."""

    def __init__(self, path: Path, model: str, endpoint: Endpoint, prompt_version: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.model = model
        self.endpoint = endpoint
        self.prompt_version = prompt_version
        self._requests: IO[bytes] = path.open("wb", buffering=1024 * 1024)
        self._index: IO[bytes] = index_path_for(path).open("wb", buffering=1024 * 1024)
        self.count = 0
        self.size = 0
        self.tokens = 0
        self.largest = 0

    def fits(self, size: int, tokens: int, limits: Limits) -> bool:
        """Whether one more request stays within the limits. An empty shard takes any request, so one over a
        limit on its own still goes out (the token budget is checked at submit) rather than leaving an empty file."""
        budget_ok = limits.tokens is None or self.tokens + tokens <= limits.tokens
        return self.count < limits.requests and self.size + size <= limits.bytes and budget_ok

    def add(self, line: bytes, index_line: bytes, tokens: int) -> None:
        self._requests.write(line)
        self._index.write(index_line)
        self.count += 1
        self.size += len(line)
        self.tokens += tokens
        self.largest = max(self.largest, tokens)

    def close(self) -> Shard:
        self._requests.close()
        self._index.close()
        shard = Shard(
            path=self.path,
            index_path=index_path_for(self.path),
            requests=self.count,
            bytes=self.size,
            input_tokens=self.tokens,
            largest_request_tokens=self.largest,
            model=self.model,
            prompt_version=self.prompt_version,
            endpoint=self.endpoint,
        )
        manifest_path_for(self.path).write_text(shard.model_dump_json(indent=2), encoding="utf-8")
        return shard


def load_shard(path: Path) -> Shard:
    """The shard ``prepare`` wrote at ``path``, from the manifest beside it."""
    if not path.is_file():
        raise InputError(f"no input file at {path}")
    manifest = manifest_path_for(path)
    if not manifest.is_file() or not index_path_for(path).is_file():
        raise InputError(f"{path} has no shard manifest and index beside it ({manifest.name}); write it with `prepare`")
    try:
        return Shard.model_validate_json(manifest.read_bytes())
    except ValueError as error:
        raise InputError(
            f"{manifest} is not a shard manifest ({error}); write the input again with `prepare`"
        ) from None


def read_index(path: Path) -> dict[str, IndexEntry]:
    """custom_id -> its point id, content hash, prior attempts and input tokens. A line that is not an entry
    prepare wrote is an ``InputError`` naming it: write-back must not guess which point a result belongs to."""
    entries: dict[str, IndexEntry] = {}
    with path.open("rb") as index:
        for number, line in enumerate(index, start=1):
            if not line.strip():
                continue
            try:
                entry = _entry(orjson.loads(line))
            except (orjson.JSONDecodeError, TypeError, KeyError) as error:
                raise InputError(
                    f"{path}:{number}: not an index entry ({error}); write the input again with `prepare`"
                ) from None
            entries[entry.custom_id] = entry
    return entries


def _entry(data: object) -> IndexEntry:
    """An index entry from its JSON, its types checked by hand: 50,000 entries in a few milliseconds."""
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    entry = IndexEntry(
        data["custom_id"],
        data["point_id"],
        data["content_hash"],
        data["attempts"],
        data["truncated"],
        data["input_tokens"],
    )
    if not (
        isinstance(entry.custom_id, str)
        and isinstance(entry.point_id, str | int)
        and not isinstance(entry.point_id, bool)
        and isinstance(entry.content_hash, str)
        and type(entry.attempts) is int
        and type(entry.truncated) is bool
        and type(entry.input_tokens) is int
    ):
        raise TypeError("a field has the wrong type")
    return entry
