"""What the assets show in the UI: metadata values built from the library's typed results, and one-line failures."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, NoReturn

from dagster import Failure, MetadataValue

from tagging_assets.core.contracts import WritebackSummary
from tagging_assets.core.cost import Cost
from tagging_assets.core.errors import reported

TAGS_LISTED = 20


def _fail(line: str) -> NoReturn:
    raise Failure(description=line)


def failing_clearly() -> AbstractContextManager[None]:
    """A step that cannot go on fails with one line saying why (after the SDK's retries are spent), not a
    stack of library frames; the run's logs still hold the cause, chained as the Failure's context."""
    return reported(_fail)


def cost_metadata(prefix: str, cost: Cost | None, unknown: str) -> dict[str, Any]:
    """The cost both ways, or ``unknown`` (why there is no price) in its place."""
    if cost is None:
        return {f"{prefix}_cost": unknown}
    return {
        f"{prefix}_cost_batch_usd": MetadataValue.float(round(cost.batch_usd, 6)),
        f"{prefix}_cost_realtime_usd": MetadataValue.float(round(cost.realtime_usd, 6)),
        f"{prefix}_saving_usd": MetadataValue.float(round(cost.saving_usd, 6)),
    }


def summary_cost(summary: WritebackSummary, unknown: str) -> dict[str, Any]:
    """A processed batch's cost, as ``tagged_points`` shows it."""
    if summary.cost_batch_usd is None or summary.cost_realtime_usd is None or summary.saving_usd is None:
        return {"cost": unknown}
    return {
        "cost_batch_usd": MetadataValue.float(summary.cost_batch_usd),
        "cost_realtime_usd": MetadataValue.float(summary.cost_realtime_usd),
        "saving_usd": MetadataValue.float(summary.saving_usd),
    }


def markdown_table(rows: Sequence[dict[str, Any]], columns: list[str]) -> MetadataValue:
    """A small markdown table for asset metadata."""
    if not rows:
        return MetadataValue.md("_none_")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [", ".join(v) if isinstance(v := row.get(c, ""), list) else str(v) for c in columns]
        lines.append("| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |")
    return MetadataValue.md("\n".join(lines))
