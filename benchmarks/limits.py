"""Where the embedded default stops serving: prepare and process at 100k and 200k transcripts, with their time
and peak RSS, and what they mean per 100k points and per million.

Each op runs in its own process through ``pipeline.py``'s harness, on the same synthetic transcripts. The
store's own RSS is that of a process that only opens it: the embedded store holds every point in memory.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

from pipeline import WORDS_PER_ITEM, run_op, seed, write_results_file
from readme import write_section

WRITE_BATCH = 512
"""Points per ``batch_update_points`` call, as process writes them."""


def measure(size: int, scratch: Path) -> dict[str, Any]:
    store, work = scratch / f"store-{size}", scratch / f"work-{size}"
    work.mkdir()
    seed(store, size)
    opened = run_op("open", store, work)
    prepared = run_op("prepare", store, work)
    write_results_file(work)
    processed = run_op("process", store, work)
    return {"size": size, "open": opened, "prepare": prepared, "process": processed}


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"Measured by `make bench` on {os.cpu_count()} cores ({platform.machine()}, Python "
        f"{platform.python_version()}): synthetic transcripts of ~{WORDS_PER_ITEM:,} words in embedded Qdrant, "
        "one run of each op in its own process; times exclude opening the store.",
        "",
        "| transcripts | the open store's RSS | prepare | prepare's peak RSS | process | process's peak RSS |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['size']:,} | {row['open']['rss_mb']:,.0f} MB | {row['prepare']['seconds']:.1f} s "
            f"| {row['prepare']['rss_mb']:,.0f} MB | {row['process']['seconds']:.0f} s "
            f"| {row['process']['rss_mb']:,.0f} MB |"
        )
    first, last = rows[0], rows[-1]
    grown = (last["open"]["rss_mb"] - first["open"]["rss_mb"], last["size"] - first["size"])
    per_point_mb = grown[0] / grown[1] if grown[1] else last["open"]["rss_mb"] / last["size"]
    hours_per_million = last["process"]["seconds"] / last["size"] * 1e6 / 3600
    cpu_hours_per_million = last["process"]["cpu_seconds"] / last["size"] * 1e6 / 3600
    lines += [
        "",
        f"At {last['size']:,} transcripts: the embedded store holds about {per_point_mb * 1e5:,.0f} MB more in "
        f"memory for every 100k points, and write-back runs at {last['size'] / last['process']['seconds']:,.0f} "
        f"points a second, **{hours_per_million:.1f} h per million** (every point its own SQLite commit). Projection, "
        f"not a measurement: on a Qdrant server, where {WRITE_BATCH} points are one request, process's own CPU "
        f"time ({cpu_hours_per_million:.1f} h per million here) bounds write-back instead, plus the server's "
        "time for about 2,000 requests a million.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,200000")
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        rows = [measure(int(size), Path(scratch)) for size in args.sizes.split(",")]
    markdown = table(rows)
    print(markdown)
    if not args.no_readme:
        write_section("limits", markdown)


if __name__ == "__main__":
    main()
