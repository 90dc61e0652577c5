"""How coherent the tag vocabulary is under each ``TAGGING_VOCABULARY`` setting, and with aliases: the distinct
tags, the share of tags on a single video and the share of videos sharing a tag with another, as
``tagging-assets tags --json`` counts them, on the 42 bundled samples and on the 105 real transcripts.

Each configuration runs ``tagging-assets tag`` in realtime (faster than a batch on the gateway; a batch's tags
differ, as the tagger weighs terms across a batch) in a fresh cache and work directory, against one local gateway.
Its offline tagger answers, so these are the offline tagger's figures: how a language model behaves under
``prefer`` is not measured here.

- free: everything tagged with ``TAGGING_VOCABULARY=free`` (the default);
- prefer: the first fifth tagged free (``tag --limit N``), the rest with ``TAGGING_VOCABULARY=prefer``, which only
  helps once the library has tags to name;
- closed: the bundled samples held to ``tagging_assets/seed/vocabulary.txt``; the real transcripts to the free
  run's 150 most used tags, written to a temporary file;
- aliases: a fresh free run with ``TAGGING_TAG_ALIASES`` set to a file built from the free run's
  ``tags --near-duplicates`` groups (each group's other tags become its first), applied at write-back.

    python benchmarks/vocabulary.py [--no-readme]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from readme import write_section
from synthetic import TRANSCRIPTS

from tagging_assets.gateway.process import GatewayProcess
from tagging_assets.seed.samples import load_samples

SAMPLE_VOCABULARY = Path(__file__).resolve().parent.parent / "tagging_assets" / "seed" / "vocabulary.txt"
CLOSED_FROM_FREE = 150
"""How many of the free run's most used tags make the real transcripts' closed vocabulary."""


@dataclass(frozen=True)
class Corpus:
    name: str
    section: str
    seed_arguments: tuple[str, ...]
    videos: int
    closed_vocabulary: str
    """How the closed configuration's vocabulary was made, for the table's row."""


@dataclass(frozen=True)
class Figures:
    distinct_tags: int
    tagged_videos: int
    single_video_share: float
    sharing_share: float
    sharing: int

    def cells(self) -> str:
        return (
            f"{self.distinct_tags} | {self.single_video_share:.1%} "
            f"| {self.sharing_share:.1%} ({self.sharing} of {self.tagged_videos})"
        )


@dataclass(frozen=True)
class Measured:
    configuration: str
    """The setting, as the short summary names it."""
    detail: str
    """How it was run on this corpus."""
    figures: Figures


class Cli:
    """``tagging-assets`` commands against one cache and work directory, each of which must succeed."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.environment = environment

    def run(self, *arguments: str, extra: dict[str, str] | None = None) -> str:
        command = [sys.executable, "-m", "tagging_assets", *arguments]
        done = subprocess.run(
            command, env=self.environment | (extra or {}), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"`tagging-assets {' '.join(arguments)}` failed:\n{done.stderr[-2000:]}")
        return done.stdout

    def tags(self, *options: str) -> dict[str, Any]:
        listing: dict[str, Any] = json.loads(self.run("tags", "--json", *options))
        return listing

    def figures(self) -> Figures:
        figures = self.tags()["figures"]
        return Figures(
            distinct_tags=figures["distinct_tags"],
            tagged_videos=figures["tagged_videos"],
            single_video_share=figures["single_video_tag_share"],
            sharing_share=figures["videos_sharing_a_tag_share"],
            sharing=figures["videos_sharing_a_tag"],
        )


def real_transcripts() -> Path:
    return Path(os.environ.get("TAGGING_TRANSCRIPTS", TRANSCRIPTS))


def aliases_from_groups(groups: list[dict[str, list[str]]]) -> str:
    """A ``TAGGING_TAG_ALIASES`` file: each group's other tags as variants of its first, the tag it merges into."""
    return "".join(f"{variant}: {group['tags'][0]}\n" for group in groups for variant in group["tags"][1:])


def measure(corpus: Corpus, fresh_cli: Callable[[str], Cli], scratch: Path) -> list[Measured]:
    """The corpus's figures by configuration, each in its own cache."""

    def seeded(label: str) -> Cli:
        cli = fresh_cli(f"{corpus.section}-{label}")
        cli.run("seed-cache", *corpus.seed_arguments)
        return cli

    free = seeded("free")
    free.run("tag")
    measured = [Measured("`free`", "the default", free.figures())]
    listing = free.tags("--near-duplicates")

    prefer = seeded("prefer")
    first_fifth = corpus.videos // 5
    prefer.run("tag", "--limit", str(first_fifth))
    prefer.run("tag", extra={"TAGGING_VOCABULARY": "prefer"})
    measured.append(Measured("`prefer`", f"the first {first_fifth} videos tagged `free`", prefer.figures()))

    vocabulary = SAMPLE_VOCABULARY
    if corpus.section != "samples":
        vocabulary = scratch / f"{corpus.section}-vocabulary.txt"
        most_used = [entry["tag"] for entry in listing["tags"][:CLOSED_FROM_FREE]]
        vocabulary.write_text("".join(f"{tag}\n" for tag in most_used), encoding="utf-8")
    closed = seeded("closed")
    closed.run("tag", extra={"TAGGING_VOCABULARY": "closed", "TAGGING_VOCABULARY_FILE": str(vocabulary)})
    measured.append(Measured("`closed`", corpus.closed_vocabulary, closed.figures()))

    aliases = scratch / f"{corpus.section}-aliases.txt"
    aliases.write_text(aliases_from_groups(listing["near_duplicates"]), encoding="utf-8")
    variants = sum(len(group["tags"]) - 1 for group in listing["near_duplicates"])
    aliased = seeded("aliases")
    aliased.run("tag", extra={"TAGGING_TAG_ALIASES": str(aliases)})
    groups = len(listing["near_duplicates"])
    measured.append(
        Measured("`free` + aliases", f"{groups} near-duplicate groups, {variants} variants", aliased.figures())
    )
    return measured


def table(corpus: Corpus, measured: list[Measured], seconds: float) -> str:
    return "\n".join(
        [
            f"Measured by `make bench` ({seconds:.0f} s): {corpus.name}, `tagging-assets tag` with "
            "`TAGGING_MODE=realtime` through the local gateway's offline tagger, each configuration in a fresh "
            "cache; the figures are `tagging-assets tags --json`'s. A language model's behaviour under `prefer` "
            "is not measured here.",
            "",
            "| configuration | distinct tags | single-video share | videos sharing a tag |",
            "| --- | ---: | ---: | ---: |",
            *(f"| {row.configuration} ({row.detail}) | {row.figures.cells()} |" for row in measured),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-readme", action="store_true", help="print the tables without writing docs/performance.md")
    args = parser.parse_args()
    source = real_transcripts()
    with source.open(encoding="utf-8") as lines:
        real_count = sum(1 for line in lines if line.strip())
    corpora = (
        Corpus(
            "the bundled samples",
            "samples",
            (),
            len(load_samples()),
            "`tagging_assets/seed/vocabulary.txt`",
        ),
        Corpus(
            f"the {real_count} real transcripts",
            "real",
            ("--source", str(source)),
            real_count,
            f"the `free` run's {CLOSED_FROM_FREE} most used tags",
        ),
    )
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "TAGGING_", "ANTHROPIC_", "AZURE_", "GEMINI_", "GOOGLE_"))
    }
    base = {k: v for k, v in base.items() if k not in ("QDRANT_URL", "QDRANT_API_KEY", "QDRANT_PATH", "DAGSTER_HOME")}
    tables = {}
    with tempfile.TemporaryDirectory() as scratch, GatewayProcess(Path(scratch) / "gateway") as gateway:

        def fresh_cli(name: str) -> Cli:
            folder = Path(scratch) / name
            return Cli(
                base
                | {
                    "TAGGING_GATEWAY_URL": gateway.base_url,
                    "TAGGING_MODE": "realtime",
                    "QDRANT_PATH": str(folder / "qdrant"),
                    "TAGGING_WORK_DIR": str(folder / "work"),
                    "DAGSTER_HOME": str(folder / "dagster"),
                }
            )

        for corpus in corpora:
            started = time.perf_counter()
            measured = measure(corpus, fresh_cli, Path(scratch))
            tables[corpus.section] = table(corpus, measured, time.perf_counter() - started)
    print(*tables.values(), sep="\n\n")
    if not args.no_readme:
        for section, markdown in tables.items():
            write_section(f"vocabulary-{section}", markdown)


if __name__ == "__main__":
    main()
