"""What the assets show in the UI: metadata values built from the library's typed results, and one-line failures."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, NoReturn

from dagster import Failure, MetadataValue

from tagging_assets.core.contracts import Cost
from tagging_assets.core.errors import reported

TAGS_LISTED = 20


def _fail(line: str) -> NoReturn:
    raise Failure(description=line)


def failing_clearly() -> AbstractContextManager[None]:
    """A step that cannot go on fails with one line saying why (after the SDK's retries are spent), not a
    stack of library frames; the run's logs still hold the cause, chained as the Failure's context."""
    return reported(_fail)


def cost_metadata(cost: Cost | None, unknown: str, prefix: str = "") -> dict[str, Any]:
    """The cost at every mode (``{prefix}cost_batch_usd`` …) and what the job's mode bills, or ``unknown`` (why
    there is no price) in its place."""
    if cost is None:
        return {f"{prefix}cost": unknown}
    flex = {} if cost.flex_usd is None else {f"{prefix}cost_flex_usd": MetadataValue.float(round(cost.flex_usd, 6))}
    return {
        f"{prefix}cost_batch_usd": MetadataValue.float(round(cost.batch_usd, 6)),
        f"{prefix}cost_realtime_usd": MetadataValue.float(round(cost.realtime_usd, 6)),
        **flex,
        f"{prefix}cost_billed_usd": MetadataValue.float(round(cost.billed_usd, 6)),
        f"{prefix}cost_mode": cost.mode,
        f"{prefix}saving_usd": MetadataValue.float(round(cost.saving_usd, 6)),
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
