"""``tagging-assets gateway``: the local batch server, with one flag per gateway setting and fault."""

from __future__ import annotations

import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tagging_assets.gateway.settings import ENV_PREFIX, FaultSettings, GatewayConfigError, GatewaySettings

_GATEWAY_FLAG_FIELDS = {
    name: info
    for name, info in {**GatewaySettings.model_fields, **FaultSettings.model_fields}.items()
    if name not in ("state_dir", "api_key", "faults")
}


def _settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """One flag per gateway setting and fault, generated from the settings models
    so the flags, the environment variables and the models never drift apart."""
    for name, info in reversed(_GATEWAY_FLAG_FIELDS.items()):
        annotation = info.annotation
        choices = typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else None
        if choices:
            kind: Any = click.Choice(choices)
        else:
            kind = next((arg for arg in typing.get_args(annotation) if arg is not type(None)), annotation)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        flags = ["--" + name.replace("_", "-"), *typing.cast(list[str], extra.get("flag_aliases", []))]
        help_text = f"{info.description} [env {ENV_PREFIX}{name.upper()}]"
        command = click.option(*flags, name, type=kind, default=None, help=help_text)(command)
    return command


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; loopback unless --allow-remote.")
@click.option("--port", default=8787, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Where files, batches and progress are kept [env {ENV_PREFIX}STATE_DIR; default "
    f"{GatewaySettings.model_fields['state_dir'].default}].",
)
@click.option(
    "--api-key",
    envvar=f"{ENV_PREFIX}API_KEY",
    default=None,
    help=f"Require this bearer token (better set as {ENV_PREFIX}API_KEY, which `ps` does not show).",
)
@click.option("--allow-remote", is_flag=True, help="Allow binding to an address other machines can reach.")
@click.option(
    "--allow-remote-without-key",
    is_flag=True,
    help="With --allow-remote and no --api-key, let anyone on the network use the gateway.",
)
@_settings_options
def gateway(
    host: str,
    port: int,
    state_dir: Path | None,
    api_key: str | None,
    allow_remote: bool,
    allow_remote_without_key: bool,
    **flags: Any,
) -> None:
    """Serve the local OpenAI-compatible Files + Batch API with the offline tagger.

    Point the openai SDK at it with OPENAI_BASE_URL=http://HOST:PORT/v1. Every
    setting and injected fault can also come from TAGGING_GATEWAY_<NAME>.
    """
    from tagging_assets.gateway.extra import missing_extra

    if (missing := missing_extra()) is not None:
        click.echo(f"error: {missing}", err=True)
        sys.exit(1)
    from tagging_assets.gateway.server import serve
    from tagging_assets.gateway.settings import settings_from_env

    try:
        settings = settings_from_env({"state_dir": state_dir, "api_key": api_key, **flags})
        serve(
            settings,
            host=host,
            port=port,
            allow_remote=allow_remote,
            allow_remote_without_key=allow_remote_without_key,
            say=lambda line: click.echo(line, err=True),
        )
    except GatewayConfigError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
