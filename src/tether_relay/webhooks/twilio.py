"""POST /api/webhook/calls/twilio/status and /recording (form-encoded, Twilio's defaults).

The sender is the organisation whose Twilio AccountSid the form names (one indexed lookup) and whose auth
token signs the request over our public URL (TETHER_PUBLIC_BASE_URL + path + query). Either event may come
first and any may repeat: a status never moves backwards, and the RecordingUrl is kept for reference only
(the recording endpoint builds media URLs itself and never fetches one that arrived in a webhook).
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.calls.repository import CallRepository, NewRecording
from tether_relay.db import in_storable_range, storable
from tether_relay.digits import parse_uint
from tether_relay.errors import ValidationFailed
from tether_relay.organizations.credentials import CredentialStore
from tether_relay.providers.errors import InvalidWebhookSignature
from tether_relay.providers.twilio import signature
from tether_relay.providers.twilio.payloads import is_sid
from tether_relay.webhooks.events import apply_once, body_key

PROVIDER = "twilio"
# Later states win; an event that arrives late never moves a call back.
_STATUS_ORDER = {
    "queued": 0,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    "completed": 4,
    "busy": 4,
    "no-answer": 4,
    "failed": 4,
    "canceled": 4,
}
_DIRECTIONS = {"inbound": "inbound", "outbound-api": "outbound", "outbound-dial": "outbound"}

Form = list[tuple[str, str]]


class TwilioWebhooks:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], credentials: CredentialStore, public_base_url: str
    ) -> None:
        self._sessions = sessions
        self._credentials = credentials
        self._base = public_base_url.rstrip("/")

    async def verify(
        self, body: bytes, path: str, query: str, signature_header: str | None
    ) -> tuple[str, Form]:
        """(organisation, form) of a request whose signature verifies; InvalidWebhookSignature otherwise."""
        try:
            form = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError):
            raise InvalidWebhookSignature() from None  # not Twilio's form: nothing to check it against
        values = dict(form)
        account_sid = values.get("AccountSid", "")
        if not signature_header or not is_sid("AC", account_sid):
            raise InvalidWebhookSignature()
        url = f"{self._base}{path}" + (f"?{query}" if query else "")
        for organization_id, creds in await self._credentials.by_lookup_key(PROVIDER, account_sid):
            token = creds.get("twilioAuthToken")  # Twilio signs with the auth token, never an API key
            if token and signature.matches(url, form, signature_header, token):
                return organization_id, form
        raise InvalidWebhookSignature()

    async def status(self, organization_id: str, form: Form) -> str | None:
        values = storable(dict(form))  # verified: now made storable
        call_sid = _call_sid(values)
        status = values.get("CallStatus", "")
        if status not in _STATUS_ORDER:
            raise ValidationFailed.of("CallStatus", "CallStatus is not a Twilio call status")
        at = _rfc2822(values.get("Timestamp"))

        async def apply(session: AsyncSession) -> str:
            call = await CallRepository(session).find_or_create(organization_id, PROVIDER, call_sid)
            if call.recording_deleted_at is not None:
                return call.id  # after a deletion an event is recorded and applied as a no-op
            call.from_number = call.from_number or _fitting(values.get("From"), 32)
            call.to_number = call.to_number or _fitting(values.get("To"), 32)
            call.direction = call.direction or _DIRECTIONS.get(values.get("Direction", ""))
            if _STATUS_ORDER[status] >= _STATUS_ORDER.get(call.status, -1):
                call.status = status
            if (seconds := parse_uint(values.get("CallDuration", ""))) is not None:
                call.duration = float(seconds)
            if at is not None:
                if status in ("queued", "initiated", "ringing"):
                    call.start_time = call.start_time or at
                elif status == "in-progress":
                    call.answer_time = call.answer_time or at
                    call.start_time = call.start_time or at
                elif _STATUS_ORDER[status] == 4:
                    call.end_time = call.end_time or at
            return call.id

        call_id, _ = await apply_once(
            self._sessions,
            provider=PROVIDER,
            organization_id=organization_id,
            event_key=body_key("status", organization_id, *_pairs(form)),
            apply=apply,
        )
        return call_id

    async def recording(self, organization_id: str, form: Form) -> str | None:
        values = storable(dict(form))  # verified: now made storable
        call_sid = _call_sid(values)
        recording_sid = values.get("RecordingSid", "")
        if not is_sid("RE", recording_sid):
            raise ValidationFailed.of("RecordingSid", "RecordingSid is not a Twilio recording SID")
        completed = values.get("RecordingStatus", "completed") == "completed"
        duration = parse_uint(values.get("RecordingDuration", ""))
        channels = values.get("RecordingChannels", "")

        async def apply(session: AsyncSession) -> str:
            calls = CallRepository(session)
            call = await calls.find_or_create(organization_id, PROVIDER, call_sid)
            if call.recording_deleted_at is not None:
                return call.id  # after a deletion an event is recorded and applied as a no-op
            known = next((r for r in call.recordings if r.provider_recording_id == recording_sid), None)
            if completed and known is None:
                recording = NewRecording(
                    provider_recording_id=recording_sid,
                    duration=float(duration) if duration is not None else None,
                    channels=parse_uint(channels, max_digits=2),
                    reference_url=_fitting(values.get("RecordingUrl"), 1024),
                )
                await calls.attach_recording(call.id, recording)  # refused if the recording was deleted
            return call.id

        call_id, _ = await apply_once(
            self._sessions,
            provider=PROVIDER,
            organization_id=organization_id,
            event_key=body_key("recording", organization_id, *_pairs(form)),
            apply=apply,
        )
        return call_id


def _call_sid(values: dict[str, str]) -> str:
    call_sid = values.get("CallSid", "")
    if not is_sid("CA", call_sid):
        raise ValidationFailed.of("CallSid", "CallSid is not a Twilio call SID")
    return call_sid


def _pairs(form: Form) -> list[str]:
    return [f"{name}={value}" for name, value in sorted(form)]


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
