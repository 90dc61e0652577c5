"""How far the 4-characters-a-token estimate is from tiktoken's exact counts, and what exact counting costs.

Every request prepare would write for the bundled samples (tagging_assets/samples) and for the real
transcripts in ../shared/data/transcripts.jsonl is counted both ways, framing and system prompt included.
tiktoken reads o200k_base (gpt-4o-mini's encoding) from a cache folder filled from bpe-openai's copy of
OpenAI's file, as the tests do, since this machine cannot download it.

    python benchmarks/token_counts.py [--no-readme]
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from readme import write_section

TRANSCRIPTS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "transcripts.jsonl"
MODEL = "gpt-4o-mini"


def requests_of(items: list[dict]) -> list[list[str]]:
    from tagging_assets.core.prompt import SYSTEM_PROMPT, user_message

    return [
        [SYSTEM_PROMPT, user_message(item.get("title", ""), item["transcript"])]
        for item in items
        if isinstance(item.get("transcript"), str) and item["transcript"].strip()
    ]


def measure(name: str, requests: list[list[str]]) -> dict:
    from tagging_assets.core.tokens import TokenCounter, counter_for

    exact, estimate = counter_for(MODEL), TokenCounter()
    assert exact.exact, "tiktoken did not find o200k_base in its cache"
    counted = [exact.request_tokens(messages) for messages in requests]
    guessed = [estimate.request_tokens(messages) for messages in requests]
    errors = [100 * (guess - count) / count for guess, count in zip(guessed, counted, strict=True)]
    return {
        "name": name,
        "requests": len(requests),
        "exact": sum(counted),
        "estimate": sum(guessed),
        "total_error": 100 * (sum(guessed) - sum(counted)) / sum(counted),
        "median_error": statistics.median(errors),
        "low": min(errors),
        "high": max(errors),
    }


def speed(requests: list[list[str]]) -> tuple[float, float]:
    """Characters a second counted by tiktoken on one core, and on every core through count_many."""
    from tagging_assets.core.tokens import counter_for

    counter = counter_for(MODEL)
    texts = [messages[1] for messages in requests] * 10
    characters = sum(map(len, texts))
    started = time.perf_counter()
    for text in texts:
        counter.count(text)
    one_core = characters / (time.perf_counter() - started)
    started = time.perf_counter()
    for start in range(0, len(texts), 256):
        counter.count_many(texts[start : start + 256])
    return one_core, characters / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-readme", action="store_true", help="print the table without writing docs/performance.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache_dir:
        os.environ["TIKTOKEN_CACHE_DIR"] = cache_dir
        from tagging_assets.core.tokens import cached_encoding_path
        from tagging_assets.seed.samples import load_samples

        bundled = Path(importlib.util.find_spec("bpe_openai").origin).parent / "data" / "o200k_base.tiktoken.gz"
        cached_encoding_path("o200k_base").write_bytes(gzip.decompress(bundled.read_bytes()))
        path = Path(os.environ.get("TAGGING_TRANSCRIPTS", TRANSCRIPTS))
        with path.open(encoding="utf-8") as lines:
            real = requests_of([json.loads(line) for line in lines if line.strip()])
        rows = [
            measure("bundled samples", requests_of([asdict(sample) for sample in load_samples()])),
            measure("real transcripts", real),
        ]
        one_core, all_cores = speed(real)
    lines = [
        f"Measured by `make bench` ({os.cpu_count()} cores): every request prepare writes, system prompt and "
        "framing included, counted by tiktoken (o200k_base) and by the estimate. Error = (estimate - exact) / exact.",
        "",
        "| requests | count | exact tokens | estimated | error in total | median error | range of errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['name']} | {row['requests']} | {row['exact']:,} | {row['estimate']:,} | "
            f"{row['total_error']:+.1f}% | {row['median_error']:+.1f}% | "
            f"{row['low']:+.1f}% to {row['high']:+.1f}% |"
        )
    lines += [
        "",
        f"tiktoken counts {one_core / 1e6:.1f} M characters a second on one core and {all_cores / 1e6:.1f} M on "
        f"all {os.cpu_count()} (prepare counts a few hundred requests at a time across the cores): about "
        f"{6_000 * 50_000 / all_cores:.0f} s more for 50,000 transcripts of 1,000 words than the estimate.",
    ]
    table = "\n".join(lines)
    print(table)
    if not args.no_readme:
        write_section("tokens", table)


if __name__ == "__main__":
    main()
