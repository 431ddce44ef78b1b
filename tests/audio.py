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


def rms(content: bytes, start: float, end: float) -> float:
    """The level of decoded audio's first channel between two times."""
    with av.open(io.BytesIO(content), mode="r") as reader:
        stream = reader.streams.audio[0]
        rate = stream.codec_context.sample_rate
        resampler = av.AudioResampler("fltp", stream.codec_context.layout.name, rate)
        parts = [f.to_ndarray()[0] for d in reader.decode(stream) for f in resampler.resample(d)]
        parts += [f.to_ndarray()[0] for f in resampler.resample(None)]
    samples = np.concatenate(parts)[round(start * rate) : round(end * rate)]
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
