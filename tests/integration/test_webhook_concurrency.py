"""Two events of one call applied at once are applied one after the other (issue 11, class 8's sibling):
a call's status never moves backwards and no field is lost, on SQLite (whose driver reads outside any
transaction unless a write comes first) as on PostgreSQL."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from tests.fakes.twilio import TwilioFake, sid
from tests.integration.test_webhook_telephony import STATUS, post_twilio
from tests.integration.test_webhook_telephony import twilio_org as twilio_org  # fixture
from tether_relay.calls.models import Call
from tether_relay.runtime import Runtime


@pytest.mark.usefixtures("twilio_org")
@pytest.mark.parametrize("round_", range(3))
async def test_concurrent_status_events_never_move_a_call_backwards(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, round_: int
) -> None:
    call_sid = sid("CA")
    base = {"AccountSid": twilio.account_sid, "CallSid": call_sid, "Direction": "inbound"}
    events = [
        {**base, "CallStatus": "ringing", "From": "+15552223333"},
        {**base, "CallStatus": "in-progress", "To": "+15550001111"},
        {**base, "CallStatus": "completed", "CallDuration": "66"},
    ]
    first = await post_twilio(client, STATUS, {**base, "CallStatus": "queued"}, twilio.auth_token)
    assert first.status_code == 200

    answers = await asyncio.gather(
        *(post_twilio(client, STATUS, e, twilio.auth_token) for e in events[round_:] + events[:round_])
    )

    assert {a.status_code for a in answers} == {200}
    async with runtime.sessions() as session:
        call = (await session.scalars(select(Call))).one()
    assert (call.status, call.from_number, call.to_number, call.duration) == (
        "completed",
        "+15552223333",
        "+15550001111",
        66.0,
    )
