"""Fail closed on configuration (issue 11, class 9): development mode only on loopback, and what the
service writes to disk is its owner's only."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tether_relay.db import prepare_sqlite_file
from tether_relay.keys import DEV_SECRETS_FILE, load_keys
from tether_relay.settings import Settings
from tether_relay.storage.local import LocalStore

ANY_IPV4 = "0.0.0.0"  # noqa: S104 - the address a forgotten setting listens on
SECRETS: dict[str, Any] = {
    "jwt_secret": "unit-jwt-3Fh8Lq1Ws6Zb9Xm2Kd5Vr0Tn7Pc4Gy",
    "secret_key": "unit-key-8Mb3Rx6Tq1Hz4Wn9Lc2Kv7Df0Ps5Gj",
}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LocalHost"])
def test_development_mode_on_a_loopback_address(host: str) -> None:
    assert Settings(host=host).development_mode


@pytest.mark.parametrize(
    "host",
    [
        ANY_IPV4,
        "::",
        "10.0.0.5",
        "192.168.1.10",
        "8.8.8.8",
        "2001:db8::1",
        "example.com",
        "relay",
        "localhost.",  # a DNS name: looked up, it may resolve anywhere
        "127.0.0.1 ",
        " localhost",
        "localhost.example.com",
    ],
)
def test_development_mode_anywhere_else_is_refused_and_says_why(host: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(host=host)
    assert "TETHER_JWT_SECRET is unset" in str(refused.value)
    assert repr(host) in str(refused.value)


@pytest.mark.parametrize("host", [ANY_IPV4, "::", "10.0.0.5"])
def test_with_real_secrets_any_address_is_fine(host: str) -> None:
    assert not Settings(host=host, **SECRETS).development_mode


@given(st.ip_addresses())
def test_only_loopback_addresses_allow_development_mode(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    loopback = address.is_loopback or (
        isinstance(address, ipaddress.IPv6Address)
        and address.ipv4_mapped is not None
        and address.ipv4_mapped.is_loopback
    )
    try:
        Settings(host=str(address))
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == loopback


@given(st.from_regex(r"\A[a-z][a-z0-9-]{0,20}(\.[a-z0-9-]{1,10}){0,3}\Z"))
def test_no_name_but_localhost_allows_development_mode(name: str) -> None:
    if name == "localhost":
        return
    with pytest.raises(ValidationError):
        Settings(host=name)


def test_development_secrets_are_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "var"
    load_keys(Settings(data_dir=data_dir))

    assert mode(data_dir / DEV_SECRETS_FILE) == 0o600
    assert mode(data_dir) == 0o700
    assert mode(data_dir.parent) == 0o700


def test_an_older_readable_secrets_file_is_made_owner_only(tmp_path: Path) -> None:
    load_keys(Settings(data_dir=tmp_path))
    (tmp_path / DEV_SECRETS_FILE).chmod(0o644)

    load_keys(Settings(data_dir=tmp_path))

    assert mode(tmp_path / DEV_SECRETS_FILE) == 0o600


async def test_local_bucket_objects_and_folders_are_owner_only(tmp_path: Path) -> None:
    root = tmp_path / "storage" / "recordings"
    store = LocalStore("recordings", root, "http://127.0.0.1:2212", b"k" * 32)

    await store.put("org-a/2026/11/call.mp3", b"ID3 audio", "audio/mpeg")

    path = store.path_for("org-a/2026/11/call.mp3")
    assert mode(path) == 0o600
    for folder in (path.parent, path.parent.parent, root / "org-a", root, root.parent):
        assert mode(folder) == 0o700, folder


def test_sqlite_database_file_is_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "tether.db"
    prepare_sqlite_file(f"sqlite:///{path}")

    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
