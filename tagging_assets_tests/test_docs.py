"""The README stays a five-minute read, and every link in it and in docs/ leads somewhere that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
GENERATED_ELSEWHERE = DOCS / "configuration.md"
"""Generated from the settings; a link to it is accepted before the page itself is written."""

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
BENCH_WRITER = re.compile(r"""write_section\(\s*["'](\w+)["']""")


def _prose(page: Path) -> str:
    """The page without its fenced code blocks, where a bracket is code, not a link."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def _anchors(page: Path) -> set[str]:
    """The fragment each heading gets on GitHub: lowercased, punctuation dropped, spaces as hyphens."""
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in HEADING.findall(_prose(page))
    }


def _relative_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(_prose(page)) if not re.match(r"[a-z]+:", target)]


def test_the_readme_is_read_in_five_minutes():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move the detail into docs/"


@pytest.mark.parametrize("page", PAGES, ids=[page.relative_to(ROOT).as_posix() for page in PAGES])
def test_every_relative_link_points_at_a_file_that_exists(page: Path):
    broken = []
    for target in _relative_links(page):
        path, _, fragment = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            if resolved != GENERATED_ELSEWHERE:
                broken.append(target)
        elif fragment and resolved.suffix == ".md" and fragment not in _anchors(resolved):
            broken.append(target)
    assert broken == []


def test_every_page_in_docs_is_reachable_from_the_readme():
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in _relative_links(README)}
    assert {page for page in DOCS.glob("*.md")} - linked == set()


def test_each_benchmark_writes_into_a_block_of_the_performance_page_and_none_into_the_readme():
    written = {
        name for script in (ROOT / "benchmarks").glob("*.py") for name in BENCH_WRITER.findall(script.read_text())
    }
    performance = (DOCS / "performance.md").read_text(encoding="utf-8")
    assert written
    assert [name for name in sorted(written) if f"<!-- bench:{name} -->" not in performance] == []
    assert [name for name in sorted(written) if f"<!-- /bench:{name} -->" not in performance] == []
    assert "<!-- bench:" not in README.read_text(encoding="utf-8")
