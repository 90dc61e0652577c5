"""Serving the gateway with uvicorn, on loopback unless the user says otherwise."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import uvicorn

from tagging_assets.gateway.app import build_app
from tagging_assets.gateway.process import is_loopback
from tagging_assets.gateway.settings import GatewayConfigError, GatewaySettings


def serve(
    settings: GatewaySettings,
    host: str = "127.0.0.1",
    port: int = 8787,
    *,
    allow_remote: bool = False,
    allow_remote_without_key: bool = False,
    say: Callable[[str], None] = print,
) -> None:
    """Run the gateway until interrupted.

    A bind beyond loopback exposes the gateway to the network, so it needs ``allow_remote``,
    and a key (``api_key``) unless ``allow_remote_without_key`` says, by its name, that anyone on
    the network may use it. The socket is bound before anything says the gateway is serving, so
    a refusal or a port in use is the only line a user sees.
    """
    if not is_loopback(host):
        if not allow_remote:
            raise GatewayConfigError(
                f"refusing to bind the gateway to {host}: it would be reachable from other machines; "
                "pass --allow-remote (and set --api-key) if that is what you want"
            )
        if settings.api_key is None and not allow_remote_without_key:
            raise GatewayConfigError(
                f"refusing to serve {host} without an API key: anyone on the network could use it; set --api-key "
                "(or TAGGING_GATEWAY_API_KEY), or pass --allow-remote-without-key"
            )
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    try:
        listening = socket.create_server((host, port), family=_family(host), reuse_port=False)
    except OSError as error:
        raise GatewayConfigError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    shown = f"[{host}]" if ":" in host else host
    say(f"gateway: serving http://{shown}:{port}/v1 (state in {settings.state_dir})")
    if settings.api_key is None and not is_loopback(host):
        say(f"gateway: WARNING: no API key: anyone who can reach {host}:{port} can use this gateway")
    config = uvicorn.Config(build_app(settings), log_level="warning", timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[listening])


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
