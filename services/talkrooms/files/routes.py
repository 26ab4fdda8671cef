"""/api/v1/uploads and /api/v1/files/<id>[/<variant>]: files over HTTP (docs/files.md).

Uploading: multipart with `file` and `room`; a signed-in person sends its Bearer token, a
guest the `username` and `client_key` it joined with (the same pair makes the author token
its messages carry, so only its own next message can share the file). Reading: no token
for a public room's files, a member's Bearer token for a private conversation's.

Bytes go out with `Content-Disposition` (inline only for re-encoded images),
`X-Content-Type-Options: nosniff` and a CSP that forbids script; local files through
nginx (`X-Accel-Redirect` to an internal location) when FILES_ACCEL_PREFIX says so.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, request, send_file
from pydantic import BaseModel
from redis.exceptions import RedisError
from spectree import Response as Responses
from werkzeug.exceptions import RequestEntityTooLarge

from talkrooms.accounts.routes import BEARER, bearer_account, errors
from talkrooms.accounts.service import AccountError
from talkrooms.files.blobs import S3Blobs, content_disposition
from talkrooms.files.kinds import Refused
from talkrooms.files.service import FileService, Served, Uploader
from talkrooms.protocol import ProtocolError, username_identity, validate_room
from talkrooms.protocol.http_api import API_PREFIX, API_SPEC
from talkrooms.protocol.rules import validate_client_key, validate_username
from talkrooms.storage.store import author_token, client_key_hash
from talkrooms.telemetry import metrics

FILES = "talkrooms.files"
TAGS = ["files"]
# A file is data, never a page: no script, no plugin, no form; its own origin sandbox.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"

files = Blueprint("files", __name__, url_prefix=API_PREFIX)


class FileOut(BaseModel):
    id: str
    name: str
    size: int
    type: str
    kind: str
    width: int | None = None
    height: int | None = None
    variants: list[str] | None = None


def _service() -> FileService:
    service: FileService = current_app.extensions[FILES]
    return service


def _refusal(status: int, code: str, message: str) -> tuple[Response, int]:
    metrics.FILES_REFUSED.labels(code=code).inc()
    response = jsonify({"error": message, "code": code})
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response, status


@files.errorhandler(Refused)
def _refused(exc: Refused) -> tuple[Response, int]:
    return _refusal(exc.status, exc.code, exc.message)


@files.errorhandler(AccountError)
def _account_refused(exc: AccountError) -> tuple[Response, int]:
    return _refusal(exc.status, exc.code, exc.message)


@files.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> tuple[Response, int]:
    limit = current_app.extensions["talkrooms"].settings.upload_max_bytes
    return _refusal(413, "too_large", f"Files are at most {limit // (1024 * 1024)} MB")


@files.errorhandler(RedisError)
def _redis_down(_exc: RedisError) -> tuple[Response, int]:
    return _refusal(503, "unavailable", "The service is unavailable; try again soon")


def _account_id() -> int | None:
    """The Bearer token's account, None without one; a bad token is a 401, not a guest."""
    if not request.headers.get("Authorization"):
        return None
    return bearer_account().id


def _uploader() -> Uploader:
    settings = current_app.extensions["talkrooms"].settings
    address = settings.client_address(request.environ)
    account_id = _account_id()
    if account_id is not None:
        return Uploader(f"u:{account_id}", account_id, address)
    try:
        username = validate_username(request.form.get("username"))
        key_hash = client_key_hash(validate_client_key(request.form.get("client_key")))
    except ProtocolError as exc:
        raise Refused(
            400, "invalid_request", f"Guests upload with their username and client_key: {exc}"
        ) from exc
    return Uploader(author_token(username_identity(username), key_hash), None, address)


@files.post("/uploads")
@API_SPEC.validate(
    resp=Responses(HTTP_201=FileOut, **errors(400, 401, 404, 413, 415, 429)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def upload() -> tuple[Response, int]:
    """Upload one file (multipart `file`, `room`; guests add `username`, `client_key`);
    answers the entry to name in send_message's `files`."""
    try:
        room = validate_room(request.form.get("room"))
    except ProtocolError as exc:
        raise Refused(400, "invalid_request", str(exc)) from exc
    uploader = _uploader()
    sent = request.files.get("file")
    if sent is None:
        raise Refused(400, "invalid_request", "Send the file as the multipart field `file`")
    limit = current_app.extensions["talkrooms"].settings.upload_max_bytes
    data = sent.stream.read(limit + 1)
    entry = _service().upload(room, uploader, sent.filename, data)
    response = jsonify(entry)
    response.headers["Cache-Control"] = "no-store"
    return response, 201


@files.get("/files/<file_id>")
@files.get("/files/<file_id>/<variant>")
# Not in the OpenAPI document: spectree's wrapper reads every response body whole, and a
# file is streamed (or sent by nginx). docs/files.md describes the route.
def read(file_id: str, variant: str = "original") -> Any:
    """A shared file (variant `original`, or an image's `display` or `thumb`), to anyone
    who can read the room it was shared in."""
    served = _service().open(file_id.lower(), variant, _account_id())
    return _send(served)


def _send(served: Served) -> Any:
    settings = current_app.extensions["talkrooms"].settings
    blobs = _service().blobs
    disposition = content_disposition("inline" if served.inline else "attachment", served.name)
    if isinstance(blobs, S3Blobs) and settings.s3_presigned_downloads:
        response = redirect(
            blobs.presigned_url(served.key, served.name, served.served_as, served.inline), 302
        )
    else:
        path = blobs.local_path(served.key)
        if path is not None and settings.files_accel_prefix:
            response = Response(status=200, mimetype=served.served_as)
            response.headers["X-Accel-Redirect"] = (
                f"{settings.files_accel_prefix.rstrip('/')}/{served.key[:2]}/{served.key}"
            )
        elif path is not None:
            response = send_file(path, mimetype=served.served_as, conditional=True, etag=True)
        else:
            chunks = blobs.stream(served.key)
            if chunks is None:
                raise Refused(404, "not_found", "No such file")
            response = Response(chunks, mimetype=served.served_as)
            response.headers["Content-Length"] = str(served.size)
    response.headers["Content-Disposition"] = disposition
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
