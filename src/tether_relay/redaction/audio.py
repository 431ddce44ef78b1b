"""The audio with stretches muted or beeped, decoded and encoded with PyAV (FFmpeg), then checked by
decoding the result: same length within 50 ms, every stretch silent (or the beep). Frame by frame, so a
long call is never held decoded in memory. MP3 stays MP3 and WAV stays WAV; anything else becomes MP3."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import cast

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream

from tether_relay.redaction.policy import Mode

BEEP_HZ = 1000.0
BEEP_LEVEL = 0.2  # of full scale: clearly a beep, never loud
TOLERANCE_SECONDS = 0.05
# The check skips this much inside each stretch's edges, where a lossy codec smears the cut.
_EDGE = 0.03
_SILENT_RMS = 0.002


class AudioRedactionFailed(Exception):
    """The audio could not be decoded, encoded, or the result failed its check: nothing is stored."""


@dataclass(frozen=True, slots=True)
class RedactedAudio:
    content: bytes
    content_type: str
    duration: float  # seconds, as decoded


@dataclass(frozen=True, slots=True)
class _Output:
    format: str
    codec: str
    sample_format: str
    frame_size: int | None
    content_type: str


_MP3 = _Output("mp3", "libmp3lame", "fltp", 1152, "audio/mpeg")
_WAV = _Output("wav", "pcm_s16le", "s16", None, "audio/wav")


def redact_audio(source: bytes, stretches: list[tuple[float, float]], mode: Mode) -> RedactedAudio:
    try:
        content, output = _rewrite(source, stretches, mode)
        original = _decoded_seconds(source)
        redacted = _check(content, stretches, mode, original)
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise AudioRedactionFailed(f"{type(exc).__name__}: {exc}") from None
    return RedactedAudio(content, output.content_type, redacted)


def duration_of(content: bytes) -> float:
    """Seconds of audio, as decoded."""
    try:
        return _decoded_seconds(content)
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise AudioRedactionFailed(f"{type(exc).__name__}: {exc}") from None


def _rewrite(source: bytes, stretches: list[tuple[float, float]], mode: Mode) -> tuple[bytes, _Output]:
    sink = io.BytesIO()
    with av.open(io.BytesIO(source), mode="r") as reader:
        stream = reader.streams.audio[0]
        rate = stream.codec_context.sample_rate
        layout = stream.codec_context.layout.name
        output = _WAV if "wav" in (reader.format.name or "") else _MP3
        with av.open(sink, mode="w", format=output.format) as writer:
            out = cast(AudioStream, writer.add_stream(output.codec, rate=rate))
            out.layout = layout
            if output is _MP3:
                out.bit_rate = max(stream.codec_context.bit_rate or 0, 32_000)  # the source's, or more
            resampler = av.AudioResampler(output.sample_format, layout, rate, frame_size=output.frame_size)
            position = 0  # samples written so far: the timeline the stretches are on
            for decoded in reader.decode(stream):
                for frame in resampler.resample(decoded):
                    position = _write(writer, out, frame, position, rate, stretches, mode, output)
            for frame in resampler.resample(None):
                position = _write(writer, out, frame, position, rate, stretches, mode, output)
            for packet in out.encode(None):
                writer.mux(packet)
    return sink.getvalue(), output


def _write(
    writer: av.container.OutputContainer,
    out: AudioStream,
    frame: AudioFrame,
    position: int,
    rate: int,
    stretches: list[tuple[float, float]],
    mode: Mode,
    output: _Output,
) -> int:
    samples = frame.to_ndarray()
    count = frame.samples
    planar = output.sample_format.endswith("p")
    channels = samples.shape[0] if planar else samples.shape[1] // count
    view = samples if planar else samples.reshape(count, channels).T  # (channels, samples) either way
    for start, end in stretches:
        first, last = max(round(start * rate) - position, 0), min(round(end * rate) - position, count)
        if first < last:
            view[:, first:last] = _fill(position + first, last - first, rate, mode, samples.dtype)
    replaced = AudioFrame.from_ndarray(samples, format=output.sample_format, layout=frame.layout.name)
    replaced.sample_rate = rate
    replaced.pts = position
    for packet in out.encode(replaced):
        writer.mux(packet)
    return position + count


def _fill(first: int, count: int, rate: int, mode: Mode, dtype: np.dtype) -> np.ndarray:
    if mode == "silence":
        return np.zeros(count, dtype=dtype)
    tone = BEEP_LEVEL * np.sin(2 * math.pi * BEEP_HZ * (first + np.arange(count)) / rate)
    return (tone * 32767).astype(dtype) if np.issubdtype(dtype, np.integer) else tone.astype(dtype)


def _decoded(content: bytes) -> tuple[np.ndarray, int]:
    """Every sample of the first channel as floats in [-1, 1], and the rate (for the check, which reads
    the whole result once)."""
    with av.open(io.BytesIO(content), mode="r") as reader:
        stream = reader.streams.audio[0]
        rate = stream.codec_context.sample_rate
        resampler = av.AudioResampler("fltp", stream.codec_context.layout.name, rate)
        parts = [
            frame.to_ndarray()[0]
            for decoded in reader.decode(stream)
            for frame in resampler.resample(decoded)
        ]
        parts += [frame.to_ndarray()[0] for frame in resampler.resample(None)]
    return (np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)), rate


def _decoded_seconds(content: bytes) -> float:
    with av.open(io.BytesIO(content), mode="r") as reader:
        stream = reader.streams.audio[0]
        samples: int = sum(frame.samples for frame in reader.decode(stream))
        return samples / stream.codec_context.sample_rate


def _check(content: bytes, stretches: list[tuple[float, float]], mode: Mode, original: float) -> float:
    samples, rate = _decoded(content)
    duration = len(samples) / rate
    if abs(duration - original) > TOLERANCE_SECONDS:
        raise ValueError(f"the result lasts {duration:.3f} s, the original {original:.3f} s")
    for start, end in stretches:
        inner = samples[round((start + _EDGE) * rate) : round((end - _EDGE) * rate)]
        if not len(inner):
            continue
        rms = float(np.sqrt(np.mean(np.square(inner, dtype=np.float64))))
        expected = 0.0 if mode == "silence" else BEEP_LEVEL / math.sqrt(2)
        if abs(rms - expected) > (_SILENT_RMS if mode == "silence" else 0.05):
            raise ValueError(f"a stretch at {start:.2f} s was not {mode} after encoding (rms {rms:.4f})")
    return duration
