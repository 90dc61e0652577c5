"""The commands that read and fill the cache itself: seed it with transcripts, count its tags, find the videos
with a tag."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from tagging_assets.cli.output import clear_errors, print_json, settings_from_env


@click.command("seed-cache")
@click.option("--source", type=click.Path(path_type=Path), help="A JSONL file of {video_id, title, transcript, ...}.")
@click.option("--collection", help="The collection to fill [default: TAGGING_COLLECTION].")
def seed_cache_command(source: Path | None, collection: str | None) -> None:
    """Load transcripts into the cache: the bundled samples, or --source. Points already there are untouched."""
    from tagging_assets.core.cache import QdrantCache
    from tagging_assets.seed.samples import load_samples
    from tagging_assets.seed.seeding import read_transcripts_jsonl, seed_cache

    settings = settings_from_env()
    with clear_errors():
        items = read_transcripts_jsonl(source) if source else load_samples()
        with QdrantCache.from_settings(settings, collection) as cache:
            report = seed_cache(cache, items)
            total = cache.count()
    click.echo(
        f"Added {report.added} transcripts to {collection or settings.collection!r} "
        f"({report.already_present} already there, {total} points in all)."
    )


@click.command()
@click.option("--top", default=0, type=click.IntRange(min=0), help="Only the most frequent N tags [default: all].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {tagged_videos, tags: [{tag, videos}]}.")
def tags(top: int, as_json: bool) -> None:
    """How many videos carry each tag across the cache, most frequent first.

    Counted by the store, a facet over the `tags` payload field (TAGGING_COLLECTION, QDRANT_URL or QDRANT_PATH).
    """
    from tagging_assets.core.cache import QdrantCache
    from tagging_assets.core.report import tag_frequencies

    settings = settings_from_env()
    with clear_errors(), QdrantCache.from_settings(settings) as cache:
        cache.require()
        frequencies, tagged = tag_frequencies(cache)
    ranked = frequencies.most_common(top or None)
    if as_json:
        print_json({"tagged_videos": tagged, "tags": [{"tag": tag, "videos": count} for tag, count in ranked]})
        return
    if not ranked:
        click.echo("No video has tags yet: run `make demo`, or prepare, submit and process a batch.")
        return
    width = max(len(tag) for tag, _ in ranked)
    click.echo(f"{'tag':{width}}  videos")
    for tag, count in ranked:
        click.echo(f"{tag:{width}}  {count:>6}")
    click.echo(f"{len(frequencies)} distinct tags on {tagged} tagged videos.")


@click.command()
@click.option("--tag", required=True, help="The tag to look for, exactly as `tagging-assets tags` prints it.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON list of {point_id, video_id, title, tags, summary}."
)
def search(tag: str, as_json: bool) -> None:
    """List the videos tagged TAG, through a payload filter on `tags` (indexed on a Qdrant server)."""
    from tagging_assets.core.cache import QdrantCache
    from tagging_assets.core.report import videos_with_tag

    settings = settings_from_env()
    with clear_errors(), QdrantCache.from_settings(settings) as cache:
        cache.require()
        videos = videos_with_tag(cache, tag)
    if as_json:
        print_json([asdict(video) for video in videos])
        return
    if not videos:
        click.echo(f"No video is tagged {tag!r}; `tagging-assets tags` lists the tags in the cache.")
        return
    for video in videos:
        click.echo(f"{video.video_id}  {video.title}")
        click.echo(f"    {', '.join(video.tags)}")
        if video.summary:
            click.echo(f"    {video.summary}")
    click.echo(f"{len(videos)} video(s) tagged {tag!r}.")
