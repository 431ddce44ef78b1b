from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tether_relay.storage.base import StorageError
from tether_relay.storage.local import LocalStore

NOW = 1_800_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore("recordings", tmp_path, "http://relay.test", b"k" * 32)


def parts(url: str) -> tuple[str, str, str]:
    parsed = httpx.URL(url)
    key = parsed.path.removeprefix("/media/recordings/")
    return key, parsed.params["expires"], parsed.params["signature"]


def test_a_signed_url_verifies_until_it_expires(store: LocalStore) -> None:
    key, expires, signature = parts(store.signed_url("org/call/rec.mp3", 600, now=NOW))

    assert key == "org/call/rec.mp3"
    assert store.verify(key, expires, signature, now=NOW + 600)
    assert not store.verify(key, expires, signature, now=NOW + 601)


def test_any_change_breaks_the_signature(store: LocalStore) -> None:
    key, expires, signature = parts(store.signed_url("org/call/rec.mp3", 600, now=NOW))
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")

    assert not store.verify(key, expires, flipped, now=NOW)
    assert not store.verify("org/call/other.mp3", expires, signature, now=NOW)
    assert not store.verify(key, str(int(expires) + 1), signature, now=NOW)
    assert not store.verify(key, "not-a-number", signature, now=NOW)


def test_another_key_or_bucket_signs_differently(tmp_path: Path, store: LocalStore) -> None:
    other_key = LocalStore("recordings", tmp_path, "http://relay.test", b"j" * 32)
    other_bucket = LocalStore("sinch", tmp_path, "http://relay.test", b"k" * 32)
    key, expires, signature = parts(store.signed_url("org/a.mp3", 600, now=NOW))

    assert not other_key.verify(key, expires, signature, now=NOW)
    assert not other_bucket.verify(key, expires, signature, now=NOW)


@pytest.mark.parametrize("key", ["../escape.mp3", "org/../../escape.mp3", "/etc/passwd", ""])
def test_keys_cannot_leave_the_bucket_folder(store: LocalStore, key: str) -> None:
    with pytest.raises(StorageError):
        store.path_for(key)


async def test_put_writes_the_bytes_atomically(store: LocalStore, tmp_path: Path) -> None:
    await store.put("org/call/rec.mp3", b"audio", "audio/mpeg")

    assert (tmp_path / "org/call/rec.mp3").read_bytes() == b"audio"
    assert [p.name for p in (tmp_path / "org/call").iterdir()] == ["rec.mp3"]
