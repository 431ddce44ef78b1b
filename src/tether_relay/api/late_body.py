"""Bodies read only after the request's credentials were checked.

FastAPI reads and validates a route's body parameter before it resolves the route's dependencies, so a
stranger's 20 MiB body would be read and parsed before the API key that refuses it was even looked at.
Routes that take large bodies declare no body parameter: their authentication runs first (a dependency),
then the route calls `validated_body`. The OpenAPI document still describes the body (`documented_body`),
and a body that does not validate is answered exactly as FastAPI answers it (api/errors.py renders
RequestValidationError in the contract's envelope).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

# Validating a body larger than this holds the event loop for several milliseconds: do it in a thread.
_OFF_LOOP_BYTES = 256 * 1024
# Models whose schemas the OpenAPI document must carry although no route declares them as a parameter.
LATE_BODY_MODELS: list[type[BaseModel]] = []


def documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route whose body is `model`, read late."""
    LATE_BODY_MODELS.append(model)
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def validated_body(request: Request, model: type[M]) -> M:
    return await converted_body(request, model, lambda body: body)


async def converted_body(request: Request, model: type[M], convert: Callable[[M], T]) -> T:
    """The body validated as `model`, then passed through `convert` (in the same thread as the
    validation when the body is large: converting 20,000 utterances also holds the loop)."""
    body = await request.body()  # capped by api/body_limit.py as it streams in

    def validated() -> T:
        return convert(model.model_validate_json(body))

    try:
        if len(body) > _OFF_LOOP_BYTES:
            return await asyncio.to_thread(validated)
        return validated()
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_input=False)]
        ) from None
