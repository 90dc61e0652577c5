"""OpenAI's Models API (``/v1/models``): every served model and snapshot, with the shutdown dates the faults set."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tagging_assets.gateway.http import ApiError, json_response
from tagging_assets.gateway.models import SNAPSHOTS
from tagging_assets.gateway.settings import FaultSettings


class ModelRoutes:
    def __init__(self, faults: FaultSettings) -> None:
        self._faults = faults

    def routes(self, prefix: str) -> list[Route]:
        return [
            Route(f"{prefix}/models", self.list_models, methods=["GET"]),
            Route(f"{prefix}/models/{{model:path}}", self.retrieve_model, methods=["GET"]),
        ]

    async def list_models(self, _request: Request) -> Response:
        """Every served model and snapshot; a model with a shutdown date set carries it, as OpenAI lists them."""
        names = list(dict.fromkeys(name for pair in SNAPSHOTS.items() for name in pair))
        return json_response({"object": "list", "data": [self._model(name) for name in names]})

    async def retrieve_model(self, request: Request) -> Response:
        model = request.path_params["model"]
        if model not in SNAPSHOTS and model not in SNAPSHOTS.values():
            raise ApiError(404, f"The model '{model}' does not exist", "model", "model_not_found")
        return json_response(self._model(model))

    def _model(self, name: str) -> dict[str, Any]:
        shutdown = self._faults.shutdown_date(name)
        return {
            "id": name,
            "object": "model",
            "created": 0,
            "owned_by": "system",
            "shutdown_date": shutdown.isoformat() if shutdown else None,
        }
