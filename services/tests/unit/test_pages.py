"""The web pages without a browser: routes, validation, language, headers, templates."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from talkrooms.app import create_app
from talkrooms.protocol import ROOM_ERROR, USERNAME_ERROR
from talkrooms.settings import Settings
from talkrooms.web.pages import CONTENT_SECURITY_POLICY, ui_strings

PACKAGE = Path(__file__).resolve().parents[2] / "talkrooms"
TEMPLATES = PACKAGE / "web" / "templates"
STATIC = PACKAGE / "web" / "static"
SOCKET_IO_CLIENT_VERSION = "4.8.4"


@pytest.fixture(scope="module")
def app() -> Flask:
    # Nothing here talks to Redis: the pages render from settings and files only.
    settings = Settings(redis_url="redis://127.0.0.1:9/0", message_max_length=500)
    flask_app, _ = create_app(settings, start_background=False)
    return flask_app


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as test_client:
        yield test_client


def page_text(body: bytes) -> str:
    return html.unescape(body.decode())


def test_login_page_has_the_form_and_the_suggested_rooms(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    text = page_text(response.data)
    assert '<html lang="en">' in text
    assert 'action="/join"' in text and 'method="post"' in text
    for room in ("general", "random", "tech"):
        assert f'data-room="{room}"' in text
    assert 'src="/static/js/login.js"' in text


@pytest.mark.parametrize(
    "accept, lang, button",
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr", "Rejoindre la Room"),
        ("fr-CA", "fr", "Rejoindre la Room"),
        ("de-DE,en;q=0.5", "en", "Join the room"),
        ("", "en", "Join the room"),
    ],
)
def test_language_follows_accept_language(
    client: FlaskClient, accept: str, lang: str, button: str
) -> None:
    response = client.get("/", headers={"Accept-Language": accept})
    text = page_text(response.data)
    assert f'<html lang="{lang}">' in text
    assert button in text
    assert "Accept-Language" in response.headers["Vary"]


def test_join_redirects_to_the_room_with_clean_values(client: FlaskClient) -> None:
    response = client.post("/join", data={"username": "  Zoe\u0308 ", "room": " Tech "})
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/chat"
    assert parse_qs(location.query) == {"username": ["Zoë"], "room": ["tech"]}


@pytest.mark.parametrize(
    "form, errors",
    [
        ({"username": "", "room": "general"}, [USERNAME_ERROR]),
        ({"username": "<script>", "room": "general"}, [USERNAME_ERROR]),
        ({"username": "x" * 33, "room": "general"}, [USERNAME_ERROR]),
        ({"username": "alice", "room": "no spaces"}, [ROOM_ERROR]),
        ({"username": "alice", "room": "é"}, [ROOM_ERROR]),
        ({"username": "...", "room": "r" * 33}, [USERNAME_ERROR, ROOM_ERROR]),
        ({}, [USERNAME_ERROR, ROOM_ERROR]),
    ],
)
def test_join_with_bad_input_shows_the_form_again_with_the_errors(
    client: FlaskClient, form: dict[str, str], errors: list[str]
) -> None:
    response = client.post("/join", data=form)
    assert response.status_code == 400
    text = page_text(response.data)
    for error in errors:
        assert error in text
    assert 'id="login-form"' in text
    if form.get("room"):
        assert f'value="{form["room"]}"' in text  # what the person typed stays in the field


def test_hostile_values_come_back_escaped(client: FlaskClient) -> None:
    response = client.post("/join", data={"username": '"><img src=x onerror=alert(1)>'})
    assert response.status_code == 400
    assert b"<img src=x" not in response.data
    assert b"&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in response.data


def test_french_errors_are_translated(client: FlaskClient) -> None:
    response = client.post(
        "/join", data={"username": "", "room": "!"}, headers={"Accept-Language": "fr"}
    )
    text = page_text(response.data)
    assert "Le nom d'utilisateur doit faire 1 à 32 caractères" in text
    assert "L'ID de room doit faire 1 à 32 caractères" in text


def test_chat_page_carries_the_room_and_the_limits(client: FlaskClient) -> None:
    response = client.get("/chat?username=Zo%C3%AB&room=General")
    assert response.status_code == 200
    text = page_text(response.data)
    assert 'data-username="Zoë"' in text
    assert 'data-room="general"' in text
    assert 'data-message-max="500"' in text
    assert '<h1 class="room-name">#general</h1>' in text
    assert 'src="/static/js/chat.js"' in text


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?username=alice",
        "?room=general",
        "?username=%20&room=general",
        "?username=a&room=$",
    ],
)
def test_chat_with_bad_parameters_shows_the_login_form(client: FlaskClient, query: str) -> None:
    response = client.get(f"/chat{query}")
    assert response.status_code == 400
    assert b'id="login-form"' in response.data


def test_get_join_goes_back_to_the_login_page(client: FlaskClient) -> None:
    response = client.get("/join")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("path", ["/", "/chat?username=a&room=b", "/static/js/chat.js", "/nope"])
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_the_policy_allows_no_inline_script_or_style() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_have_no_inline_script_style_or_handlers(template: str) -> None:
    source = (TEMPLATES / template).read_text()
    for tag in re.findall(r"<script\b[^>]*>", source):
        assert 'type="module"' in tag and "src=" in tag, tag
    assert not re.search(r"<style\b", source)
    assert not re.search(r"\sstyle=", source)
    assert not re.search(r"\son[a-z]+=", source)


def test_templates_reference_existing_static_files() -> None:
    for template in TEMPLATES.glob("*.html"):
        for name in re.findall(r"url_for\('static', filename='([^']+)'\)", template.read_text()):
            assert (STATIC / name).is_file(), f"{template.name}: {name}"


def test_static_modules_import_existing_files() -> None:
    for module in (STATIC / "js").glob("*.js"):
        for target in re.findall(r"^import .* from '(\.[^']+)';$", module.read_text(), re.M):
            assert (module.parent / target).resolve().is_file(), f"{module.name}: {target}"


def _catalogue(lang: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def test_english_errors_are_the_servers() -> None:
    strings = ui_strings("en")
    assert strings["error_username"] == USERNAME_ERROR
    assert strings["error_room"] == ROOM_ERROR
    assert strings["error_message"].format(max=2000) == "Message must be 1-2000 characters"


def test_french_translates_every_english_string_with_the_same_placeholders() -> None:
    english, french = ui_strings("en"), _catalogue("fr")
    assert set(french) == set(english)
    for key, text in english.items():
        assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", french[key])), key


def test_every_string_the_pages_use_exists() -> None:
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        source = template.read_text()
        used.update(re.findall(r"\bt\('([a-z_]+)'\)", source))
        for field in ("username", "room"):
            used.update(f"{field}_{part}" for part in ("label", "placeholder", "hint"))
    for module in (STATIC / "js").glob("*.js"):
        source = module.read_text()
        used.update(re.findall(r"\bt\('([a-z_]+)'", source))
        used.update(f"{key}_other" for key in re.findall(r"\btn\('([a-z_]+)'", source))
        used.update(f"state_{s}" for s in ("connecting", "connected", "reconnecting", "error"))
    assert used - set(ui_strings("en")) == set()


def test_the_vendored_socket_io_client_is_the_pinned_official_build() -> None:
    vendor = STATIC / "vendor" / "socket.io-client"
    bundle = (vendor / "socket.io.esm.min.js").read_text()
    assert bundle.startswith(f"/*!\n * Socket.IO v{SOCKET_IO_CLIENT_VERSION}\n")
    assert "export{" in bundle and " as io," in bundle
    assert "MIT License" in (vendor / "LICENSE").read_text()
    docs = (PACKAGE.parents[1] / "docs" / "web-ui.md").read_text()
    assert f"socket.io-client@{SOCKET_IO_CLIENT_VERSION}" in docs


def test_service_worker_is_served_from_the_root_for_the_whole_site(client: FlaskClient) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert b"notificationclick" in response.data
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
