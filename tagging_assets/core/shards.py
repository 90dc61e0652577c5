"""From cache points to Batch API input: which items need tags, and the JSONL shards that ask for them.

Everything streams: points are read page by page and written line by line, so
memory does not grow with the size of the cache (beyond the set of video ids
seen, which catches duplicates).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

import orjson
import xxhash
from qdrant_client import models

from tagging_assets.core.cache import PointId, QdrantCache
from tagging_assets.core.contracts import BatchRequest, BatchRequestBody
from tagging_assets.core.prompt import PROMPT_VERSION, SYSTEM_PROMPT, user_message
from tagging_assets.core.tokens import TokenCounter, counter_for

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_REQUESTS_PER_FILE = 50_000
MAX_BYTES_PER_FILE = 200 * 1024 * 1024
MAX_TRANSCRIPT_TOKENS = 32_000
"""A transcript longer than this is trimmed: far inside gpt-4o-mini's 128k context, and a cap on what one item
can cost."""
_COUNTED_TOGETHER = 256
_PROGRESS_EVERY = 1000
_BUFFERS_PER_CALL = 1024
"""IOV_MAX on Linux and macOS: the most buffers one ``writev`` call takes."""


def custom_id_for(video_id: str) -> str:
    return f"youtube:{video_id}"


def content_hash(title: str, transcript: str) -> str:
    """What the tags were made from; a change makes the item stale.

    XXH3-128 spots any change as surely as a cryptographic hash would (nobody is
    forging transcripts against their own cache) and runs ten times faster,
    which matters when a scan hashes every transcript in the cache.
    """
    return xxhash.xxh3_128_hexdigest(f"{title}\n{transcript}".encode("utf-8", "surrogatepass"))


def prompt_version_for(system_prompt: str) -> str:
    """The bundled prompt's version, or one derived from a custom prompt's text."""
    if system_prompt == SYSTEM_PROMPT:
        return PROMPT_VERSION
    return "custom-" + hashlib.sha256(system_prompt.encode()).hexdigest()[:12]


@dataclass(slots=True)
class CacheItem:
    """One transcript that needs tags, with what write-back will need.

    A plain slotted record, not a frozen one: a scan makes one per selected point,
    and a frozen dataclass takes five times as long to build."""

    point_id: PointId
    video_id: str
    title: str
    transcript: str
    content_hash: str
    attempts: int
    reason: str
    truncated: bool = False

    @property
    def custom_id(self) -> str:
        return custom_id_for(self.video_id)


@dataclass
class SelectionReport:
    """What a scan of the cache found: counted, so the asset metadata can say it."""

    scanned: int = 0
    selected: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    truncated: int = 0


def sendable(text: str) -> str:
    """``text`` as a UTF-8 file can hold it: a lone surrogate (half of an emoji cut in two, which an embedded
    store keeps as it was given) becomes U+FFFD. ASCII text, the usual case, costs nothing to check."""
    if text.isascii():
        return text
    try:
        text.encode()
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text)
    return text


def why_tag(tagging: Any, item_hash: str, model: str, prompt_version: str, max_attempts: int) -> tuple[bool, str, int]:
    """Whether a point needs tagging now, why (or why not), and its attempts so far."""
    if not isinstance(tagging, dict):
        return True, "new", 0
    attempts = tagging["attempts"] if isinstance(tagging.get("attempts"), int) else 0
    if tagging.get("status") == "pending":
        return False, "pending", attempts
    if tagging.get("content_hash") != item_hash:
        return True, "content-changed", 0
    if tagging.get("prompt_version") != prompt_version:
        return True, "prompt-changed", 0
    if tagging.get("model") != model:
        return True, "model-changed", 0
    if tagging.get("status") == "failed":
        if attempts < max_attempts and tagging.get("retryable", True):
            return True, "retry", attempts
        return False, "given-up", attempts
    return False, "up-to-date", attempts


def select_items(
    cache: QdrantCache,
    report: SelectionReport,
    model: str,
    prompt_version: str = PROMPT_VERSION,
    max_attempts: int = 3,
    only: models.Filter | None = None,
    max_transcript_tokens: int = MAX_TRANSCRIPT_TOKENS,
    counter: TokenCounter | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[CacheItem]:
    """Stream the points that need tags; count the rest in ``report``, each with its reason.
    ``progress`` hears of the points scanned, a thousand at a time, for a progress bar."""
    counter = counter or counter_for(model)
    fields = cache.fields
    seen_videos: set[str] = set()
    for point_id, payload in cache.scroll([fields.video_id, fields.title, fields.transcript, "tagging"], only=only):
        report.scanned += 1
        if progress is not None and report.scanned % _PROGRESS_EVERY == 0:
            progress(_PROGRESS_EVERY)
        video_id = payload.get(fields.video_id)
        title = payload.get(fields.title)
        transcript = payload.get(fields.transcript)
        if not isinstance(video_id, str | int) or not str(video_id).strip():
            report.skipped["missing-video-id"] += 1
            continue
        video_id = str(video_id)
        if video_id in seen_videos:
            report.skipped["duplicate-video-id"] += 1
            continue
        seen_videos.add(video_id)
        if not isinstance(transcript, str):
            report.skipped["missing-transcript" if transcript is None else "transcript-not-text"] += 1
            continue
        if not transcript or transcript.isspace():
            report.skipped["empty-transcript"] += 1
            continue
        title = title if isinstance(title, str) else ""
        item_hash = content_hash(title, transcript)
        selected, reason, attempts = why_tag(payload.get("tagging"), item_hash, model, prompt_version, max_attempts)
        if not selected:
            report.skipped[reason] += 1
            continue
        report.selected[reason] += 1
        transcript, truncated = counter.trim(transcript, max_transcript_tokens)
        report.truncated += truncated
        yield CacheItem(
            point_id, sendable(video_id), sendable(title), sendable(transcript), item_hash, attempts, reason, truncated
        )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the pipeline streams through the cache.

    A scan or a write-back allocates tens of thousands of objects a page, and each
    allocation burst sets off collections that walk every object the embedded store
    holds: a third of a scan's time, more the larger the store. Nothing they make
    holds a reference cycle, so reference counting frees it all the same; the
    collector runs again as soon as they end.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def write_snapshot(items: Iterable[CacheItem], path: Path) -> int:
    """Write the selected items to a JSONL file, so later steps need not scan the cache again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("wb") as snapshot:
        for item in items:
            snapshot.write(orjson.dumps(item, option=orjson.OPT_APPEND_NEWLINE))
            count += 1
    return count


def read_snapshot(path: Path) -> Iterator[CacheItem]:
    with path.open("rb") as snapshot:
        for line in snapshot:
            yield CacheItem(**orjson.loads(line))


def build_request(item: CacheItem, model: str, system_prompt: str = SYSTEM_PROMPT) -> BatchRequest:
    messages = [
        {"role": "system", "content": system_prompt},
        {"role": "user", "content": user_message(item.title, item.transcript)},
    ]
    return BatchRequest(custom_id=item.custom_id, body=BatchRequestBody(model=model, messages=messages))


@dataclass(frozen=True)
class Shard:
    """One input file, within the Batch API's limits, and its index for write-back."""

    path: Path
    index_path: Path
    requests: int
    bytes: int
    input_tokens: int
    largest_request_tokens: int

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path), "index_path": str(self.index_path)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shard:
        return cls(**{**data, "path": Path(data["path"]), "index_path": Path(data["index_path"])})


def index_path_for(requests_path: Path) -> Path:
    return requests_path.with_name(requests_path.stem + ".index.jsonl")


class RequestEncoder:
    """Serialises request lines without building a model per line.

    Everything but the custom_id and the user message is the same on every line,
    so it is encoded once, and the two strings are escaped by orjson, several times
    faster than the standard library on transcript-sized text. The output equals
    ``build_request(...).model_dump_json()`` (a test holds it to that).
    """

    def __init__(self, model: str, system_prompt: str = SYSTEM_PROMPT) -> None:
        template = BatchRequest(
            custom_id="\x00id",
            body=BatchRequestBody(
                model=model,
                messages=[
                    {"role": "system", "content": system_prompt},
                    {"role": "user", "content": "\x00user"},
                ],
            ),
        ).model_dump_json()
        head, rest = template.split(json.dumps("\x00id"), 1)
        middle, tail = rest.split(json.dumps("\x00user"), 1)
        self._head, self._middle, self._tail = head.encode(), middle.encode(), f"{tail}\n".encode()

    def encode(self, item: CacheItem) -> tuple[bytes, str]:
        """The request line for ``item``, and its user message, whose tokens the caller counts."""
        user = user_message(item.title, item.transcript)
        line = b"".join((self._head, orjson.dumps(item.custom_id), self._middle, orjson.dumps(user), self._tail))
        return line, user


def write_shards(
    items: Iterable[CacheItem],
    path_for: Callable[[int], Path],
    model: str,
    system_prompt: str = SYSTEM_PROMPT,
    max_requests: int = MAX_REQUESTS_PER_FILE,
    max_bytes: int = MAX_BYTES_PER_FILE,
    max_tokens: int | None = None,
    counter: TokenCounter | None = None,
) -> list[Shard]:
    """Write request lines into as many files as the limits need; shard ``n`` (from 1) goes to ``path_for(n)``.

    ``max_tokens`` (the model's enqueued-token budget) keeps every shard small
    enough to be queued on its own.
    Next to each file an index (custom_id, point id, content hash, attempts, input
    tokens) lets write-back find the points without searching the cache.
    Items are counted a few hundred at a time, so exact counts run on every core.
    """
    counter = counter or counter_for(model)
    encoder = RequestEncoder(model, system_prompt)
    framing = counter.request_tokens([system_prompt, ""])
    limits = _Limits(max_requests, max_bytes, max_tokens)
    shards: list[Shard] = []
    writer: _ShardWriter | None = None
    try:
        for chunk, encoded in _encoded_chunks(items, encoder, _COUNTED_TOGETHER):
            tokens = [framing + count for count in counter.count_many([user for _, user in encoded])]
            lines = [line for line, _ in encoded]
            entries = [_index_entry(item, count) for item, count in zip(chunk, tokens, strict=True)]
            while lines:
                if writer is None:
                    writer = _ShardWriter(path_for(len(shards) + 1))
                taken = writer.take(lines, entries, tokens, limits)
                if taken < len(lines):
                    shards.append(writer.close())
                    writer = None
                lines, entries, tokens = lines[taken:], entries[taken:], tokens[taken:]
    finally:
        if writer is not None:
            shards.append(writer.close())
    return shards


def _index_entry(item: CacheItem, tokens: int) -> bytes:
    """The index line write-back reads to find the item's point and what it was asked from."""
    return orjson.dumps(
        {
            "custom_id": item.custom_id,
            "point_id": item.point_id,
            "content_hash": item.content_hash,
            "attempts": item.attempts,
            "truncated": item.truncated,
            "input_tokens": tokens,
        },
        option=orjson.OPT_APPEND_NEWLINE,
    )


def _encoded_chunks(
    items: Iterable[CacheItem], encoder: RequestEncoder, size: int
) -> Iterator[tuple[list[CacheItem], list[tuple[bytes, str]]]]:
    """Items ``size`` at a time with their encodings, each encoded as it arrives, its transcript still in the
    CPU's cache from the scan that hashed it."""
    chunk: list[CacheItem] = []
    encoded: list[tuple[bytes, str]] = []
    for item in items:
        chunk.append(item)
        encoded.append(encoder.encode(item))
        if len(chunk) == size:
            yield chunk, encoded
            chunk, encoded = [], []
    if chunk:
        yield chunk, encoded


@dataclass(frozen=True)
class _Limits:
    """What one input file may hold."""

    requests: int
    bytes: int
    tokens: int | None


class _ShardWriter:
    """Writes one shard and its index.

    Lines go to a background thread whenever 2 MB or more have gathered, as the
    list of lines they are: the thread hands them to the kernel with ``os.writev``
    (no copy into one buffer, the GIL released), so writing overlaps with reading
    the next points. Up to four chunks may wait for it, so the scan does not stop
    whenever the disk does, and memory stays bounded at five chunks.
    """

    chunk_bytes = 2 * 1024 * 1024
    chunks_in_flight = 4

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.index_path = index_path_for(path)
        self._requests = path.open("wb", buffering=0)
        self._index = self.index_path.open("wb")
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"write-{path.name}")
        self._in_flight: deque[Future[None]] = deque()
        self._lines: list[bytes] = []
        self._entries: list[bytes] = []
        self._buffered = 0
        self.count = 0
        self.size = 0
        self.tokens = 0
        self.largest = 0

    def take(self, lines: list[bytes], entries: list[bytes], tokens: list[int], limits: _Limits) -> int:
        """Add as many of these lines, in order, as the limits leave room for, and say how many.

        An empty shard takes the first line whatever its size: a request over a
        limit on its own still goes out (the token budget is checked at submit),
        rather than leaving an empty file behind.
        """
        count = min(len(lines), limits.requests - self.count)
        running_bytes = list(accumulate(map(len, lines[:count])))
        running_tokens = list(accumulate(tokens[:count]))
        count = min(count, bisect_right(running_bytes, limits.bytes - self.size))
        if limits.tokens is not None:
            count = min(count, bisect_right(running_tokens, limits.tokens - self.tokens))
        if self.count == 0:
            count = max(count, 1)
        if count == 0:
            return 0
        size = running_bytes[count - 1]
        self._lines += lines[:count]
        self._entries += entries[:count]
        self.count += count
        self.size += size
        self.tokens += running_tokens[count - 1]
        self.largest = max(self.largest, *tokens[:count])
        self._buffered += size
        if self._buffered >= self.chunk_bytes:
            self._hand_over()
        return count

    def _hand_over(self) -> None:
        lines, entries = self._lines, self._entries
        self._lines, self._entries, self._buffered = [], [], 0
        self._wait(until_at_most=self.chunks_in_flight - 1)
        self._in_flight.append(self._thread.submit(self._write, lines, entries))

    def _write(self, lines: list[bytes], entries: list[bytes]) -> None:
        write_all(self._requests.fileno(), lines)
        self._index.write(b"".join(entries))

    def _wait(self, until_at_most: int = 0) -> None:
        while len(self._in_flight) > until_at_most:
            self._in_flight.popleft().result()

    def close(self) -> Shard:
        try:
            if self._lines:
                self._hand_over()
            self._wait()
        finally:
            self._thread.shutdown()
            self._requests.close()
            self._index.close()
        return Shard(self.path, self.index_path, self.count, self.size, self.tokens, self.largest)


def write_all(fd: int, buffers: list[bytes]) -> None:
    """Write every buffer in order, a system call per 1,024 of them; a short write (a signal, a full
    disk's last bytes) is finished by plain writes."""
    for start in range(0, len(buffers), _BUFFERS_PER_CALL):
        group = buffers[start : start + _BUFFERS_PER_CALL]
        written = os.writev(fd, group)
        if written < sum(map(len, group)):
            rest = memoryview(b"".join(group))[written:]
            while rest:
                rest = rest[os.write(fd, rest) :]


def read_index(path: Path) -> dict[str, dict[str, Any]]:
    """custom_id -> its point id, content hash and prior attempts."""
    with path.open("rb") as index:
        return {entry["custom_id"]: entry for entry in map(orjson.loads, index)}
