"""What counts as audio (issue 11, class 2): the first bytes of real containers are recognised, and no
JSON, HTML, XML or text error page ever is, whatever content type came with it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tether_relay.demo import demo_audio
from tether_relay.providers.audio import SNIFF_BYTES, sniff

HEADERS = {
    "audio/mpeg": [b"ID3\x04\x00\x00", b"\xff\xfb\x90\x64", b"\xff\xf3\x48\xc4", b"\xff\xf1\x50\x80"],
    "audio/wav": [demo_audio(0.01)[:SNIFF_BYTES]],
    "audio/ogg": [b"OggS\x00\x02"],
    "audio/flac": [b"fLaC\x00\x00\x00\x22"],
    "audio/webm": [b"\x1a\x45\xdf\xa3\x9f\x42"],
    "audio/mp4": [b"\x00\x00\x00\x20ftypM4A "],
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@pytest.mark.parametrize(("media_type", "head"), [(t, h) for t, hs in HEADERS.items() for h in hs])
def test_real_containers_are_recognised(media_type: str, head: bytes) -> None:
    assert sniff(head) == media_type


@given(json_values)
def test_no_json_body_is_audio(value: Any) -> None:
    assert sniff(json.dumps(value).encode()[:SNIFF_BYTES]) is None


@given(st.text(min_size=0, max_size=40).filter(lambda t: not t.startswith(("ID3", "OggS", "fLaC", "RIFF"))))
def test_no_text_page_is_audio(text: str) -> None:
    for page in (text, f"<html>{text}", f'<?xml version="1.0"?>{text}', f"  {text}"):
        assert sniff(page.encode()[:SNIFF_BYTES]) is None


@pytest.mark.parametrize("head", [b"", b"\xff", b"\xff\xe0", b"\xff\xea\x00", b"RIFF\x00\x00\x00\x00AVI "])
def test_truncated_or_invalid_headers_are_not_audio(head: bytes) -> None:
    assert sniff(head) is None
