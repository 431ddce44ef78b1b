"""The one error hierarchy. Each error knows its HTTP status and its stable `code`; the API layer renders
every one of them in the contract's envelope, so no route builds error JSON."""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"
    message: ClassVar[str] = "Internal server error"

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        self.detail = message or self.message
        self.headers = headers or {}
        super().__init__(self.detail)


class ValidationFailed(AppError):
    """Rendered with `error` as the structured `{code, message, details}` object of the contract."""

    status_code = 400
    code = "VALIDATION_ERROR"
    message = "Request validation failed"

    def __init__(self, message: str | None = None, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.details = details or []

    @classmethod
    def of(cls, field: str, message: str, kind: str = "value_error") -> ValidationFailed:
        """One field is wrong: the message, and the same as the one detail."""
        return cls(message, details=[{"field": field, "message": message, "type": kind}])


class Unauthorized(AppError):
    status_code = 401
    code = "UNAUTHORIZED"
    message = "Missing, invalid or expired credentials"


class Forbidden(AppError):
    status_code = 403
    code = "FORBIDDEN"
    message = "Your role does not allow this action"


class NotFound(AppError):
    status_code = 404
    code = "NOT_FOUND"
    message = "Not found"


class MethodNotAllowed(AppError):
    status_code = 405
    code = "METHOD_NOT_ALLOWED"
    message = "Method not allowed"


class SignedUrlRefused(AppError):
    """A storage URL that is expired, tampered with, or for another object."""

    status_code = 403
    code = "SIGNED_URL_INVALID"
    message = "This link is invalid or has expired"


class Conflict(AppError):
    """A concurrent request changed the same thing first and retrying did not settle it: try again."""

    status_code = 409
    code = "CONFLICT"
    message = "A concurrent request changed this at the same time; try again"


class RequestTimeout(AppError):
    """The client took too long to send its request's headers (api/server.py)."""

    status_code = 408
    code = "REQUEST_TIMEOUT"
    message = "The request's headers did not arrive in time"


class HeadersTooLarge(AppError):
    """A request's headers (with its request line) larger than any client of ours sends (api/server.py)."""

    status_code = 431
    code = "HEADERS_TOO_LARGE"
    message = "Request headers too large"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "Request body too large"


class RateLimited(AppError):
    status_code = 429
    code = "RATE_LIMITED"
    message = "Too many requests; retry after the time in Retry-After"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(headers={"Retry-After": str(retry_after_seconds)})


class ServiceUnavailable(AppError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    message = "Service temporarily unavailable"


# The recording domain's errors live here too: calls/ raises them and so do providers/ and storage/.
class CallNotFound(AppError):
    # Also the answer for another organisation's call: existence is not disclosed across tenants.
    status_code = 404
    code = "CALL_NOT_FOUND"
    message = "Call not found"


class RecordingNotFound(AppError):
    status_code = 404
    code = "RECORDING_NOT_FOUND"
    message = "Recording not found"


class RecordingDeleted(AppError):
    status_code = 404
    code = "RECORDING_DELETED"
    message = "The recording of this call was deleted"


class RecordingDeletionFailed(AppError):
    status_code = 500
    code = "RECORDING_DELETION_FAILED"
    message = "The stored recording could not be deleted; nothing was recorded, try again"


class RecordingNotReady(AppError):
    """The provider is still recording or processing: a distinct 404, with when to ask again."""

    status_code = 404
    code = "RECORDING_NOT_READY"
    message = "The recording is not ready yet; try again later"

    def __init__(self, retry_after_seconds: int = 30) -> None:
        super().__init__(headers={"Retry-After": str(retry_after_seconds)})


class RedactionFailed(AppError):
    """The organisation redacts recordings and this call's redacted copy could not be made: roles that
    may read only redacted copies get this, never the original."""

    status_code = 500
    code = "REDACTION_FAILED"
    message = "The redacted copy of this recording could not be made"


class RedactionNotFound(AppError):
    status_code = 404
    code = "REDACTION_NOT_FOUND"
    message = "No redaction of this call was asked for (the organisation's policy is off)"


class TranscriptNotReady(AppError):
    """The provider is still transcribing: asked again after Retry-After."""

    status_code = 404
    code = "TRANSCRIPT_NOT_READY"
    message = "The transcript is not ready yet; try again later"

    def __init__(self, retry_after_seconds: int = 30) -> None:
        super().__init__(headers={"Retry-After": str(retry_after_seconds)})


class TranscriptNotFound(AppError):
    status_code = 404
    code = "TRANSCRIPT_NOT_FOUND"
    message = "This call has no transcript in that form"


class EndpointNotFound(AppError):
    """No webhook endpoint with that id in the caller's organisation (another organisation's is the same)."""

    status_code = 404
    code = "ENDPOINT_NOT_FOUND"
    message = "Webhook endpoint not found"


class DeliveryNotFound(AppError):
    status_code = 404
    code = "DELIVERY_NOT_FOUND"
    message = "Webhook delivery not found"


class UnsupportedProvider(AppError):
    status_code = 400
    code = "UNSUPPORTED_PROVIDER"
    message = "Recordings are not available for this call's provider"


class RecordingSigningFailed(AppError):
    status_code = 500
    code = "RECORDING_SIGNING_FAILED"
    message = "Failed to sign the recording URL"
