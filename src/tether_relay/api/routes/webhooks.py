"""Provider webhooks. Each checks the sender's headers before reading the body, then the vendor's verifier
turns the raw body into our event (providers/<vendor>/webhook.py), which the one applier applies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from tether_relay.api.deps import RuntimeDep
from tether_relay.api.errors import error_responses
from tether_relay.api.types import StoredText
from tether_relay.providers.twilio.webhook import Callback

router = APIRouter(tags=["Webhook"])

SIGNED_ERRORS = error_responses(400, 401, 413, d401="Signature missing, invalid or stale, or unknown sender")


def _body(description: str, content_type: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {content_type: {"schema": {"type": "object"}}},
        }
    }


@router.post(
    "/api/webhook/elevenlabs",
    summary="Handle the ElevenLabs post-call webhook",
    responses={
        **SIGNED_ERRORS,
        **error_responses(
            408,
            503,
            d408="The body did not arrive within a minute",
            d503="Too many unverified bodies at once (see Retry-After)",
        ),
    },
    openapi_extra=_body(
        "post_call_transcription, post_call_audio or call_initiation_failure, signed "
        "with ElevenLabs-Signature",
        "application/json",
    ),
)
async def elevenlabs_webhook(
    request: Request,
    runtime: RuntimeDep,
    organization_id: Annotated[StoredText | None, Query(alias="organizationId", max_length=64)] = None,
) -> dict[str, Any]:
    """Creates or completes the call: its transcript, its audio (stored in R2), or its failure."""
    webhooks = runtime.webhooks
    signed = webhooks.elevenlabs.precheck(request.headers.get("elevenlabs-signature"))  # before the body
    body = await request.app.state.unverified_bodies.read(request)  # a budget shared by strangers
    event = await webhooks.elevenlabs.receive(body, signed, organization_id)
    return {"received": True, "callId": await webhooks.applier.apply(event)}


TWILIO_EVENTS = {"status": "Twilio StatusCallback", "recording": "Twilio RecordingStatusCallback"}


async def _twilio(callback: Callback, request: Request, runtime: RuntimeDep) -> PlainTextResponse:
    webhooks = runtime.webhooks
    signature = webhooks.twilio.precheck(request.headers.get("x-twilio-signature"))  # before the body
    url = request.url
    event = await webhooks.twilio.receive(callback, await request.body(), url.path, url.query, signature)
    await webhooks.applier.apply(event)
    return PlainTextResponse("OK")  # Twilio only checks for a 2xx


@router.post(
    "/api/webhook/calls/twilio/status",
    summary="Handle Twilio call status updates",
    response_class=PlainTextResponse,
    responses=SIGNED_ERRORS,
    openapi_extra=_body(f"{TWILIO_EVENTS['status']} parameters", "application/x-www-form-urlencoded"),
)
async def twilio_status_webhook(request: Request, runtime: RuntimeDep) -> PlainTextResponse:
    """Creates or updates the call by CallSid; a status never moves backwards."""
    return await _twilio("status", request, runtime)


@router.post(
    "/api/webhook/calls/twilio/recording",
    summary="Handle Twilio recording status",
    response_class=PlainTextResponse,
    responses=SIGNED_ERRORS,
    openapi_extra=_body(f"{TWILIO_EVENTS['recording']} parameters", "application/x-www-form-urlencoded"),
)
async def twilio_recording_webhook(request: Request, runtime: RuntimeDep) -> PlainTextResponse:
    """Attaches the RecordingSid to the call; the RecordingUrl is kept for reference, never fetched."""
    return await _twilio("recording", request, runtime)


@router.post(
    "/api/webhook/calls/sinch",
    summary="Handle Sinch voice callbacks (ICE, ACE, DiCE, notify)",
    responses=SIGNED_ERRORS,
    openapi_extra=_body("A Sinch callback event", "application/json"),
)
async def sinch_webhook(request: Request, runtime: RuntimeDep) -> Response:
    """Keeps the call and where Sinch put its recording and transcript. Routing calls is the wider API's
    job, so ICE answers a neutral SVAML `continue` and the other events an empty 200."""
    webhooks = runtime.webhooks
    sender = await webhooks.sinch.precheck(  # before reading the body
        timestamp=request.headers.get("x-timestamp"), authorization=request.headers.get("authorization")
    )
    name, event = await webhooks.sinch.receive(
        sender,
        body=await request.body(),
        path=request.url.path,
        content_type=request.headers.get("content-type", ""),
    )
    await webhooks.applier.apply(event)
    if name == "ice":
        return JSONResponse({"instructions": [], "action": {"name": "continue"}})
    return Response(status_code=200)
