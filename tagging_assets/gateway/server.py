"""Serving the gateway with uvicorn, on loopback unless the user says otherwise."""

from __future__ import annotations

import logging

import uvicorn

from tagging_assets.gateway.app import build_app
from tagging_assets.gateway.process import is_loopback
from tagging_assets.gateway.settings import GatewayConfigError, GatewaySettings


def serve(settings: GatewaySettings, host: str = "127.0.0.1", port: int = 8787, allow_remote: bool = False) -> None:
    """Run the gateway until interrupted.

    A bind beyond loopback exposes the gateway (and, with no ``api_key``, anyone's
    use of it) to the network, so it needs ``allow_remote``.
    """
    if not is_loopback(host) and not allow_remote:
        raise GatewayConfigError(
            f"refusing to bind the gateway to {host}: it would be reachable from other machines; "
            "pass --allow-remote (and set --api-key) if that is what you want"
        )
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(build_app(settings), host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
