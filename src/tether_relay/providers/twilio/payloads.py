"""Twilio's JSON exactly as sent (only the fields we read). Note the surprises: 2010 durations are
strings, Intelligence sentence times may be numbers or numeric strings, list envelopes differ."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

SID_PATTERNS = {
    prefix: re.compile(rf"^{prefix}[0-9a-fA-F]{{32}}$") for prefix in ("AC", "CA", "RE", "GA", "GT")
}


def is_sid(prefix: str, value: str | None) -> bool:
    return value is not None and SID_PATTERNS[prefix].match(value) is not None


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Recording(_Payload):
    """`api.v2010.account.recording` and the call-scoped `call_recording` (which lacks media_url)."""

    sid: str
    call_sid: str | None = None
    status: str | None = None
    duration: str | None = None  # seconds as a string; null while in progress
    channels: int | None = None
    date_created: str | None = None  # RFC 2822


class RecordingList(_Payload):
    recordings: list[Recording]
    next_page_uri: str | None = None


class Transcription(_Payload):
    """Legacy `recording_transcription`."""

    sid: str
    status: str | None = None  # in-progress | completed | failed
    transcription_text: str | None = None


class TranscriptionList(_Payload):
    transcriptions: list[Transcription]


class IntelligenceTranscript(_Payload):
    sid: str
    status: str  # queued, in-progress, completed, new, failed, canceled, error


class Meta(_Payload):
    next_page_url: str | None = None


class IntelligenceTranscriptList(_Payload):
    transcripts: list[IntelligenceTranscript]
    meta: Meta | None = None


class SentenceWord(_Payload):
    word: str | None = None
    start_time: float | str | None = None
    end_time: float | str | None = None


class Sentence(_Payload):
    media_channel: int | None = None
    sentence_index: int | None = None
    start_time: float | str | None = None
    end_time: float | str | None = None
    transcript: str | None = None
    words: list[SentenceWord] | None = None


class SentencePage(_Payload):
    sentences: list[Sentence]
    meta: Meta | None = None


class Error(_Payload):
    """Legacy error body `{code, message, more_info, status}`."""

    code: int | None = None
    status: int | None = None
