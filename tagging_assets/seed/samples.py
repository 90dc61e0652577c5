"""The sample transcripts that ship with the package: invented talks written for this project."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from tagging_assets.seed.seeding import Transcript

_ITEM = re.compile(r"^=== (\S+)\n(.*?)\n---\n(.*?)(?=^=== |\Z)", re.DOTALL | re.MULTILINE)


def load_samples() -> list[Transcript]:
    """Every sample as a cache item: ``video_id``, ``title``, ``transcript`` (absent on one), ``channel``,
    ``published_at``. The livestream sample is composed of every other talk, as a very long edge case."""
    text = resources.files(__package__).joinpath("talks.txt").read_text(encoding="utf-8")
    items: list[dict[str, Any]] = []
    composed: list[tuple[dict[str, Any], str]] = []
    for video_id, header, body in _ITEM.findall(text):
        fields = dict(line.split(": ", 1) for line in header.splitlines() if ": " in line)
        item: dict[str, Any] = {"video_id": video_id, "title": fields["title"], "channel": fields["channel"]}
        if "published_at" in fields:
            item["published_at"] = fields["published_at"]
        if fields.get("transcript") != "none":
            item["transcript"] = body.strip()
        if fields.get("compose") == "all":
            composed.append((item, body.strip()))
        items.append(item)
    talks = [item for item in items if "transcript" in item and not any(item is c for c, _ in composed)]
    for item, opening in composed:
        sessions = [
            f"Next up: {talk['title']}.\n\n{talk['transcript']}" for talk in talks if len(talk["transcript"]) > 1000
        ]
        item["transcript"] = "\n\n".join(
            [opening, *sessions, "That concludes today's track. Thank you all for joining."]
        )
    return [Transcript(**item) for item in items]
