"""Our SigV4 presigner against botocore's, byte for byte (storage/sigv4.py says why it exists)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tether_relay.storage.sigv4 import presign_get

KEYS = [
    "calls/CA123/RE456.mp3",
    "org a/call b/recording c.mp3",  # spaces
    "org/ünïcødé/日本語.mp3",  # non-ASCII
    "org/a+b/c+d.mp3",  # plus signs
    "org//double//slash.mp3",  # empty path segments
    "org/~tilde/semi;colon,comma=eq&amp@at$dollar'quote.mp3",
    "org/percent%20already/x.wav",
]
ENDPOINTS = [
    ("https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com", "auto"),  # R2
    ("https://0123456789abcdef0123456789abcdef.eu.r2.cloudflarestorage.com", "auto"),  # R2 jurisdiction
    ("https://s3.eu-central-1.amazonaws.com", "eu-central-1"),  # S3
    ("https://s3.amazonaws.com:443", "us-east-1"),  # explicit default port
    ("http://127.0.0.1:9000", "us-east-1"),  # a loopback S3-compatible server
]


def botocore_url(endpoint: str, region: str, key: str, expires: int, bucket: str = "recordings") -> str:
    client: Any = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    url: str = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires
    )
    return url


def clock_of(url: str) -> datetime:
    """botocore signs with its own clock; read that moment back so ours can sign at the same one."""
    stamp = url.split("X-Amz-Date=")[1][:16]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


@pytest.mark.parametrize(("endpoint", "region"), ENDPOINTS)
@pytest.mark.parametrize("key", KEYS)
def test_urls_are_identical_to_botocore(endpoint: str, region: str, key: str) -> None:
    reference = botocore_url(endpoint, region, key, expires=600)

    ours = presign_get(
        endpoint_url=endpoint,
        bucket="recordings",
        key=key,
        access_key_id="AKIDEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        region=region,
        expires_in=600,
        now=clock_of(reference),
    )

    assert ours == reference


@pytest.mark.parametrize("expires", [1, 3600, 604_800])
def test_expiry_is_signed_as_given(expires: int) -> None:
    reference = botocore_url("https://s3.us-west-2.amazonaws.com", "us-west-2", "k.mp3", expires)

    ours = presign_get(
        endpoint_url="https://s3.us-west-2.amazonaws.com",
        bucket="recordings",
        key="k.mp3",
        access_key_id="AKIDEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        region="us-west-2",
        expires_in=expires,
        now=clock_of(reference),
    )

    assert ours == reference
    assert f"X-Amz-Expires={expires}&" in ours


def test_reference_vector_from_providers_md() -> None:
    url = presign_get(
        endpoint_url="https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
        bucket="recordings",
        key="calls/CA123/RE456.mp3",
        access_key_id="AKEXAMPLE",
        secret_access_key="SECRETEXAMPLE",
        region="auto",
        expires_in=3600,
        now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )

    assert url == (
        "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com/recordings/calls/CA123/RE456.mp3"
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKEXAMPLE%2F20260102%2Fauto%2Fs3%2Faws4_request"
        "&X-Amz-Date=20260102T030405Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=613e2df663e4c002d828f60a27dfb28a06665672e31e9dad832110b77c817362"
    )
