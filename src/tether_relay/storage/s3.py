"""An S3-compatible bucket (AWS S3 for Sinch, Cloudflare R2 for everything else).

Signing is ours (storage/sigv4.py, on the hot path); uploads and deletes go through boto3 in a worker
thread, where its cost does not matter and its retries and multipart handling do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tether_relay.settings import BucketSettings
from tether_relay.storage.base import CHUNK_BYTES, ListedObject, StorageError
from tether_relay.storage.sigv4 import presign_get

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3Store:
    def __init__(self, name: str, bucket: BucketSettings) -> None:
        self.name = name
        self._bucket = bucket
        self._secret = bucket.secret_access_key.get_secret_value()
        self._client: S3Client | None = None

    def _boto(self) -> S3Client:
        if self._client is None:
            # signature_version must be explicit: without it botocore signs some requests with SigV2,
            # which R2 refuses (providers.md §4.2).
            client: Any = boto3.client(
                "s3",
                endpoint_url=self._bucket.endpoint_url,
                aws_access_key_id=self._bucket.access_key_id,
                aws_secret_access_key=self._secret,
                region_name=self._bucket.region,
                config=Config(
                    signature_version="s3v4",
                    s3={"addressing_style": "path"},
                    connect_timeout=5,
                    read_timeout=60,
                    retries={"max_attempts": 3},
                ),
            )
            self._client = client
        assert self._client is not None
        return self._client

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        def upload() -> None:
            self._boto().put_object(Bucket=self._bucket.bucket, Key=key, Body=data, ContentType=content_type)

        await self._run(upload)

    async def get(self, key: str) -> bytes | None:
        def download() -> bytes | None:
            try:
                body: bytes = self._boto().get_object(Bucket=self._bucket.bucket, Key=key)["Body"].read()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
            return body

        try:
            return await asyncio.to_thread(download)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 operation failed: {type(exc).__name__}") from None

    async def size(self, key: str) -> int | None:
        def head() -> int | None:
            try:
                length: int = self._boto().head_object(Bucket=self._bucket.bucket, Key=key)["ContentLength"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                    return None
                raise
            return length

        try:
            return await asyncio.to_thread(head)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 operation failed: {type(exc).__name__}") from None

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        def open_range() -> Any:
            return self._boto().get_object(Bucket=self._bucket.bucket, Key=key, Range=f"bytes={start}-{end}")[
                "Body"
            ]

        try:
            body = await asyncio.to_thread(open_range)
            try:
                while chunk := await asyncio.to_thread(body.read, CHUNK_BYTES):
                    yield chunk
            finally:
                body.close()
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 operation failed: {type(exc).__name__}") from None

    async def delete(self, key: str) -> None:
        def remove() -> None:
            self._boto().delete_object(Bucket=self._bucket.bucket, Key=key)

        await self._run(remove)

    @staticmethod
    async def _run(operation: Any) -> None:
        try:
            await asyncio.to_thread(operation)
        except (BotoCoreError, ClientError) as exc:
            # The store's name and the error class are enough for the logs; never the credentials.
            raise StorageError(f"S3 operation failed: {type(exc).__name__}") from None

    async def listing(self) -> AsyncIterator[ListedObject]:
        def page(token: str | None) -> Any:
            client, bucket = self._boto(), self._bucket.bucket
            if token is None:
                return client.list_objects_v2(Bucket=bucket, MaxKeys=1000)
            return client.list_objects_v2(Bucket=bucket, MaxKeys=1000, ContinuationToken=token)

        token: str | None = None
        while True:
            try:
                answer = await asyncio.to_thread(page, token)
            except (BotoCoreError, ClientError) as exc:
                raise StorageError(f"S3 operation failed: {type(exc).__name__}") from None
            for item in answer.get("Contents", []):
                yield ListedObject(item["Key"], item["LastModified"].astimezone(UTC))
            token = answer.get("NextContinuationToken")
            if not answer.get("IsTruncated") or not token:
                return

    def signed_url(self, key: str, ttl_seconds: int) -> str:
        b = self._bucket
        return presign_get(
            endpoint_url=b.endpoint_url,
            bucket=b.bucket,
            key=key,
            access_key_id=b.access_key_id,
            secret_access_key=self._secret,
            region=b.region,
            expires_in=ttl_seconds,
        )
