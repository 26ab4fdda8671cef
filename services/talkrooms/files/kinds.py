"""What may be uploaded, judged from the bytes (libmagic), never from the name or the
client's Content-Type, and how each kind is served.

Three verdicts: an image (decoded and re-encoded by images.py, shown inline), a document
or archive (kept as sent, served as a download), or a refusal (415). Types that a browser
would run or render as a page (HTML, SVG, XML, scripts) are never inline: they go out
as `application/octet-stream` attachments, whatever libmagic called them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath, PureWindowsPath

import magic

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/rtf",
        "text/rtf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-bzip2",
        "application/x-xz",
        "application/x-7z-compressed",
    }
)
# Allowed, but only ever as opaque downloads: a browser would render or run them.
DOWNLOAD_ONLY_TYPES = frozenset({"image/svg+xml", "text/html", "text/xml", "application/xml"})
OPAQUE = "application/octet-stream"
NAME_MAX = 200


@dataclass(frozen=True)
class Kind:
    """The verdict on an upload: its real type, whether it is an image to process, and the
    type it is served with."""

    content_type: str
    image: bool
    served_as: str


class Refused(Exception):
    """An upload that is not accepted: HTTP status, stable code, a message to show."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@cache
def _detector() -> magic.Magic:
    return magic.Magic(mime=True)


def sniff(head: bytes) -> str:
    """libmagic's MIME type for the first bytes of a file."""
    return str(_detector().from_buffer(head))


def judge(head: bytes) -> Kind:
    """The kind of a file from its first bytes; Refused(415) outside the allow-list."""
    detected = sniff(head)
    if detected in IMAGE_TYPES:
        return Kind(detected, image=True, served_as=detected)
    if detected in DOCUMENT_TYPES:
        return Kind(detected, image=False, served_as=detected)
    if detected in DOWNLOAD_ONLY_TYPES:
        return Kind(detected, image=False, served_as=OPAQUE)
    raise Refused(415, "unsupported_type", f"Files of this type cannot be shared ({detected})")


def clean_name(name: str | None, fallback: str) -> str:
    """The name people see: the last path part, NFC, no control or format characters,
    at most NAME_MAX characters; `fallback` when nothing is left. Never a storage path."""
    text = name or ""
    text = PureWindowsPath(PurePosixPath(text).name).name
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip(" .")
    return text[:NAME_MAX] or fallback
