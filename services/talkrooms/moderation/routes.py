"""/api/v1/rooms/<room>/…: who runs a room, naming moderators, handing a room over, a
moderator's removal of a message, the audit log (docs/moderation.md). Every action needs
a Bearer token; the roles are public, like the online list."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response as Responses

from talkrooms.accounts.routes import BEARER, OkOut, answer_errors_as_json, bearer_account, errors
from talkrooms.accounts.service import AccountError
from talkrooms.moderation.review import ReviewQueue
from talkrooms.moderation.room_settings import RoomSettings
from talkrooms.moderation.service import ModerationService, clean_reason, moderated_room
from talkrooms.protocol.http_api import API_PREFIX, API_SPEC, parse_body

MODERATION_EXTENSION = "talkrooms.moderation"
TAGS = ["moderation"]

moderation = Blueprint("moderation", __name__, url_prefix=f"{API_PREFIX}/rooms")
answer_errors_as_json(moderation)


class PersonOut(BaseModel):
    username: str
    display_name: str


class RolesOut(BaseModel):
    room: str
    owner: PersonOut | None
    moderators: list[PersonOut]
    you: str | None = Field(description="admin, owner, moderator, or null")


class HandOverBody(BaseModel):
    username: str = Field(max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


class ReasonBody(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


class RemovedOut(BaseModel):
    ok: bool
    removed: bool
    by: str


class AuditEntryOut(BaseModel):
    id: int
    actor: str
    action: str
    target: str
    reason: str
    details: dict[str, Any]
    at: str


class AuditOut(BaseModel):
    room: str
    entries: list[AuditEntryOut]


def _service() -> ModerationService:
    service: ModerationService = current_app.extensions[MODERATION_EXTENSION]
    return service


def _viewer_id() -> int | None:
    return bearer_account().id if request.headers.get("Authorization") else None


def _no_store(body: dict[str, Any]) -> tuple[Response, int]:
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200


@moderation.get("/<room>/roles")
@API_SPEC.validate(
    resp=Responses(HTTP_200=RolesOut, **errors(400, 404)), tags=TAGS, skip_validation=True
)
def roles(room: str) -> tuple[Response, int]:
    """The room's owner and moderators; with a token, your own role in it too."""
    return _no_store(_service().roles(moderated_room(room), _viewer_id()))


@moderation.put("/<room>/moderators/<username>")
@API_SPEC.validate(
    resp=Responses(HTTP_200=OkOut, **errors(401, 403, 404, 409)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def add_moderator(room: str, username: str) -> tuple[Response, int]:
    """The owner (or an administrator) names a moderator."""
    _service().set_moderator(moderated_room(room), bearer_account().id, username, True)
    return jsonify({"ok": True}), 200


@moderation.delete("/<room>/moderators/<username>")
@API_SPEC.validate(
    resp=Responses(HTTP_200=OkOut, **errors(401, 403, 404, 409)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def remove_moderator(room: str, username: str) -> tuple[Response, int]:
    """The owner (or an administrator) takes a moderator's role back."""
    _service().set_moderator(moderated_room(room), bearer_account().id, username, False)
    return jsonify({"ok": True}), 200


@moderation.put("/<room>/owner")
@API_SPEC.validate(
    json=HandOverBody,
    resp=Responses(HTTP_200=OkOut, **errors(400, 401, 403, 404)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def hand_over(room: str) -> tuple[Response, int]:
    """An administrator gives the room (any room, ownerless ones too) to an account."""
    body = parse_body(HandOverBody, request.get_json(silent=True))
    _service().hand_over(
        moderated_room(room), bearer_account().id, body.username, clean_reason(body.reason)
    )
    return jsonify({"ok": True}), 200


@moderation.post("/<room>/messages/<message_id>/remove")
@API_SPEC.validate(
    json=ReasonBody,
    resp=Responses(HTTP_200=RemovedOut, **errors(400, 401, 403, 404)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def remove_message(room: str, message_id: str) -> tuple[Response, int]:
    """A moderator removes any message of the room ("removed by a moderator")."""
    body = parse_body(ReasonBody, request.get_json(silent=True) or {})
    answer = _service().remove_message(
        moderated_room(room), bearer_account().id, message_id, clean_reason(body.reason)
    )
    return jsonify(answer), 200


@moderation.get("/<room>/audit")
@API_SPEC.validate(
    resp=Responses(HTTP_200=AuditOut, **errors(400, 401, 403, 404)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def audit(room: str) -> tuple[Response, int]:
    """The room's audit log, newest first (`limit`, `before` an entry id to page back)."""
    raw_limit, raw_before = request.args.get("limit", "50"), request.args.get("before")
    if not raw_limit.isdigit() or (raw_before is not None and not raw_before.isdigit()):
        raise AccountError(400, "invalid_request", "limit and before are whole numbers")
    name = moderated_room(room)
    entries = _service().audit(
        name, bearer_account().id, int(raw_limit), int(raw_before) if raw_before else None
    )
    return _no_store({"room": name, "entries": entries})


class SanctionBody(BaseModel):
    action: str = Field(description="kick, mute or ban")
    username: str = Field(max_length=200)
    minutes: int | None = Field(default=None, description="mute: default 10; ban: none = for good")
    reason: str | None = Field(default=None, max_length=2000)


class SanctionOut(BaseModel):
    ok: bool
    sanction: int | None
    room: str
    action: str
    username: str
    reason: str
    until: str | None
    by: str


class SanctionEntryOut(BaseModel):
    id: int
    action: str
    username: str
    guest: bool
    until: str | None
    reason: str
    at: str


class SanctionsOut(BaseModel):
    room: str
    sanctions: list[SanctionEntryOut]


@moderation.post("/<room>/sanctions")
@API_SPEC.validate(
    json=SanctionBody,
    resp=Responses(HTTP_200=SanctionOut, **errors(400, 401, 403, 404)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def sanction(room: str) -> tuple[Response, int]:
    """Kick, mute or ban someone (an account, or a guest present in the room); it takes
    effect on every worker at once and the room is told."""
    body = parse_body(SanctionBody, request.get_json(silent=True))
    answer = _service().sanction(
        moderated_room(room),
        bearer_account().id,
        body.action,
        body.username,
        body.minutes,
        clean_reason(body.reason),
    )
    return jsonify(answer), 200


@moderation.get("/<room>/sanctions")
@API_SPEC.validate(
    resp=Responses(HTTP_200=SanctionsOut, **errors(400, 401, 403, 404)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def sanctions(room: str) -> tuple[Response, int]:
    """The mutes and bans in force."""
    name = moderated_room(room)
    return _no_store({"room": name, "sanctions": _service().sanctions(name, bearer_account().id)})


@moderation.delete("/<room>/sanctions/<int:sanction_id>")
@API_SPEC.validate(
    resp=Responses(HTTP_200=OkOut, **errors(400, 401, 403, 404)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def lift(room: str, sanction_id: int) -> tuple[Response, int]:
    """Unmute or unban."""
    return jsonify(_service().lift(moderated_room(room), bearer_account().id, sanction_id)), 200


SETTINGS_EXTENSION = "talkrooms.room_settings"


class AutomodOut(BaseModel):
    rules: dict[str, str] = Field(
        description="words, flood, links, mentions -> off|refuse|hold|mute"
    )
    words: list[str] | None = Field(default=None, description="the room's own words (staff only)")


class AutomodPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: dict[str, str] | None = None
    words: list[str] | None = None


class SettingsOut(BaseModel):
    room: str
    automod: AutomodOut
    topic: str
    post: str = Field(description="everyone, registered or members")
    slow_mode: int = Field(description="seconds between one person's messages; 0 = off")
    invite_only: bool
    pins: list[str]
    invite_code: str | None = Field(default=None, description="staff only, invite-only rooms")


class SettingsPatch(BaseModel):
    topic: str | None = Field(default=None, max_length=2000)
    post: str | None = None
    slow_mode: int | None = None
    invite_only: bool | None = None
    automod: AutomodPatch | None = None


class InviteOut(BaseModel):
    room: str
    invite_code: str


def _settings() -> RoomSettings:
    service: RoomSettings = current_app.extensions[SETTINGS_EXTENSION]
    return service


@moderation.get("/<room>/settings")
@API_SPEC.validate(
    resp=Responses(HTTP_200=SettingsOut, **errors(400, 404)), tags=TAGS, skip_validation=True
)
def get_settings(room: str) -> tuple[Response, int]:
    """The room's settings (the invite code only for its staff)."""
    return _no_store(_settings().get(moderated_room(room), _viewer_id()))


@moderation.patch("/<room>/settings")
@API_SPEC.validate(
    json=SettingsPatch,
    resp=Responses(HTTP_200=SettingsOut, **errors(400, 401, 403, 404, 409)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def update_settings(room: str) -> tuple[Response, int]:
    """Change some of topic, post, slow_mode, invite_only; everyone in the room hears it."""
    body = parse_body(SettingsPatch, request.get_json(silent=True))
    changes = {field: getattr(body, field) for field in body.model_fields_set}
    if body.automod is not None:
        changes["automod"] = body.automod.model_dump(exclude_unset=True)
    return _no_store(_settings().update(moderated_room(room), bearer_account().id, changes))


@moderation.post("/<room>/invite")
@API_SPEC.validate(
    resp=Responses(HTTP_200=InviteOut, **errors(401, 403, 404, 409)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def renew_invite(room: str) -> tuple[Response, int]:
    """A new invite code for the room (links with the old one stop working)."""
    name = moderated_room(room)
    return _no_store(
        {"room": name, "invite_code": _settings().renew_invite(name, bearer_account().id)}
    )


@moderation.put("/<room>/pins/<message_id>")
@API_SPEC.validate(
    resp=Responses(HTTP_200=SettingsOut, **errors(400, 401, 403, 404, 409)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def pin(room: str, message_id: str) -> tuple[Response, int]:
    """Pin a message (newest first)."""
    return _no_store(_settings().pin(moderated_room(room), bearer_account().id, message_id, True))


@moderation.delete("/<room>/pins/<message_id>")
@API_SPEC.validate(
    resp=Responses(HTTP_200=SettingsOut, **errors(400, 401, 403, 404, 409)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def unpin(room: str, message_id: str) -> tuple[Response, int]:
    """Unpin a message."""
    return _no_store(_settings().pin(moderated_room(room), bearer_account().id, message_id, False))


REVIEW_EXTENSION = "talkrooms.review"


class ReportOut(BaseModel):
    by: str
    reason: str
    at: str


class QueuedMessageOut(BaseModel):
    id: str | None = Field(description="null for a held message: it was never stored")
    username: str
    message: str
    timestamp: str


class QueueItemOut(BaseModel):
    id: int
    kind: str = Field(description="report or held")
    at: str
    rule: str | None = Field(description="held: the rule that held it")
    message: QueuedMessageOut
    reports: list[ReportOut]


class QueueOut(BaseModel):
    room: str
    items: list[QueueItemOut]


class DecisionBody(BaseModel):
    action: str = Field(description="report: dismiss or remove; held: approve or reject")
    reason: str | None = Field(default=None, max_length=2000)


class DecisionOut(BaseModel):
    ok: bool
    id: int
    action: str


def _review() -> ReviewQueue:
    service: ReviewQueue = current_app.extensions[REVIEW_EXTENSION]
    return service


@moderation.get("/<room>/queue")
@API_SPEC.validate(
    resp=Responses(HTTP_200=QueueOut, **errors(400, 401, 403, 404)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def queue(room: str) -> tuple[Response, int]:
    """The room's review queue: reported and held messages waiting, oldest first."""
    name = moderated_room(room)
    return _no_store({"room": name, "items": _review().items(name, bearer_account().id)})


@moderation.post("/<room>/queue/<int:item_id>")
@API_SPEC.validate(
    json=DecisionBody,
    resp=Responses(HTTP_200=DecisionOut, **errors(400, 401, 403, 404, 409)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def decide(room: str, item_id: int) -> tuple[Response, int]:
    """Decide on an item: dismiss or remove a reported message, approve or reject a held
    one (approved, it is published to the room as its author's)."""
    body = parse_body(DecisionBody, request.get_json(silent=True))
    answer = _review().decide(
        moderated_room(room), bearer_account().id, item_id, body.action, body.reason or ""
    )
    return jsonify(answer), 200
