from __future__ import annotations

from typing import Protocol


class StorageError(Exception):
    """A store could not do what was asked (network, permissions, missing object)."""


class ObjectStore(Protocol):
    """A bucket of recordings. `signed_url` is pure (no I/O): it runs on every recording read."""

    name: str

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        ...

    async def delete(self, key: str) -> None: ...

    def signed_url(self, key: str, ttl_seconds: int) -> str: ...
