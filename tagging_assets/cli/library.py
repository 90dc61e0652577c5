"""The commands that read and fill the cache itself: seed it with transcripts, count its tags and measure their
sprawl, merge tags, find the videos with a tag."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tagging_assets.cli.output import clear_errors, fail, print_json, settings_from_env

if TYPE_CHECKING:
    from tagging_assets.core.report import NearDuplicateGroup


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


@click.group(invoke_without_command=True)
@click.option("--top", default=0, type=click.IntRange(min=0), help="Only the most frequent N tags [default: all].")
@click.option(
    "--near-duplicates",
    is_flag=True,
    help="Also list the groups of tags that are likely the same: one stem, an alias (TAGGING_TAG_ALIASES), or one "
    "edit apart (tags of 6 characters or more).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON: {tagged_videos, figures, tags: [{tag, videos}]}, and near_duplicates: [{tags, reasons}].",
)
@click.pass_context
def tags(context: click.Context, top: int, near_duplicates: bool, as_json: bool) -> None:
    """How many videos carry each tag across the cache, most frequent first, and how far the vocabulary sprawls:
    the share of tags on a single video, and the share of videos that share a tag with another.

    Counted by the store, a facet over the `tags` payload field (TAGGING_COLLECTION, QDRANT_URL or QDRANT_PATH).
    `tags merge` repairs what `--near-duplicates` finds.
    """
    if context.invoked_subcommand is not None:
        return
    from tagging_assets.core.cache import QdrantCache
    from tagging_assets.core.report import near_duplicate_groups, tag_frequencies, vocabulary_figures
    from tagging_assets.core.tags import load_aliases

    settings = settings_from_env()
    with clear_errors():
        aliases = load_aliases(settings.tag_aliases) if near_duplicates and settings.tag_aliases else {}
        with QdrantCache.from_settings(settings) as cache:
            cache.require()
            frequencies, tagged = tag_frequencies(cache)
            figures = vocabulary_figures(cache, frequencies, tagged)
    groups = near_duplicate_groups(frequencies, aliases=aliases) if near_duplicates else []
    ranked = frequencies.most_common(top or None)
    if as_json:
        listing: dict[str, Any] = {"tagged_videos": tagged, "figures": figures.to_json()}
        listing["tags"] = [{"tag": tag, "videos": count} for tag, count in ranked]
        if near_duplicates:
            listing["near_duplicates"] = [group.to_json() for group in groups]
        print_json(listing)
        return
    if not ranked:
        click.echo("No video has tags yet: run `make demo`, or prepare, submit and process a batch.")
        return
    width = max(len(tag) for tag, _ in ranked)
    click.echo(f"{'tag':{width}}  videos")
    for tag, count in ranked:
        click.echo(f"{tag:{width}}  {count:>6}")
    click.echo(f"{figures.distinct_tags} distinct tags on {tagged} tagged videos.")
    click.echo(
        f"{figures.single_video_tag_share:.0%} of the tags are on a single video; "
        f"{figures.videos_sharing_a_tag} of {tagged} videos ({figures.videos_sharing_a_tag_share:.0%}) share a tag "
        "with another."
    )
    if near_duplicates:
        _print_groups(groups, frequencies)


def _print_groups(groups: list[NearDuplicateGroup], frequencies: Counter[str]) -> None:
    if not groups:
        click.echo("No near-duplicate tags.")
        return
    click.echo(f"{len(groups)} group(s) of tags that are likely the same (merge into the first):")
    for group in groups:
        listed = ", ".join(f"{tag} ({frequencies[tag]})" for tag in group.tags)
        click.echo(f"  {listed}  [{', '.join(group.reasons)}]")


@tags.command("merge")
@click.argument("names", nargs=-1, metavar="FROM... INTO")
@click.option(
    "--aliases",
    "aliases_file",
    type=click.Path(path_type=Path),
    help="Merge every variant in FILE into its canonical tag (`variant: canonical` lines, as TAGGING_TAG_ALIASES).",
)
@click.option("--dry-run", is_flag=True, help="Show what would change, and change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {dry_run, videos_changed, merges, examples}.")
def merge(names: tuple[str, ...], aliases_file: Path | None, dry_run: bool, as_json: bool) -> None:
    """Rewrite tags across the cache: each FROM tag (exactly as `tagging-assets tags` prints it) becomes INTO,
    kept once on a video that has both. No request and no cost. Only `tags` changes, and each merge is recorded
    in the video's `tagging.merges`; merging again changes nothing."""
    from tagging_assets.core.cache import QdrantCache
    from tagging_assets.core.merge import MergePlan, merge_tags
    from tagging_assets.core.tags import load_aliases

    if aliases_file is not None and names:
        fail("give FROM... INTO or --aliases FILE, not both")
    if aliases_file is None and len(names) < 2:
        fail("give at least one tag to merge and the tag to merge it into: `tags merge FROM... INTO`", code=2)
    settings = settings_from_env()
    with clear_errors():
        plan = (
            MergePlan.of_aliases(load_aliases(aliases_file))
            if aliases_file
            else MergePlan.of_tags(names[:-1], names[-1])
        )
        with QdrantCache.from_settings(settings) as cache:
            cache.require()
            report = merge_tags(cache, plan, dry_run=dry_run)
    if as_json:
        print_json(report.to_json())
        return
    if report.videos_changed == 0:
        click.echo("Nothing to merge: no video carries a tag to merge.")
        return
    for video in report.examples:
        click.echo(f"{video.video_id}  {video.title}")
        click.echo(f"    {', '.join(video.before)}  ->  {', '.join(video.after)}")
    for (source, into), count in sorted(report.videos_by_merge.items()):
        click.echo(f"{source} -> {into}: {count} video(s)")
    verb = "would change" if dry_run else "changed"
    click.echo(f"{report.videos_changed} video(s) {verb}{' (dry run: nothing written)' if dry_run else ''}.")


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
