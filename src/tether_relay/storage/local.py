"""A folder on disk as a bucket, served by the service itself through HMAC-signed expiring URLs.

The embedded default: no account anywhere. URL shape:
`<base>/media/<bucket>/<key>?expires=<unix seconds>&signature=<base64url HMAC-SHA256>`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from tether_relay.digits import parse_uint
from tether_relay.files import private_dir, write_private
from tether_relay.storage.base import CHUNK_BYTES, ListedObject, StorageError


class LocalStore:
    def __init__(self, name: str, root: Path, base_url: str, signing_key: bytes) -> None:
        self.name = name
        self._root = root.resolve()
        self._base_url = base_url.rstrip("/")
        self._signing_key = signing_key

    def path_for(self, key: str) -> Path:
        path = (self._root / key).resolve()
        # Keys come from our own code, but never let one escape the bucket folder.
        if not path.is_relative_to(self._root) or path == self._root:
            raise StorageError("key outside the bucket")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self.path_for(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        private_dir(path.parent)
        # Write then rename, so a reader never sees half a file; owner-only, as recordings are personal.
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        write_private(partial, data)
        partial.replace(path)

    async def get(self, key: str) -> bytes | None:
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path_for(key).unlink, True)

    async def size(self, key: str) -> int | None:
        path = self.path_for(key)
        try:
            return (await asyncio.to_thread(path.stat)).st_size
        except FileNotFoundError:
            return None

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        with await asyncio.to_thread(self.path_for(key).open, "rb") as file:
            await asyncio.to_thread(file.seek, start)
            left = end - start + 1
            while left > 0:
                chunk = await asyncio.to_thread(file.read, min(CHUNK_BYTES, left))
                if not chunk:
                    raise StorageError("object shorter than its size")
                left -= len(chunk)
                yield chunk

    async def listing(self) -> AsyncIterator[ListedObject]:
        def walk() -> list[ListedObject]:
            found = []
            for path in self._root.rglob("*"):
                if path.is_file():
                    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                    found.append(ListedObject(path.relative_to(self._root).as_posix(), modified))
            return found

        if not self._root.exists():
            return
        for listed in await asyncio.to_thread(walk):
            yield listed

    def signed_url(self, key: str, ttl_seconds: int, *, now: float | None = None) -> str:
        expires = int(now if now is not None else time.time()) + ttl_seconds
        signature = self._sign(key, expires)
        return (
            f"{self._base_url}/media/{self.name}/{quote(key, safe='/')}"
            f"?expires={expires}&signature={signature}"
        )

    def verify(self, key: str, expires: str, signature: str, *, now: float | None = None) -> bool:
        deadline = parse_uint(expires)
        # Only the form we sign: "0" + expires would otherwise pass, and a changed URL must not.
        if (
            deadline is None
            or str(deadline) != expires
            or deadline < (now if now is not None else time.time())
        ):
            return False
        # As bytes: compare_digest refuses str with non-ASCII characters, and a query may carry them.
        return hmac.compare_digest(self._sign(key, deadline).encode(), signature.encode())

    def _sign(self, key: str, expires: int) -> str:
        message = f"{self.name}\n{key}\n{expires}".encode()
        digest = hmac.new(self._signing_key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
