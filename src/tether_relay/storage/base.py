from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

CHUNK_BYTES = 256 * 1024  # reads for streaming: a few of these per reader is all the memory it takes


class StorageError(Exception):
    """A store could not do what was asked (network, permissions, missing object)."""


@dataclass(frozen=True, slots=True)
class ListedObject:
    key: str
    modified_at: datetime  # aware, UTC


class ObjectStore(Protocol):
    """A bucket of recordings. `signed_url` is pure (no I/O): it runs on every recording read."""

    name: str

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        ...

    async def delete(self, key: str) -> None: ...

    async def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is no such object."""
        ...

    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start` to `end` (inclusive) of an object that exists, in chunks."""
        ...

    def signed_url(self, key: str, ttl_seconds: int) -> str: ...

    def listing(self) -> AsyncIterator[ListedObject]:
        """Every object in the bucket, a page at a time (for the sweep of unreferenced objects)."""
        ...
