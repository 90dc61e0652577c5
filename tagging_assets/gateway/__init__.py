"""A local, OpenAI-compatible Files + Batch API server with an offline tagger.

It stands apart from the pipeline: it imports only ``tagging_assets.core.contracts``.
"""

from tagging_assets.gateway.settings import FaultSettings, GatewayConfigError, GatewaySettings

__all__ = ["FaultSettings", "GatewayConfigError", "GatewaySettings"]
