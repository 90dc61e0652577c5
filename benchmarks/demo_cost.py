"""What the demo costs by model and by mode: ``tagging-assets demo`` on the 42 bundled transcripts, each run in a
fresh cache, work directory and Dagster home, against one local gateway; the tokens, what the run was billed at its
mode's prices and what the other modes would have cost are the demo's own last line.

The gateway's token counts are its estimate and its reasoning a fixed amount per effort, so a real API's bill
differs; the ratios between models are the point.

    python benchmarks/demo_cost.py [--no-readme]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from readme import write_section

from tagging_assets.gateway.process import GatewayProcess


@dataclass(frozen=True)
class Run:
    label: str
    environment: dict[str, str]


RUNS = (
    Run("gpt-4o-mini", {"TAGGING_MODEL": "gpt-4o-mini"}),
    Run("gpt-5-nano", {"TAGGING_MODEL": "gpt-5-nano"}),
    Run("gpt-5-mini", {"TAGGING_MODEL": "gpt-5-mini"}),
    Run("gpt-5.1 (effort none)", {"TAGGING_MODEL": "gpt-5.1", "TAGGING_REASONING_EFFORT": "none"}),
    Run("gpt-5.4-mini (effort none)", {"TAGGING_MODEL": "gpt-5.4-mini"}),
    Run("o4-mini (effort low)", {"TAGGING_MODEL": "o4-mini", "TAGGING_REASONING_EFFORT": "low"}),
    Run("claude-haiku-4-5 (`TAGGING_PROVIDER=anthropic`)", {"TAGGING_PROVIDER": "anthropic"}),
    Run("gemini-2.5-flash-lite (`TAGGING_PROVIDER=gemini`)", {"TAGGING_PROVIDER": "gemini"}),
    Run(
        "gemini-2.5-flash (`TAGGING_PROVIDER=gemini`)",
        {"TAGGING_PROVIDER": "gemini", "TAGGING_MODEL": "gemini-2.5-flash"},
    ),
)
MODE_RUNS = (
    Run("gpt-4o-mini, `batch`", {"TAGGING_MODEL": "gpt-4o-mini", "TAGGING_MODE": "batch"}),
    Run("gpt-4o-mini, `realtime`", {"TAGGING_MODEL": "gpt-4o-mini", "TAGGING_MODE": "realtime"}),
    Run("gpt-5.4-mini, `batch`", {"TAGGING_MODEL": "gpt-5.4-mini", "TAGGING_MODE": "batch"}),
    Run("gpt-5.4-mini, `flex`", {"TAGGING_MODEL": "gpt-5.4-mini", "TAGGING_MODE": "flex"}),
    Run("gpt-5.4-mini, `realtime`", {"TAGGING_MODEL": "gpt-5.4-mini", "TAGGING_MODE": "realtime"}),
    Run("claude-haiku-4-5, `realtime`", {"TAGGING_PROVIDER": "anthropic", "TAGGING_MODE": "realtime"}),
    Run("gemini-2.5-flash-lite, `batch`", {"TAGGING_PROVIDER": "gemini", "TAGGING_MODE": "batch"}),
    Run("gemini-2.5-flash-lite, `flex`", {"TAGGING_PROVIDER": "gemini", "TAGGING_MODE": "flex"}),
    Run("gemini-2.5-flash-lite, `realtime`", {"TAGGING_PROVIDER": "gemini", "TAGGING_MODE": "realtime"}),
)
SUMMARY = re.compile(
    r"This run: \d+ (?P<mode>\w+) job\(s\), (?P<tokens>[\d,]+) tokens \([\d,]+ cached input, "
    r"(?P<reasoning>[\d,]+) reasoning\), \$(?P<billed>[\d.]+) at \w+ prices(?: \((?P<others>[^)]*)\))?"
)
OTHER = re.compile(r"\$(?P<usd>[\d.]+) (?P<mode>\w+)")


def costs_by_mode(summary: re.Match[str]) -> dict[str, str]:
    """What the run cost at each mode's prices: its own, and the others it names."""
    others = {other["mode"]: f"${other['usd']}" for other in OTHER.finditer(summary["others"] or "")}
    return others | {summary["mode"]: f"${summary['billed']}"}


def demo_summary(environment: dict[str, str]) -> re.Match[str]:
    """The demo's closing line, from a run that must succeed."""
    demo = subprocess.run(
        [sys.executable, "-m", "tagging_assets", "demo"], env=environment, capture_output=True, text=True, check=False
    )
    if demo.returncode != 0:
        raise SystemExit(f"the demo failed:\n{demo.stderr[-2000:]}")
    summary = SUMMARY.search(demo.stdout)
    if summary is None:
        raise SystemExit(f"the demo printed no cost line:\n{demo.stdout[-2000:]}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-readme", action="store_true", help="print the table without writing docs/performance.md")
    args = parser.parse_args()
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "TAGGING_", "ANTHROPIC_", "AZURE_", "GEMINI_", "GOOGLE_"))
    }
    base = {k: v for k, v in base.items() if k not in ("QDRANT_URL", "QDRANT_API_KEY", "QDRANT_PATH", "DAGSTER_HOME")}
    rows, mode_rows = [], []
    with tempfile.TemporaryDirectory() as scratch, GatewayProcess(Path(scratch) / "gateway") as gateway:
        for number, run in enumerate((*RUNS, *MODE_RUNS)):
            folder = Path(scratch) / f"run-{number}"
            environment = base | {
                "TAGGING_GATEWAY_URL": gateway.base_url,
                "QDRANT_PATH": str(folder / "qdrant"),
                "TAGGING_WORK_DIR": str(folder / "work"),
                "DAGSTER_HOME": str(folder / "dagster"),
                **run.environment,
            }
            summary = demo_summary(environment)
            cost = costs_by_mode(summary)
            if run in RUNS:
                rows.append(
                    f"| {run.label} | {summary['tokens']} ({summary['reasoning']}) | {cost['batch']} "
                    f"| {cost.get('flex', 'no flex')} | {cost['realtime']} |"
                )
            else:
                mode_rows.append(f"| {run.label} | {summary['tokens']} | **{cost[summary['mode']]}** |")
    table = "\n".join(
        [
            "Measured by `make bench`: `tagging-assets demo` (42 bundled transcripts) on the local gateway, each model "
            "in a fresh cache (`TAGGING_MODEL=… make demo`); flex only for the models that take it.",
            "",
            "| model | tokens (of them reasoning) | batch | flex | realtime |",
            "| --- | ---: | ---: | ---: | ---: |",
            *rows,
        ]
    )
    modes = "\n".join(
        [
            "Measured by `make bench`: `TAGGING_MODE=… TAGGING_MODEL=… make demo`, each in a fresh cache; the "
            "figure is what the run was billed at its mode's prices.",
            "",
            "| model, mode | tokens | billed |",
            "| --- | ---: | ---: |",
            *mode_rows,
        ]
    )
    print(table, modes, sep="\n\n")
    if not args.no_readme:
        write_section("models", table)
        write_section("modes", modes)


if __name__ == "__main__":
    main()
