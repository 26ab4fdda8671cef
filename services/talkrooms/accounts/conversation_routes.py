"""/api/v1/conversations and /api/v1/blocks: private conversations and blocks over HTTP
(the messages themselves go over Socket.IO, in the conversation's `dm:` room).

Every route needs a Bearer access token and answers only about the token's account: a
conversation of other people is `404 not_found`, exactly like one that does not exist.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, Field
from spectree import Response as Responses

from talkrooms.accounts.conversations import ConversationService
from talkrooms.accounts.routes import (
    BEARER,
    OkOut,
    answer_errors_as_json,
    bearer_account,
    errors,
)
from talkrooms.protocol.http_api import API_PREFIX, API_SPEC, parse_body

CONVERSATIONS = "talkrooms.conversations"
TAGS = ["conversations"]

conversations = Blueprint("conversations", __name__, url_prefix=API_PREFIX)
answer_errors_as_json(conversations)


class OpenBody(BaseModel):
    username: str = Field(max_length=200)


class PersonOut(BaseModel):
    username: str
    display_name: str
    color: str


class ConversationOut(BaseModel):
    room: str
    with_: PersonOut = Field(alias="with")
    created_at: str
    blocked: bool
    can_write: bool


class ConversationsOut(BaseModel):
    conversations: list[ConversationOut]


class BlockOut(PersonOut):
    since: str


class BlocksOut(BaseModel):
    blocked: list[BlockOut]


def _service() -> ConversationService:
    service: ConversationService = current_app.extensions[CONVERSATIONS]
    return service


def _private(response: Response, status: int = 200) -> tuple[Response, int]:
    response.headers["Cache-Control"] = "no-store"
    return response, status


@conversations.get("/conversations")
@API_SPEC.validate(
    resp=Responses(HTTP_200=ConversationsOut, **errors(401)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def list_conversations() -> tuple[Response, int]:
    """The account's private conversations, newest first."""
    views = _service().of_account(bearer_account().id)
    return _private(jsonify({"conversations": [v.as_json() for v in views]}))


@conversations.post("/conversations")
@API_SPEC.validate(
    json=OpenBody,
    resp=Responses(
        HTTP_200=ConversationOut, HTTP_201=ConversationOut, **errors(400, 401, 403, 404)
    ),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def open_conversation() -> tuple[Response, int]:
    """Open the conversation with another account (201), or answer the existing one (200)."""
    account = bearer_account()
    body = parse_body(OpenBody, request.get_json(silent=True))
    view, created = _service().open(account.id, body.username)
    return _private(jsonify(view.as_json()), 201 if created else 200)


@conversations.get("/conversations/<room>")
@API_SPEC.validate(
    resp=Responses(HTTP_200=ConversationOut, **errors(401, 404)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def get_conversation(room: str) -> tuple[Response, int]:
    """One conversation of the account (404 for any other id)."""
    view = _service().get(bearer_account().id, room.strip().lower())
    return _private(jsonify(view.as_json()))


@conversations.get("/blocks")
@API_SPEC.validate(
    resp=Responses(HTTP_200=BlocksOut, **errors(401)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def list_blocks() -> tuple[Response, int]:
    """The accounts this account blocked."""
    views = _service().blocks(bearer_account().id)
    return _private(jsonify({"blocked": [v.as_json() for v in views]}))


@conversations.put("/blocks/<username>")
@API_SPEC.validate(
    resp=Responses(HTTP_200=OkOut, **errors(400, 401, 404)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def block(username: str) -> tuple[Response, int]:
    """Block an account: no new private messages between you (repeating it is harmless)."""
    _service().block(bearer_account().id, username)
    return _private(jsonify({"ok": True}))


@conversations.delete("/blocks/<username>")
@API_SPEC.validate(
    resp=Responses(HTTP_200=OkOut, **errors(400, 401, 404)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def unblock(username: str) -> tuple[Response, int]:
    """Lift a block (harmless when there is none)."""
    _service().unblock(bearer_account().id, username)
    return _private(jsonify({"ok": True}))
