"""What a provider sends, signed, is stored or left out, never a 500 (found by the outside attack on
issue 11): NUL characters and lone surrogates (PostgreSQL takes neither), start times outside what we
store, and events that arrive late (after a deletion, or a failure after the call completed)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import auth
from tests.fakes import senders
from tests.fakes.elevenlabs import conversation
from tests.fakes.twilio import TwilioFake, sid
from tests.integration.test_webhook_elevenlabs import ORG as HOOK_ORG
from tests.integration.test_webhook_elevenlabs import configured, send  # noqa: F401 - fixture
from tests.integration.test_webhook_telephony import STATUS, post_sinch, post_twilio, sinch_events
from tests.integration.test_webhook_telephony import sinch_org as sinch_org  # fixture
from tests.integration.test_webhook_telephony import twilio_org as twilio_org  # fixture
from tether_relay.calls.models import Call
from tether_relay.runtime import Runtime

ODD = ["\x00", "a\x00b", "\ud800", "x\udfffy"]


def _transcription(conversation_id: str, where: str, odd: str) -> dict[str, Any]:
    data = conversation(conversation_id)
    if where == "message":
        data["transcript"][0]["message"] = odd
    elif where == "summary":
        data["analysis"] = {"transcript_summary": odd}
    elif where == "number":
        data["metadata"]["phone_call"]["external_number"] = "+1415" + odd
    elif where == "agent":
        data["agent_id"] = "agent" + odd
    return senders.elevenlabs_transcription(data)


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize("odd", ODD, ids=["nul", "inner-nul", "surrogate", "inner-surrogate"])
@pytest.mark.parametrize("where", ["message", "summary", "number", "agent"])
async def test_elevenlabs_values_storage_cannot_take_are_never_a_500(
    client: httpx.AsyncClient, where: str, odd: str
) -> None:
    answer = await send(client, _transcription(f"conv_odd_{where}", where, odd))

    # Stored with the characters replaced (200), or refused as JSON we do not take (orjson refuses a lone
    # surrogate): never a 500.
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 200:
        read = await client.get(f"/api/calls/{answer.json()['callId']}", headers=auth(HOOK_ORG))
        assert read.status_code == 200


@pytest.mark.usefixtures("twilio_org")
@pytest.mark.parametrize("odd", ODD[:2], ids=["nul", "inner-nul"])  # a form cannot carry a lone surrogate
async def test_twilio_values_storage_cannot_take_are_never_a_500(
    client: httpx.AsyncClient, twilio: TwilioFake, odd: str
) -> None:
    params = {
        "AccountSid": twilio.account_sid,
        "CallSid": sid("CA"),
        "CallStatus": "ringing",
        "From": odd * 3,
        "To": "+1415" + odd,
    }

    answer = await post_twilio(client, STATUS, params, twilio.auth_token)

    assert answer.status_code == 200, answer.text


@pytest.mark.usefixtures("sinch_org")
@pytest.mark.parametrize("odd", ODD, ids=["nul", "inner-nul", "surrogate", "inner-surrogate"])
async def test_sinch_values_storage_cannot_take_are_never_a_500(client: httpx.AsyncClient, odd: str) -> None:
    ice, _, _, notify, _ = sinch_events("c-odd-" + str(len(odd)))
    notify = {**notify, "destination": f"s3://bucket/rec{odd}.mp3"}
    answers = [await post_sinch(client, event) for event in (ice, notify, {**ice, "callid": "c" + odd})]

    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize("start", [-1_000_000_000_000, -62_135_596_801, -1, 4_102_444_800, 253_402_300_800])
async def test_an_elevenlabs_start_time_we_cannot_store_is_left_out(
    client: httpx.AsyncClient, runtime: Runtime, start: int
) -> None:
    data = conversation("conv_start")
    data["metadata"]["start_time_unix_secs"] = start
    data["metadata"]["call_duration_secs"] = -1000

    answer = await send(client, senders.elevenlabs_transcription(data))

    assert answer.status_code == 200, answer.text
    async with runtime.sessions() as session:
        call = (await session.scalars(select(Call))).one()
    assert (call.start_time, call.duration) == (None, None)


def _failure(conversation_id: str) -> dict[str, Any]:
    return {
        "type": "call_initiation_failure",
        "event_timestamp": 0,
        "data": {"agent_id": "agent_01jabc", "conversation_id": conversation_id, "failure_reason": "busy"},
    }


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize("deleted", [True, False], ids=["after-deletion", "after-completion"])
async def test_a_late_initiation_failure_moves_nothing_backwards(
    client: httpx.AsyncClient, runtime: Runtime, deleted: bool
) -> None:
    call_id = (await send(client, senders.elevenlabs_transcription(conversation("conv_late")))).json()[
        "callId"
    ]
    if deleted:
        assert (
            await client.delete(f"/api/calls/{call_id}/recording", headers=auth(HOOK_ORG))
        ).status_code == 200

    assert (await send(client, _failure("conv_late"))).status_code == 200

    async with runtime.sessions() as session:
        call = await session.get(Call, call_id)
    assert call is not None
    assert call.status == "completed"
    assert call.transcription_status == ("unavailable" if deleted else "ready")
