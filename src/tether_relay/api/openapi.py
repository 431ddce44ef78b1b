"""The OpenAPI document the service serves: FastAPI's, minus its default 422 responses, and with every
error envelope filed under application/json (what the error handlers send), even on routes whose success
is plain text. Validation failures are 400 `VALIDATION_ERROR` here (the contract lists 400, never 422),
and every route already declares its 400 with the error envelope.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tether_relay.api.late_body import LATE_BODY_MODELS


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            for path_item in schema.get("paths", {}).values():
                for operation in path_item.values():
                    responses = operation.get("responses", {})
                    responses.pop("422", None)
                    for status, response in responses.items():
                        if status.startswith(("4", "5")):
                            _as_json(response)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in LATE_BODY_MODELS:  # bodies read after authentication (api/late_body.py)
                body = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(body.pop("$defs", {}))
                components[model.__name__] = body
            for unused in ("HTTPValidationError", "ValidationError"):
                components.pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _as_json(response: dict[str, Any]) -> None:
    content = response.get("content", {})
    envelope = next((media for media in content.values() if "CallsErrorResponse" in str(media)), None)
    if envelope is not None:
        response["content"] = {"application/json": envelope}
