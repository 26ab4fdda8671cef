"""Where file bytes live: a folder on local disk (the embedded default, under run/) or an
S3-compatible bucket (several machines). Keys are ours (`<file id>/<variant>`), never a
name a user chose.

Both answer the same four questions; the HTTP route decides how bytes reach the client
(nginx's X-Accel-Redirect for local files, a stream or a presigned URL for S3).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

CHUNK = 64 * 1024


class Blobs(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def delete_file(self, file_id: str) -> None:
        """Every variant of one file; nothing when it is already gone."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file on this machine's disk, when the backend is a disk."""
        ...

    def stream(self, key: str) -> Iterator[bytes] | None:
        """The bytes, chunk by chunk; None when there is no such object."""
        ...


class LocalBlobs:
    """Files under one folder: `<root>/<id[:2]>/<id>/<variant>`, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        file_id, _, variant = key.partition("/")
        return self.root / file_id[:2] / file_id / variant

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(data)
        os.replace(partial, path)

    def delete_file(self, file_id: str) -> None:
        shutil.rmtree(self.root / file_id[:2] / file_id, ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.root / file_id[:2]).rmdir()  # only when it is empty

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def stream(self, key: str) -> Iterator[bytes] | None:
        path = self.local_path(key)
        if path is None:
            return None

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk

        return chunks()


class S3Blobs:
    """Objects in one bucket of an S3-compatible store (boto3), under `files/`."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @staticmethod
    def _object(key: str) -> str:
        return f"files/{key}"

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._object(key), Body=data, ContentType=content_type
        )

    def delete_file(self, file_id: str) -> None:
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=f"files/{file_id}/")
        keys = [{"Key": item["Key"]} for item in listed.get("Contents", [])]
        if keys:
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})

    def local_path(self, key: str) -> Path | None:
        return None

    def stream(self, key: str) -> Iterator[bytes] | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._object(key))
        except self.client.exceptions.NoSuchKey:
            return None
        body = answer["Body"]
        return iter(lambda: body.read(CHUNK), b"")

    def presigned_url(self, key: str, filename: str, served_as: str, inline: bool) -> str:
        """A short-lived URL the client fetches from the store itself, with our headers
        asked of it (type and disposition)."""
        disposition = "inline" if inline else "attachment"
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": self._object(key),
                    "ResponseContentType": served_as,
                    "ResponseContentDisposition": content_disposition(disposition, filename),
                },
                ExpiresIn=300,
            )
        )


def content_disposition(disposition: str, filename: str) -> str:
    """`inline` or `attachment` with the name both as ASCII and as RFC 5987 UTF-8."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
