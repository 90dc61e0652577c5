"""A local batch server that speaks OpenAI's Files + Batch API, Azure's and Anthropic's Message Batches, with an
offline tagger.

It stands apart from the pipeline: it imports only ``tagging_assets.core.contracts``, the protocols' facts in
``tagging_assets.core.protocol`` and the settings' environment reader in ``tagging_assets.core.environment``. Its
server and the tagger's libraries come with the ``gateway`` extra (``gateway.extra`` says whether they are
installed); importing this package needs none of them.
"""

from tagging_assets.gateway.settings import FaultSettings, GatewayConfigError, GatewaySettings

__all__ = ["FaultSettings", "GatewayConfigError", "GatewaySettings"]
