"""X-Twilio-Signature (twilio-python `request_validator.py`; shared/reference/providers.md §1.7):
base64(HMAC-SHA1(auth token, full URL + each sorted param name and its sorted values)). Twilio's own
validator accepts the URL with or without its default port, since Twilio is not consistent about it."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"https": 443, "http": 80}


def compute(url: str, params: list[tuple[str, str]], auth_token: str) -> str:
    digest = hmac.new(auth_token.encode(), (url + _signed_params(params)).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _signed_params(params: list[tuple[str, str]]) -> str:
    """Each sorted name with its sorted values, grouped in one pass: a stranger's 1 MiB form may carry
    100,000 names, and scanning the form once per name (as this did) held the event loop for minutes."""
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    return "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))


def _url_variants(url: str) -> set[str]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    default = _DEFAULT_PORTS.get(parts.scheme)
    with_port = parts._replace(netloc=f"{host}:{parts.port or default}")
    without_port = parts._replace(netloc=host) if parts.port in (None, default) else parts
    return {url, urlunsplit(with_port), urlunsplit(without_port)}


def matches(url: str, params: list[tuple[str, str]], signature: str, auth_token: str) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters, and a header may carry them.
    given = signature.encode()
    return any(
        hmac.compare_digest(compute(variant, params, auth_token).encode(), given)
        for variant in _url_variants(url)
    )
