"""How the command line speaks: results on stdout, progress bars and warnings on stderr, a failure a user can fix
as one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, NoReturn, get_args

import click

from tagging_assets.core.contracts import BatchStatus, RunMode, WritebackSummary
from tagging_assets.core.errors import reported
from tagging_assets.core.settings import TaggingSettings


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def clear_errors() -> AbstractContextManager[None]:
    """Turn the failures a user can fix into one line and a non-zero exit, never a traceback."""
    return reported(fail)


def settings_from_env() -> TaggingSettings:
    with clear_errors():
        return TaggingSettings.from_env()


def progress_bar(total: int, label: str) -> Any:
    """A progress bar on stderr, so stdout stays the result (and valid JSON with --json)."""
    return click.progressbar(length=max(total, 1), label=label, file=sys.stderr, show_pos=True)


def advance(bar: Any, state: BatchStatus, label: str) -> None:
    """Move a batch's bar to its requests done, with the time left in its label; the total is known only once
    the batch is validated."""
    bar.length = max(state.total, 1)
    left = state.seconds_left(time.time())
    bar.label = label if left is None else f"{label} ({duration(left)} left)"
    bar.update(state.done - bar.pos)


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 5 s`` or ``2 h 10 min``: how the lesson's scripts say a time left."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def usd(amount: float) -> str:
    return f"${amount:,.6f}" if amount < 1 else f"${amount:,.2f}"


def note(message: str) -> None:
    click.echo(message, err=True)


def warning(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def priced_per_mode(summaries: Sequence[WritebackSummary], modes: Sequence[str]) -> str:
    """What the jobs were billed, at the prices of the modes they ran in, and what each other mode would have
    cost; ``tag`` and the demo say it the same way."""
    costs = [summary.cost for summary in summaries]
    priced = [cost for cost in costs if cost is not None]
    if len(priced) < len(costs):
        return "at an unknown price (no source prices the model)"
    others = [
        f"{usd(sum(cost.of_mode(other) or 0.0 for cost in priced))} {other}"
        for other in get_args(RunMode)
        if other not in modes and all(cost.of_mode(other) is not None for cost in priced)
    ]
    billed = f"{usd(sum(cost.billed_usd for cost in priced))} at {' and '.join(modes)} prices"
    return billed + (f" ({', '.join(others)})" if others else "")
