"""The SSRF guard's notion of a global address: every non-global IPv4 address is refused in whatever IPv6
form carries it, and global addresses are admitted."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tether_relay.providers.addresses import NON_GLOBAL_V4, is_public

V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address


# Each IPv6 form that carries an IPv4 address, as a builder from that address.
def _low(prefix: str) -> Callable[[V4], str]:
    return lambda v4: str(V6(int(V6(prefix)) | int(v4)))


def _6to4(v4: V4) -> str:
    return str(V6((0x2002 << 112) | (int(v4) << 80) | 1))


def _teredo_client(v4: V4) -> str:
    server = int(V4("8.8.8.8"))  # a global server: only the client address is non-global
    return str(V6((0x20010000 << 96) | (server << 64) | (int(v4) ^ 0xFFFFFFFF)))


def _teredo_server(v4: V4) -> str:
    return str(V6((0x20010000 << 96) | (int(v4) << 64) | (int(V4("8.8.8.8")) ^ 0xFFFFFFFF)))


EMBEDDINGS: dict[str, Callable[[V4], str]] = {
    "as is": str,
    "IPv4-mapped": _low("::ffff:0:0"),
    "IPv4-compatible": _low("::"),
    "IPv4-translated": _low("::ffff:0:0:0"),
    "NAT64 well-known": _low("64:ff9b::"),
    "NAT64 local-use": _low("64:ff9b:1::"),
    "6to4": _6to4,
    "Teredo client": _teredo_client,
    "Teredo server": _teredo_server,
}

non_global_v4 = st.sampled_from(NON_GLOBAL_V4).flatmap(
    lambda net: st.integers(int(net.network_address), int(net.broadcast_address)).map(V4)
)
global_v4 = st.integers(0, 2**32 - 1).map(V4).filter(lambda ip: not any(ip in net for net in NON_GLOBAL_V4))


@given(non_global_v4, st.sampled_from(sorted(EMBEDDINGS)))
def test_a_non_global_ipv4_address_is_refused_in_every_form(v4: V4, form: str) -> None:
    assert not is_public(EMBEDDINGS[form](v4))


@given(global_v4)
def test_global_ipv4_addresses_are_admitted_as_such_and_behind_nat64_mapping_and_6to4(v4: V4) -> None:
    for form in ("as is", "IPv4-mapped", "NAT64 well-known", "6to4"):
        assert is_public(EMBEDDINGS[form](v4)), form


@given(st.integers(0, 2**125 - 1))
def test_global_unicast_ipv6_outside_special_ranges_is_admitted(low: int) -> None:
    ip = V6((0b001 << 125) | low)
    special = ("2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20")
    if any(ip in ipaddress.IPv6Network(net) for net in special):
        return
    assert is_public(str(ip))


@given(st.integers(0, 2**128 - 1))
def test_ipv6_outside_global_unicast_is_refused_but_for_ipv4_forms(value: int) -> None:
    ip = V6(value)
    if ip in ipaddress.IPv6Network("2000::/3") or ip.ipv4_mapped is not None:
        return
    if ip in ipaddress.IPv6Network("64:ff9b::/96"):
        return
    assert not is_public(str(ip))


REFUSED = {
    "NAT64 of 127.0.0.1 (the issue's example)": "64:ff9b::7f00:1",
    "NAT64 of the metadata address": "64:ff9b::a9fe:a9fe",
    "NAT64 local-use": "64:ff9b:1::808:808",
    "6to4 of 10.0.0.1": "2002:a00:1::1",
    "Teredo": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "site-local": "fec0::1",
    "discard-only": "100::1",
    "documentation v6": "2001:db8::1",
    "documentation v6, RFC 9637": "3fff::1",
    "benchmarking v6": "2001:2::1",
    "ORCHIDv2": "2001:20::1",
    "SRv6 SIDs": "5f00::1",
    "IPv4-compatible loopback": "::127.0.0.1",
    "IPv4-translated loopback": "::ffff:0:127.0.0.1",
    "multicast v6, global scope": "ff0e::1",
    "unique-local": "fd12:3456::1",
    "link-local with a zone": "fe80::1%eth0",
    "multicast v4": "239.1.2.3",
    "IETF protocol assignments v4": "192.0.0.170",
    "DS-Lite": "192.0.0.2",
    "6to4 relay anycast": "192.88.99.1",
    "benchmarking v4": "198.18.0.1",
    "broadcast": "255.255.255.255",
    "CGNAT mapped": "::ffff:100.64.0.1",
}


@pytest.mark.parametrize("address", REFUSED.values(), ids=REFUSED.keys())
def test_non_global_ranges_are_refused(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "2606:4700:4700::1111", "::ffff:1.1.1.1", "64:ff9b::101:101", "2002:101:101::1"],
)
def test_global_addresses_are_admitted(address: str) -> None:
    assert is_public(address)
