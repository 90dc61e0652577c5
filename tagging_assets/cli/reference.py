"""The configuration reference, ``docs/configuration.md``, rendered from the pipeline's and the gateway's settings.

``make docs`` writes the page and a test fails when the committed page differs from what this renders, so the page
says what the settings' fields say and nothing else.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from tagging_assets.core.settings import TaggingSettings
from tagging_assets.core.settings_reference import markdown_table, variables
from tagging_assets.gateway.settings import ENV_PREFIX, FaultSettings, GatewaySettings

PAGE = Path("docs") / "configuration.md"
"""Where the page lives, from the repository's root."""


def configuration_page() -> str:
    """The page: the pipeline's variables, then the local gateway's and the faults it can inject."""
    return "\n".join(
        [
            "# Configuration",
            "",
            "<!-- Written by `make docs` from the settings' field descriptions (`tagging_assets/core/settings.py`,",
            "`tagging_assets/gateway/settings.py`): change those, then run `make docs`. -->",
            "",
            "Every setting is an environment variable, read once when a command starts or Dagster loads the",
            "definitions; an invalid value stops it with one line that names the variable. Secrets reach Dagster",
            "resources as `EnvVar`s, never as values.",
            "",
            "## The pipeline",
            "",
            markdown_table(variables(TaggingSettings)),
            "A deployment on PostgreSQL also reads `DAGSTER_POSTGRES_URL`, in "
            "[`deploy/dagster.yaml`](../deploy/dagster.yaml).",
            "",
            "## The local gateway",
            "",
            f"`tagging-assets gateway` reads `{ENV_PREFIX}<NAME>` variables; each is also a flag, `--<name>`,",
            "and a flag wins over its variable.",
            "",
            markdown_table(variables(GatewaySettings)),
            "### Injected faults",
            "",
            inspect.cleandoc(FaultSettings.__doc__ or ""),
            "",
            markdown_table(variables(FaultSettings)),
        ]
    )


def main(arguments: list[str]) -> None:
    """Write the page to the path given, by default ``docs/configuration.md``."""
    path = Path(arguments[0]) if arguments else PAGE
    path.write_text(configuration_page(), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
