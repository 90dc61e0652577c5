"""Writing benchmark tables into docs/performance.md between named markers.

Each benchmark owns one block of that page; the figures in it are never edited by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

PERFORMANCE_PAGE = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def write_section(name: str, markdown: str, page: Path = PERFORMANCE_PAGE) -> None:
    """Replace what stands between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``."""
    text = page.read_text(encoding="utf-8")
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    if start not in text or end not in text:
        raise SystemExit(f"{page} has no {start} ... {end} section to write the figures into")
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    page.write_text(pattern.sub(lambda _: f"{start}\n{markdown.strip()}\n{end}", text), encoding="utf-8")
