"""The Blobs backend the settings ask for: local disk (default) or S3."""

from __future__ import annotations

import logging
from pathlib import Path

from talkrooms.files.blobs import Blobs, LocalBlobs, S3Blobs
from talkrooms.settings import Settings

log = logging.getLogger("talkrooms.files")


def make_blobs(settings: Settings) -> Blobs:
    if settings.file_storage == "s3":
        return S3Blobs(s3_client(settings), settings.s3_bucket)
    return LocalBlobs(Path(settings.upload_dir).resolve())


def s3_client(settings: Settings) -> object:
    """A boto3 S3 client for S3_ENDPOINT_URL (any S3-compatible store; AWS when empty).
    Credentials: the S3_* settings, else boto3's own chain (environment, profile, role)."""
    import boto3
    from botocore.config import Config

    options: dict[str, object] = {
        "region_name": settings.s3_region,
        "config": Config(signature_version="s3v4", retries={"max_attempts": 3}),
    }
    if settings.s3_endpoint_url:
        options["endpoint_url"] = settings.s3_endpoint_url
    if settings.s3_access_key_id:
        options["aws_access_key_id"] = settings.s3_access_key_id
        options["aws_secret_access_key"] = settings.s3_secret_access_key
    return boto3.client("s3", **options)


def ensure_bucket(blobs: Blobs) -> None:
    """Create the S3 bucket when it does not exist yet (a fresh local store)."""
    if not isinstance(blobs, S3Blobs):
        return
    client = blobs.client
    try:
        client.head_bucket(Bucket=blobs.bucket)
    except client.exceptions.ClientError:
        client.create_bucket(Bucket=blobs.bucket)
        log.info("S3 bucket created", extra={"bucket": blobs.bucket})
