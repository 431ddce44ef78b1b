"""Identifiers the service mints: opaque and unguessable."""

from __future__ import annotations

import secrets


def new_call_id() -> str:
    # 96 random bits, shaped like the 24-hex ids of the wider API.
    return secrets.token_hex(12)


def new_recording_id() -> str:
    return "rec_" + secrets.token_hex(12)


def new_endpoint_id() -> str:
    return "ep_" + secrets.token_hex(12)


def new_event_id() -> str:
    """An outbound event's id: the `webhook-id` its receivers deduplicate by."""
    return "msg_" + secrets.token_hex(12)


def new_delivery_id() -> str:
    return "dlv_" + secrets.token_hex(12)
