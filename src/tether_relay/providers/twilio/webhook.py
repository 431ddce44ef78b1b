"""Twilio's StatusCallback and RecordingStatusCallback (form-encoded, Twilio's defaults;
shared/reference/providers.md §1.6, §1.7) → our events.

The sender is the organisation whose Twilio AccountSid the form names (one indexed lookup) and whose auth
token signs the request over our public URL (TETHER_PUBLIC_BASE_URL + path + query). Either event may come
first and any may repeat; the RecordingUrl is kept for reference only (the recording endpoint builds media
URLs itself and never fetches one that arrived in a webhook).
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import parse_qsl

from tether_relay.db import in_storable_range, storable
from tether_relay.digits import parse_uint
from tether_relay.errors import PayloadTooLarge, ValidationFailed
from tether_relay.providers.errors import InvalidWebhookSignature
from tether_relay.providers.events import (
    STATUS_ORDER,
    CallFacts,
    CallMentioned,
    CallStatusChanged,
    Event,
    EventIds,
    RecordingCompleted,
    Signers,
    body_key,
)
from tether_relay.providers.twilio import signature
from tether_relay.providers.twilio.payloads import is_sid

PROVIDER = "twilio"
_DIRECTIONS = {"inbound": "inbound", "outbound-api": "outbound", "outbound-dial": "outbound"}

# A callback carries a few dozen fields in a few KiB; parsing and signing a megabyte of them held the
# event loop for a quarter of a second, before anything said who sent it.
MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 1000

Form = list[tuple[str, str]]
Callback = Literal["status", "recording"]


class TwilioWebhook:
    def __init__(self, signers: Signers, public_base_url: str) -> None:
        """`signers`: by AccountSid, each organisation's auth token (Twilio signs with it, never an API
        key)."""
        self._signers = signers
        self._base = public_base_url.rstrip("/")

    @staticmethod
    def precheck(signature_header: str | None) -> str:
        """Before the body is read: a signature is there at all."""
        if not signature_header:
            raise InvalidWebhookSignature()
        return signature_header

    async def receive(
        self, callback: Callback, body: bytes, path: str, query: str, signature_header: str
    ) -> Event:
        organization_id, form = await self.verify(body, path, query, signature_header)
        return parse(callback, organization_id, form)

    async def verify(self, body: bytes, path: str, query: str, signature_header: str) -> tuple[str, Form]:
        """(organisation, form) of a request whose signature verifies; InvalidWebhookSignature otherwise."""
        if len(body) > MAX_FORM_BYTES or body.count(b"&") >= MAX_FORM_FIELDS:
            raise PayloadTooLarge(
                "Larger than any Twilio callback"
            )  # not parsed: a stranger's 1 MiB form held the loop
        try:
            form = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError):
            raise InvalidWebhookSignature() from None  # not Twilio's form: nothing to check it against
        account_sid = dict(form).get("AccountSid", "")
        if not signature_header or not is_sid("AC", account_sid):
            raise InvalidWebhookSignature()
        url = f"{self._base}{path}" + (f"?{query}" if query else "")
        for organization_id, token in await self._signers(account_sid):
            if token and signature.matches(url, form, signature_header, token):
                return organization_id, form
        raise InvalidWebhookSignature()


def parse(callback: Callback, organization_id: str, form: Form) -> Event:
    """A verified form as our event; ValidationFailed when it is not one Twilio sends."""
    values = storable(dict(form))  # verified: now made storable
    call_sid = values.get("CallSid", "")
    if not is_sid("CA", call_sid):
        raise ValidationFailed.of("CallSid", "CallSid is not a Twilio call SID")
    key = body_key(callback, organization_id, *(f"{name}={value}" for name, value in sorted(form)))
    ids = EventIds(
        provider=PROVIDER, event_key=key, organization_id=organization_id, provider_call_id=call_sid
    )
    if callback == "status":
        return CallStatusChanged(**ids, facts=_status(values))
    recording_sid = values.get("RecordingSid", "")
    if not is_sid("RE", recording_sid):
        raise ValidationFailed.of("RecordingSid", "RecordingSid is not a Twilio recording SID")
    if values.get("RecordingStatus", "completed") != "completed":
        return CallMentioned(**ids)  # in-progress, absent, failed: nothing to keep
    duration = parse_uint(values.get("RecordingDuration", ""))
    return RecordingCompleted(
        **ids,
        recording_id=recording_sid,
        duration=float(duration) if duration is not None else None,
        channels=parse_uint(values.get("RecordingChannels", ""), max_digits=2),
        reference_url=_fitting(values.get("RecordingUrl"), 1024),
    )


def _status(values: dict[str, str]) -> CallFacts:
    status = values.get("CallStatus", "")
    if status not in STATUS_ORDER:
        raise ValidationFailed.of("CallStatus", "CallStatus is not a Twilio call status")
    seconds = parse_uint(values.get("CallDuration", ""))
    at = _rfc2822(values.get("Timestamp"))
    final = STATUS_ORDER[status] == STATUS_ORDER["completed"]
    return CallFacts(
        status=status,
        direction=_DIRECTIONS.get(values.get("Direction", "")),
        from_number=_fitting(values.get("From"), 32),
        to_number=_fitting(values.get("To"), 32),
        start_time=at if not final else None,  # queued, initiated, ringing, and in-progress if it came first
        answer_time=at if status == "in-progress" else None,
        end_time=at if final else None,
        duration=float(seconds) if seconds is not None else None,
    )


def _rfc2822(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None and in_storable_range(moment) else None


def _fitting(value: str | None, length: int) -> str | None:
    """A value for a column of `length`, or None: a SIP address can outgrow a phone number's column."""
    return value if value and len(value) <= length else None
