"""Test audio made with PyAV: a tone throughout, as MP3 or WAV."""

from __future__ import annotations

import io
import math
from typing import cast

import av
import numpy as np
from av.audio.stream import AudioStream

TONE_LEVEL = 0.5


def tone(seconds: float = 20.0, rate: int = 22050, hz: float = 440.0, fmt: str = "mp3") -> bytes:
    sink = io.BytesIO()
    codec, sample_format = ("libmp3lame", "fltp") if fmt == "mp3" else ("pcm_s16le", "s16")
    with av.open(sink, "w", format=fmt) as writer:
        stream = cast(AudioStream, writer.add_stream(codec, rate=rate))
        stream.layout = "mono"
        count = int(seconds * rate)
        data = (TONE_LEVEL * np.sin(2 * math.pi * hz * np.arange(count) / rate)).astype(np.float32)
        samples = data if sample_format == "fltp" else (data * 32767).astype(np.int16)
        for start in range(0, count, 1152):
            frame = av.AudioFrame.from_ndarray(
                samples[None, start : start + 1152], format=sample_format, layout="mono"
            )
            frame.sample_rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                writer.mux(packet)
        for packet in stream.encode(None):
            writer.mux(packet)
    return sink.getvalue()
