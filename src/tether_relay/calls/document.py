"""The Call document of the wider API (shared/reference/tether-api.md §3), as GET /api/calls/… return it.
Storage keys and transcript internals stay inside; clients get what the reference shows, plus a few
fields (summary, agentName, transcriptionStatus) it tolerates as provider-specific extras."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tether_relay.calls.models import Call, Recording


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def recording_document(recording: Recording) -> dict[str, Any]:
    return {
        "recordingId": recording.public_id,
        "contentType": recording.content_type,
        "duration": recording.duration,
        "channels": recording.channels,
        "sizeBytes": recording.size_bytes,
        "createdAt": _iso(recording.created_at),
    }


def call_document(call: Call, summaries: dict[str, str | None] | None = None) -> dict[str, Any]:
    """`summaries`: what a reader of redacted content sees of each call's summary (redaction_requests.py)."""
    return {
        "_id": call.id,
        "callId": call.id,
        "provider": call.provider,
        "providerCallId": call.provider_call_id,
        "direction": call.direction,
        "status": call.status,
        "from": call.from_number,
        "to": call.to_number,
        "contactId": call.contact_id,
        "conversationId": call.conversation_id,
        "organizationId": call.organization_id,
        "userId": call.user_id,
        "providerPhoneNumber": call.provider_phone_number,
        "startTime": _iso(call.start_time),
        "answerTime": _iso(call.answer_time),
        "endTime": _iso(call.end_time),
        "duration": call.duration,
        "recordings": [recording_document(r) for r in call.recordings],
        "summary": call.summary if summaries is None else summaries.get(call.id),
        "agentName": call.agent_name,
        "transcriptionStatus": call.transcription_status,
        "createdAt": _iso(call.created_at),
        "updatedAt": _iso(call.updated_at),
    }
