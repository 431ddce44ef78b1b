"""Types at the edge that accept exactly what storage and the code below can take, so a client's mistake
is a 400 in the envelope, never a 500 from the database or a conversion further down.

- Text: bounded by its column, and storable: PostgreSQL refuses NUL in text and JSONB, and a lone
  surrogate (`"\\ud800"` in JSON) cannot be encoded as UTF-8 by any driver.
- Token: printable ASCII (ids, SIDs, credentials that travel in HTTP headers, which must be ASCII).
- finite numbers: JSON parsing in Python admits `NaN` and `Infinity`; JSONB and the renderer do not.
- Moment: an aware datetime in 1970..2099, so arithmetic on it (start + duration) cannot overflow.
- JsonObject: free-form JSON, checked all the way down (finite, storable, bounded in depth).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from tether_relay.db import in_storable_range
from tether_relay.transcripts.model import exact_number

MAX_JSON_DEPTH = 32


def storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


# Bound each use by its column: `Annotated[StoredText, Field(max_length=200)]`.
StoredText = Annotated[str, AfterValidator(storable)]
# Our call ids are 24 hex characters (ids.py); anything storable up to 64 is looked up, and not found.
CallId = Annotated[StoredText, Field(max_length=64)]
# Printable ASCII without spaces: identifiers, SIDs and credentials (they travel in HTTP headers).
AsciiToken = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]+$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]


def _in_range(moment: datetime) -> datetime:
    if not in_storable_range(moment):
        raise ValueError("must be between 1970-01-01 and 2099-12-31")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_in_range)]


def _stored_as_sent(text: str) -> None:
    if storable(text) != text:
        raise ValueError("text must not contain NUL or unpaired surrogates")


def _json_value(value: Any, depth: int = 0) -> Any:
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"must not nest deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        _stored_as_sent(value)
    elif isinstance(value, int | float) and not isinstance(value, bool) and not exact_number(value):
        raise ValueError("numbers must be finite and within ±2^53 (what every JSON reader gives back)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _stored_as_sent(key)
            _json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _json_value(item, depth + 1)
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_json_value)]

# ASCII digits only: `\d` would also match other scripts' digits.
E164 = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164, e.g. +14155551234")]

# A credential that is used as an HMAC key or sent in an HTTP header: ASCII, long enough to be one.
Secret = Annotated[AsciiToken, Field(min_length=16, max_length=512)]
# A provider's identifier (project, trunk, application key): ASCII, bounded by the lookup column.
ProviderId = Annotated[AsciiToken, Field(min_length=1, max_length=128)]
