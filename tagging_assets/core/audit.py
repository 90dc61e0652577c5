"""The checks behind the asset checks, as plain functions over files and the cache."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from qdrant_client import models

from tagging_assets.core.cache import CachedPoint, QdrantCache
from tagging_assets.core.contracts import GENERIC_TAGS, MAX_TAGS, MIN_TAGS, TAG_PATTERN, IndexEntry
from tagging_assets.core.results import Outcome, ParseProblem, read_outcomes
from tagging_assets.core.shards import Limits
from tagging_assets.core.tags import NO_ALIASES, canonicalize, stem_key
from tagging_assets.wire import read_request

_TAG = re.compile(TAG_PATTERN)
_MAX_LISTED = 20


@dataclass
class InputAudit:
    """What checking a set of input files found."""

    files: int = 0
    requests: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < _MAX_LISTED:
            self.problems.append(text)


def audit_input_files(paths: Iterable[Path], limits: Limits | None = None) -> InputAudit:
    """Every line is a valid request, custom_ids are unique across files, one model and one endpoint a file,
    files within ``limits``, by default those of the file's endpoint."""
    audit = InputAudit()
    seen: set[str] = set()
    for path in paths:
        audit.files += 1
        size = path.stat().st_size
        audit.bytes += size
        models_in_file: set[str] = set()
        endpoints_in_file: set[str] = set()
        count = 0
        with path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                count += 1
                try:
                    request = read_request(line)
                except ValidationError as error:
                    first = error.errors()[0]
                    where = ".".join(map(str, first["loc"])) or "line"
                    audit.problem(f"{path.name}:{number}: {where}: {first['msg']}")
                    continue
                if request.custom_id in seen:
                    audit.problem(f"{path.name}:{number}: duplicate custom_id {request.custom_id!r}")
                seen.add(request.custom_id)
                models_in_file.add(request.model)
                endpoints_in_file.add(request.endpoint)
        audit.requests += count
        limit = limits or Limits.for_endpoint(min(endpoints_in_file, default=""))
        if size > limit.bytes:
            audit.problem(f"{path.name}: {size:,} bytes, over the {limit.bytes:,} byte limit")
        if count == 0:
            audit.problem(f"{path.name}: no requests")
        if count > limit.requests:
            audit.problem(f"{path.name}: {count:,} requests, over the {limit.requests:,} limit")
        if len(models_in_file) > 1:
            audit.problem(f"{path.name}: several models in one file: {sorted(models_in_file)}")
        if len(endpoints_in_file) > 1:
            audit.problem(f"{path.name}: several endpoints in one file: {sorted(endpoints_in_file)}")
    return audit


@dataclass(frozen=True)
class Accounting:
    """How the submitted custom_ids show up in a batch's result files."""

    submitted: int
    in_output: int
    in_errors: int
    missing: list[str]
    repeated: list[str]
    unknown: list[str]
    unreadable: list[ParseProblem]

    @property
    def complete(self) -> bool:
        return not (self.missing or self.repeated or self.unknown or self.unreadable)


def account_for_results(submitted: Iterable[str], output: Path | None, errors: Path | None) -> Accounting:
    """Each submitted custom_id should appear exactly once across the output and error files."""
    expected = set(submitted)
    counts: Counter[str] = Counter()
    per_file = {"output": 0, "errors": 0}
    problems: list[ParseProblem] = []
    for name, path in (("output", output), ("errors", errors)):
        if path is None:
            continue
        for outcome in read_outcomes(path, problems):
            counts[outcome.custom_id] += 1
            per_file[name] += 1
    return Accounting(
        submitted=len(expected),
        in_output=per_file["output"],
        in_errors=per_file["errors"],
        missing=sorted(expected - counts.keys()),
        repeated=sorted(custom_id for custom_id, count in counts.items() if count > 1),
        unknown=sorted(counts.keys() - expected),
        unreadable=problems,
    )


def tag_problems(point: CachedPoint) -> list[str]:
    """Why a point's tags break the format: 3-5, lowercase, hyphenated, not generic. Fewer than three on a point
    write-back flagged ``few_tags`` are what the reply had to give: reported apart, not a problem."""
    if point.tags_problem is not None and not point.tags:
        return [point.tags_problem]
    problems = [] if point.tags_problem is None else [point.tags_problem]
    few_tags_flagged = point.tagging is not None and point.tagging.few_tags and len(point.tags) < MIN_TAGS
    if not few_tags_flagged and not MIN_TAGS <= len(point.tags) <= MAX_TAGS:
        problems.append(f"{len(point.tags)} tags, not {MIN_TAGS}-{MAX_TAGS}")
    for tag in point.tags:
        if not _TAG.match(tag):
            problems.append(f"{tag!r} is not lowercase and hyphenated")
        elif tag in GENERIC_TAGS:
            problems.append(f"{tag!r} is generic")
    return problems


def batch_points(cache: QdrantCache, batch_id: str) -> list[CachedPoint]:
    """The points whose last tagging attempt was this batch."""
    only = models.Filter(must=[models.FieldCondition(key="tagging.batch_id", match=models.MatchValue(value=batch_id))])
    return list(cache.points(only=only))


@dataclass(frozen=True)
class FormatReport:
    """What the format check found on one batch's tagged points: ``problems`` fail it, ``few_tags`` (the points
    left with fewer than three usable tags) are reported without failing it."""

    tagged: int
    problems: list[str]
    few_tags: list[str]


def format_problems(cache: QdrantCache, batch_id: str) -> FormatReport:
    """The tagged points of a batch, the problems with their tags, and those flagged ``few_tags``."""
    problems: list[str] = []
    few_tags: list[str] = []
    tagged = 0
    for point in batch_points(cache, batch_id):
        if point.tagging is None or point.tagging.status != "tagged":
            continue
        tagged += 1
        name = str(point.video_id or point.point_id)
        problems.extend(f"{name}: {problem}" for problem in tag_problems(point))
        if point.tagging.few_tags:
            few_tags.append(name)
    return FormatReport(tagged, problems[:_MAX_LISTED], few_tags)


def disagreements(
    cache: QdrantCache,
    batch_id: str,
    index: dict[str, IndexEntry],
    output: Path | None,
    errors: Path | None,
    *,
    aliases: Mapping[str, str] = NO_ALIASES,
    allowed: frozenset[str] | None = None,
) -> list[str]:
    """Where the cache and the batch's results disagree: each successful result, canonicalised with ``aliases``
    and ``allowed`` as write-back does, must be the point's tags (stem for stem: write-back spells a stem as the
    library does) and summary, its raw tags kept in the point's state, and every other submitted id must be failed
    in the cache."""
    by_point = {entry.point_id: custom_id for custom_id, entry in index.items()}
    points = cache.points_by_id(list(by_point))
    expected: dict[str, Outcome] = {}
    problems: list[ParseProblem] = []
    for path in (output, errors):
        if path is not None:
            for read in read_outcomes(path, problems):
                expected.setdefault(read.custom_id, read)
    found = []
    for point_id, custom_id in by_point.items():
        point = points.get(point_id)
        if point is None:
            found.append(f"{custom_id}: the point is gone from the cache")
            continue
        state = point.tagging
        if state is None or state.batch_id != batch_id:
            continue
        outcome = expected.get(custom_id)
        if outcome is not None and outcome.output is not None:
            if state.status != "tagged":
                found.append(f"{custom_id}: tagged in the results, {state.status} in the cache")
            elif (
                [stem_key(tag) for tag in point.tags]
                != [stem_key(tag) for tag in canonicalize(outcome.output.tags, aliases=aliases, allowed=allowed).tags]
                or point.summary != outcome.output.summary
                or state.raw_tags != outcome.output.tags
            ):
                found.append(f"{custom_id}: the cache's tags or summary differ from the results")
        elif state.status != "failed":
            found.append(f"{custom_id}: failed or missing in the results, {state.status} in the cache")
    return found[:_MAX_LISTED]
