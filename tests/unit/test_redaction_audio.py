"""Muting and beeping stretches of real audio with PyAV (redaction/audio.py), measured by decoding."""

from __future__ import annotations

import pytest

from tests.audio import rms, tone
from tether_relay.redaction.audio import BEEP_LEVEL, AudioRedactionFailed, duration_of, redact_audio

STRETCHES = [(2.0, 3.5), (10.0, 10.4), (19.8, 20.0)]


@pytest.fixture(scope="module", params=["mp3", "wav"])
def source(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    return request.param, tone(fmt=request.param)


def test_silenced_stretches_are_silent_and_the_rest_keeps_its_level(source: tuple[str, bytes]) -> None:
    fmt, audio = source

    result = redact_audio(audio, STRETCHES, "silence")

    assert result.content_type == {"mp3": "audio/mpeg", "wav": "audio/wav"}[fmt]
    assert abs(result.duration - duration_of(audio)) <= 0.05
    for start, end in STRETCHES:
        assert rms(result.content, start + 0.03, end - 0.03) < 0.002
    for start, end in [(0.0, 1.9), (3.6, 9.9), (10.5, 19.7)]:  # a lossy re-encode costs under 1 dB
        assert rms(result.content, start, end) == pytest.approx(rms(audio, start, end), rel=0.1)


def test_beeped_stretches_carry_the_beep(source: tuple[str, bytes]) -> None:
    _, audio = source

    result = redact_audio(audio, STRETCHES[:2], "beep")

    for start, end in STRETCHES[:2]:
        assert rms(result.content, start + 0.03, end - 0.03) == pytest.approx(BEEP_LEVEL / 2**0.5, rel=0.1)


@pytest.mark.parametrize("garbage", [b"", b"ID3\x04" + b"\x00" * 100, b"<html>not audio</html>"])
def test_what_cannot_be_decoded_fails_and_yields_nothing(garbage: bytes) -> None:
    with pytest.raises(AudioRedactionFailed):
        redact_audio(garbage, [(0.0, 1.0)], "silence")
