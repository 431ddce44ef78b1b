"""A real S3-compatible server on loopback: moto in server mode, speaking the S3 REST API over HTTP.

It stores and serves objects like S3 does, but does not verify signatures or expiry (its IAM mode does
not understand presigned queries); signature correctness is proven against botocore in
tests/unit/test_sigv4.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "AKIDLOOPBACKTEST"
SECRET_ACCESS_KEY = "loopback-secret-access-key"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self, region: str = "us-east-1") -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    def new_bucket(self) -> str:
        name = f"test-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def get(self, bucket: str, key: str) -> bytes:
        body: bytes = self.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return body


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()
