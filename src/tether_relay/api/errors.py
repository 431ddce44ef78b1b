"""Renders every error in the contract's envelope, and declares error responses for the OpenAPI doc."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from tether_relay.api.schemas import CallsErrorResponse
from tether_relay.db import is_conflict
from tether_relay.errors import (
    AppError,
    Conflict,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)

log = logging.getLogger("tether_relay.errors")

_DESCRIPTIONS = {
    400: "Invalid request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "A concurrent request changed the same thing; try again",
    413: "Request body too large",
    429: "Too many requests (see Retry-After)",
    500: "Internal error",
}


def error_responses(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status documented with the error envelope."""
    return {
        status: {
            "model": CallsErrorResponse,
            "description": descriptions.get(f"d{status}", _DESCRIPTIONS.get(status, "Error")),
        }
        for status in statuses
    }


def envelope(error: AppError) -> dict[str, Any]:
    if isinstance(error, ValidationFailed):
        detail = {"code": error.code, "message": error.detail, "details": error.details}
        return {"success": False, "error": detail, "code": error.code}
    return {"success": False, "error": error.detail, "code": error.code}


def render(error: AppError) -> JSONResponse:
    return JSONResponse(envelope(error), status_code=error.status_code, headers=error.headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo the input back: it may be a secret or a megabyte of base64.
    return [
        {
            "field": ".".join(str(part) for part in err.get("loc", ()) if part != "body") or "body",
            "message": str(err.get("msg", "invalid")),
            "type": str(err.get("type", "invalid")),
        }
        for err in exc.errors()
    ]


def install(app: FastAPI) -> None:
    async def app_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        if exc.status_code >= 500:
            log.error("request failed: %s", exc.code, extra={"cause": cause(exc)})
        return render(exc)

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return render(ValidationFailed(details=_validation_details(exc)))

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return render(NotFound())
        if exc.status_code == 405:
            return render(MethodNotAllowed())
        if exc.status_code == 413:
            return render(PayloadTooLarge())
        if exc.status_code == 400:  # Starlette's own parse errors (a form or JSON it could not read)
            return render(ValidationFailed(str(exc.detail)))
        return JSONResponse(
            {"success": False, "error": str(exc.detail), "code": "HTTP_ERROR"}, status_code=exc.status_code
        )

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        # A conflict a request lost that its code did not retry is the client's to retry, not a 500.
        assert isinstance(exc, DBAPIError)
        if is_conflict(exc):
            return await app_error(request, Conflict())
        return await unexpected(request, exc)

    async def client_gone(_request: Request, _exc: Exception) -> JSONResponse:
        # The client hung up before its body arrived: its mistake, not ours, and nobody reads the answer.
        return render(ValidationFailed("the client disconnected before its body arrived"))

    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # One line naming the failure and where it happened; no trace (it could carry secrets). Errors no
        # handler takes end in api/request_context.py, which does the same.
        log.error("unhandled error", extra={"cause": cause(exc)})
        return render(AppError())

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(ClientDisconnect, client_gone)


def cause(exc: BaseException) -> str:
    """The root cause's type and where it was raised: what a log line may say of a failure."""
    root = exc
    while root.__cause__ is not None:
        root = root.__cause__
    frames = traceback.extract_tb(root.__traceback__)
    where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    return f"{type(root).__name__}{where}"
