"""What audio looks like: the first bytes of the container formats providers and clients send us.

A provider may answer 200 with a JSON error or an HTML page (a proxy, a login wall, an expired signed
URL). Content types lie; the first bytes do not. Every place that takes audio from outside (provider
media, provider re-hosting, ingest, audio webhooks) asks `sniff` before it stores or serves a byte.
"""

from __future__ import annotations

# At most this many bytes are needed to recognise any format below.
SNIFF_BYTES = 12


def sniff(head: bytes) -> str | None:
    """The media type of audio starting with `head`, or None when it is not audio we recognise."""
    if head.startswith(b"ID3") or _mpeg_frame(head):
        return "audio/mpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM / Matroska
        return "audio/webm"
    if head[4:8] == b"ftyp":  # ISO base media: M4A / MP4
        return "audio/mp4"
    return None


def is_mp3(head: bytes) -> bool:
    return sniff(head) == "audio/mpeg"


def _mpeg_frame(head: bytes) -> bool:
    """An MPEG audio frame header (MP3, and AAC in ADTS): 11 sync bits, then a valid layer/version.
    Text never starts with 0xFF, so JSON, HTML and XML bodies are never taken for audio."""
    if len(head) < 2 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
    adts = head[1] & 0xF6 == 0xF0  # AAC: sync 0xFFF, layer 00
    return adts or (version != 0b01 and layer != 0b00)
