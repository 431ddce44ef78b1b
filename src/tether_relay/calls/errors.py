from __future__ import annotations

from tether_relay.errors import AppError


class CallNotFound(AppError):
    # Also the answer for another organisation's call: existence is not disclosed across tenants.
    status_code = 404
    code = "CALL_NOT_FOUND"
    message = "Call not found"


class RecordingNotFound(AppError):
    status_code = 404
    code = "RECORDING_NOT_FOUND"
    message = "Recording not found"


class UnsupportedProvider(AppError):
    status_code = 400
    code = "UNSUPPORTED_PROVIDER"
    message = "Recordings are not available for this call's provider"


class RecordingSigningFailed(AppError):
    status_code = 500
    code = "RECORDING_SIGNING_FAILED"
    message = "Failed to sign the recording URL"
