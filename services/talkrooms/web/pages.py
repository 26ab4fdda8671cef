"""The web pages: login (`GET /`, `POST /join`) and the room (`GET /chat`), plus the
security headers of every response.

The pages are rendered here; everything else the browser loads is a static file under
`/static/` (ES modules, CSS, the vendored socket.io-client), so nginx can serve it
directly. Validation uses talkrooms.protocol, the same rules and error strings the
Socket.IO server applies and static/js/validation.js mirrors.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from talkrooms.protocol import (
    ROOM_ERROR,
    USERNAME_ERROR,
    ProtocolError,
    validate_message_text,
    validate_room,
    validate_username,
)

pages = Blueprint("pages", __name__)

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
SUGGESTED_ROOMS = ("general", "random", "tech")
I18N_DIR = Path(__file__).parent / "static" / "i18n"
# The service worker lives with the other static files but is served from the site's root:
# a worker controls only the paths under its own URL (docs/notifications.md).
SERVICE_WORKER_FILE = Path(__file__).parent / "static" / "sw.js"

# One table for the workers and nginx (nginx/render.py reads the same file), so the pages
# and what nginx answers by itself (error pages, static files) carry identical headers.
SECURITY_HEADERS_FILE = Path(__file__).parent / "security_headers.json"


def _load_security_headers() -> dict[str, str]:
    with SECURITY_HEADERS_FILE.open(encoding="utf-8") as file:
        headers: dict[str, str] = json.load(file)
    return headers


SECURITY_HEADERS = _load_security_headers()
# No inline script or style anywhere: every script is a same-origin ES module file.
CONTENT_SECURITY_POLICY = SECURITY_HEADERS["Content-Security-Policy"]


@cache
def _catalogue(lang: str) -> dict[str, str]:
    """The UI strings of one language as stored in static/i18n/<lang>.json."""
    with (I18N_DIR / f"{lang}.json").open(encoding="utf-8") as file:
        strings: dict[str, str] = json.load(file)
    return strings


def message_error_template() -> str:
    """The server's message-length error with `{max}` in place of the limit."""
    sentinel = 987654321
    try:
        validate_message_text("", sentinel)
    except ProtocolError as error:
        return str(error).replace(str(sentinel), "{max}")
    raise AssertionError("an empty message must be refused")


def ui_strings(lang: str) -> dict[str, str]:
    """Every UI string of `lang`; English fills any gap, errors come from protocol/rules.py."""
    strings = dict(_catalogue(DEFAULT_LANGUAGE))
    strings.update(
        error_username=USERNAME_ERROR,
        error_room=ROOM_ERROR,
        error_message=message_error_template(),
    )
    if lang != DEFAULT_LANGUAGE:
        strings.update(_catalogue(lang))
    return strings


def pick_language() -> str:
    """English or French, from the browser's Accept-Language."""
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def validate_login(username: str, room: str) -> tuple[dict[str, str], dict[str, str]]:
    """(clean values, errors by field) for a username and a room id."""
    values = {"username": username, "room": room}
    errors: dict[str, str] = {}
    try:
        values["username"] = validate_username(username)
    except ProtocolError:
        errors["username"] = "error_username"
    try:
        values["room"] = validate_room(room)
    except ProtocolError:
        errors["room"] = "error_room"
    return values, errors


def _render(template: str, lang: str, status: int = 200, **context: Any) -> Response:
    strings = ui_strings(lang)
    body = render_template(template, lang=lang, strings=strings, t=strings.__getitem__, **context)
    response = Response(body, status=status, mimetype="text/html")
    response.vary.add("Accept-Language")
    return response


def render_login(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    """The login form, with the values to show again and the errors (string keys)."""
    return _render(
        "login.html",
        pick_language(),
        status=status,
        values=values,
        errors=errors,
        suggested_rooms=SUGGESTED_ROOMS,
    )


def _form_value(source: Any, name: str) -> str:
    value = source.get(name, "")
    return value if isinstance(value, str) else ""


@pages.get("/")
def login() -> Response:
    """The login page; `?room=` pre-fills the room (links shared between people)."""
    values = {
        "username": _form_value(request.args, "username"),
        "room": _form_value(request.args, "room"),
    }
    return render_login(values, {})


@pages.post("/join")
def join() -> BaseResponse:
    """Validate the login form; good input goes to the room, bad input gets the form (400)."""
    values, errors = validate_login(
        _form_value(request.form, "username"), _form_value(request.form, "room")
    )
    if errors:
        return render_login(values, errors, status=400)
    target = url_for("pages.chat", username=values["username"], room=values["room"])
    return redirect(target, code=303)


@pages.get("/join")
def join_without_form() -> BaseResponse:
    """A bookmarked or reloaded /join has no form: back to the login page."""
    return redirect(url_for("pages.login"), code=303)


@pages.get("/chat")
def chat() -> Response:
    """The room page; invalid parameters show the login form with the errors (400)."""
    values, errors = validate_login(
        _form_value(request.args, "username"), _form_value(request.args, "room")
    )
    if errors:
        return render_login(values, errors, status=400)
    settings = current_app.extensions["talkrooms"].settings
    return _render(
        "chat.html",
        pick_language(),
        username=values["username"],
        room=values["room"],
        message_max=settings.message_max_length,
    )


@pages.get("/sw.js")
def service_worker() -> Response:
    """The Web Push service worker, at the root so that its scope is the whole site."""
    response = Response(SERVICE_WORKER_FILE.read_bytes(), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    # A new version must reach browsers at once: they check it on each registration.
    response.headers["Cache-Control"] = "no-cache"
    return response


@pages.after_app_request
def security_headers(response: BaseResponse) -> BaseResponse:
    """CSP without inline script, no MIME sniffing, no referrer, no framing."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
