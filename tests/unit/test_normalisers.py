"""Provider payload → our canonical transcript, as pure functions (golden cases)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tether_relay.providers.elevenlabs.adapter import conversation_transcript
from tether_relay.providers.elevenlabs.payloads import Conversation
from tether_relay.providers.sinch import transcript as sinch
from tether_relay.providers.sinch.adapter import transcript_key_for
from tether_relay.providers.twilio.adapter import sentences_to_utterances
from tether_relay.providers.twilio.payloads import Sentence, SentencePage
from tether_relay.transcripts.model import text_of, to_text

DATA = Path(__file__).parent.parent / "data"


def golden(name: str) -> Any:
    return json.loads((DATA / name).read_text())


@pytest.mark.parametrize(
    ("direction", "roles"),
    [("inbound", ["user", "agent"]), ("outbound", ["agent", "user"]), (None, ["user", "agent"])],
)
def test_twilio_channels_map_to_roles_by_direction(direction: str | None, roles: list[str]) -> None:
    page = SentencePage.model_validate(golden("twilio_sentences.json"))

    utterances = sentences_to_utterances(page.sentences, direction)

    assert [u["role"] for u in utterances] == roles


def test_twilio_sentence_times_may_be_numeric_strings_and_come_out_of_order() -> None:
    sentences = [
        Sentence(media_channel=2, sentence_index=1, start_time="3.1", end_time="4.4", transcript="B"),
        Sentence(media_channel=1, sentence_index=0, start_time=0.48, end_time=None, transcript="A"),
        Sentence(media_channel=1, sentence_index=2, start_time="garbage", transcript="C"),
        Sentence(media_channel=1, sentence_index=3, start_time=5, transcript=""),
    ]

    utterances = sentences_to_utterances(sentences, "inbound")

    assert utterances == [
        # A sentence without an end ends where a later one starts; the last (unknown duration) keeps none.
        {"role": "user", "message": "A", "timestamp": 0.48, "channel": 1, "end": 3.1},
        {"role": "agent", "message": "B", "timestamp": 3.1, "end": 4.4, "channel": 2},
        {"role": "user", "message": "C", "timestamp": 0.0, "channel": 1},
    ]


def test_elevenlabs_conversation_becomes_utterances_without_tool_turns() -> None:
    result = conversation_transcript(Conversation.model_validate(golden("elevenlabs_conversation.json")))

    assert result.status == "ready"
    assert result.data == golden("elevenlabs_conversation.expected.json")
    assert result.details is not None
    assert (result.details.from_number, result.details.to_number) == ("+15552223333", "+15550001111")
    assert result.details.duration == 65


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("processing", "pending"),
        ("in-progress", "pending"),
        ("initiated", "pending"),
        ("failed", "unavailable"),
    ],
)
def test_elevenlabs_conversation_status(status: str, expected: str) -> None:
    payload = {**golden("elevenlabs_conversation.json"), "status": status}

    assert conversation_transcript(Conversation.model_validate(payload)).status == expected


@pytest.mark.parametrize("document", [None, 42, "text", [], {}, [1, 2], {"segments": "nope"}])
def test_sinch_parser_never_raises(document: Any) -> None:
    sinch.parse(document)


def test_sinch_transcript_key_sits_beside_the_recording() -> None:
    assert transcript_key_for("calls/2026_app_call.mp3") == "calls/2026_app_call-transcript.json"


def test_text_rendering() -> None:
    utterances = golden("elevenlabs_conversation.expected.json")

    assert to_text(utterances) == text_of(utterances)
    assert text_of({"provider": "shaped"}) is None
    assert text_of([{"role": "narrator", "message": "x"}]) is None
