"""Which IP addresses a URL a client gave us may reach: only globally routable ones (the SSRF guard of
ingest downloads, providers/download.py).

Table-driven from the IANA special-purpose registries (RFC 6890 and successors) rather than from
`ipaddress.is_global` alone, whose tables have gaps in Python 3.11: it takes multicast, 192.0.0.0/24 past
its first /29, the 6to4 relay anycast, site-local fec0::/10, IPv4-compatible ::/96, IPv4-translated
::ffff:0:0:0/96, NAT64's local-use 64:ff9b:1::/48, the 3fff::/20 documentation block and any IPv6 address
outside global unicast for global, and it never looks at the IPv4 address that NAT64, 6to4 or Teredo
carry (64:ff9b::7f00:1 is 127.0.0.1 behind a NAT64 gateway). The stdlib's answer is still required too,
so a range a later Python learns is refused as well.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
_LOW32 = 0xFFFFFFFF

# IPv4 ranges that are not globally reachable (IANA IPv4 special-purpose registry, plus multicast).
NON_GLOBAL_V4: tuple[ipaddress.IPv4Network, ...] = (
    _V4("0.0.0.0/8"),  # "this network"
    _V4("10.0.0.0/8"),  # private
    _V4("100.64.0.0/10"),  # carrier-grade NAT
    _V4("127.0.0.0/8"),  # loopback
    _V4("169.254.0.0/16"),  # link-local, cloud metadata
    _V4("172.16.0.0/12"),  # private
    _V4("192.0.0.0/24"),  # IETF protocol assignments (DS-Lite, NAT64 discovery, ...)
    _V4("192.0.2.0/24"),  # documentation
    _V4("192.88.99.0/24"),  # 6to4 relay anycast (deprecated)
    _V4("192.168.0.0/16"),  # private
    _V4("198.18.0.0/15"),  # benchmarking
    _V4("198.51.100.0/24"),  # documentation
    _V4("203.0.113.0/24"),  # documentation
    _V4("224.0.0.0/4"),  # multicast
    _V4("240.0.0.0/4"),  # reserved, and the broadcast address
)

# IPv6 is routable only in global unicast 2000::/3, and in the two forms outside it that stand for an
# IPv4 address (decided by that address). Everything else, ::1, ::/96, 100::/64, fc00::/7, fe80::/10,
# fec0::/10, ff00::/8, 64:ff9b:1::/48, 5f00::/16 and the unassigned space included, is refused.
GLOBAL_V6: tuple[ipaddress.IPv6Network, ...] = (
    _V6("2000::/3"),
    _V6("::ffff:0:0/96"),  # IPv4-mapped (RFC 4291): the IPv4 address itself
    _V6("64:ff9b::/96"),  # NAT64 well-known prefix (RFC 6052): the IPv4 address behind the gateway
)
NON_GLOBAL_V6: tuple[ipaddress.IPv6Network, ...] = (
    _V6("2001::/23"),  # IETF protocol assignments: Teredo, benchmarking 2001:2::/48, ORCHID(v2), ...
    _V6("2001:db8::/32"),  # documentation
    _V6("3fff::/20"),  # documentation (RFC 9637)
)

# IPv6 forms that carry IPv4 addresses, and where: each IPv4 address they carry must be global as well.
EMBEDDED_V4: tuple[tuple[ipaddress.IPv6Network, Callable[[int], tuple[int, ...]]], ...] = (
    (_V6("::ffff:0:0/96"), lambda n: (n,)),  # IPv4-mapped
    (_V6("::/96"), lambda n: (n,)),  # IPv4-compatible (deprecated)
    (_V6("::ffff:0:0:0/96"), lambda n: (n,)),  # IPv4-translated (RFC 2765)
    (_V6("64:ff9b::/96"), lambda n: (n,)),  # NAT64 well-known prefix
    (_V6("64:ff9b:1::/48"), lambda n: (n,)),  # NAT64 local-use (RFC 8215), /96 layout
    (_V6("2002::/16"), lambda n: (n >> 80,)),  # 6to4 (RFC 3056): 2002:AABB:CCDD::
    (_V6("2001::/32"), lambda n: (n >> 64, ~n)),  # Teredo (RFC 4380): server, then client inverted
)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 address carries, by the forms above."""
    return [
        ipaddress.IPv4Address(value & _LOW32)
        for network, extract in EMBEDDED_V4
        if ip in network
        for value in extract(int(ip))
    ]


def is_public(address: str) -> bool:
    """True only for a globally routable address (a zone index such as `%eth0` is ignored)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return ip.is_global and not any(ip in network for network in NON_GLOBAL_V4)
    return (
        ip.is_global
        and any(ip in network for network in GLOBAL_V6)
        and not any(ip in network for network in NON_GLOBAL_V6)
        and all(is_public(str(v4)) for v4 in embedded_ipv4(ip))
    )
