"""Profiles on a real worker (gunicorn + gevent), once on SQLite and once on PostgreSQL:
the owner reads and changes theirs, anyone reads an account's public profile by its name
or a look-alike, refusals are 4xx JSON with a code, and the e-mail stays the owner's."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from talkrooms.protocol import AVATAR_COLORS, avatar_color
from tests.conftest import DATABASES
from tests.support.accounts import PASSWORD, assert_error, migrated_workers
from tests.support.processes import ChatWorker, RedisServer

pytestmark = pytest.mark.integration

PUBLIC_FIELDS = {"username", "display_name", "bio", "color", "created_at"}


@pytest.fixture(scope="module", params=DATABASES)
def profiles_worker(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
) -> Iterator[ChatWorker]:
    """A worker on a freshly migrated database, without login rate limits."""
    folder = tmp_path_factory.mktemp(f"profiles-{request.param}")
    no_limits = {"AUTH_ADDRESS_RATE_LIMIT": "0", "AUTH_ACCOUNT_RATE_LIMIT": "0"}
    [worker] = migrated_workers(request, folder, redis_server.url, no_limits)
    yield worker
    worker.stop()


class Api:
    """/api/v1 of one worker, with or without a Bearer token."""

    def __init__(self, base: str) -> None:
        self.base = f"{base}/api/v1"

    def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, f"{self.base}{path}", headers=headers, timeout=10, **kwargs)

    def register(self, username: str, **extra: Any) -> str:
        """A new account's access token."""
        response = self.call(
            "POST", "/auth/register", json={"username": username, "password": PASSWORD, **extra}
        )
        assert response.status_code == 201, response.text
        return str(response.json()["access_token"])


@pytest.fixture
def api(profiles_worker: ChatWorker) -> Api:
    return Api(profiles_worker.url)


def a_name() -> str:
    return f"p{uuid.uuid4().hex[:10]}"


def test_a_new_account_has_the_default_profile_and_its_owner_sees_the_email(api):
    name = a_name()
    token = api.register(name, email=f"{name}@example.org")
    response = api.call("GET", "/profile", token)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    profile = response.json()
    assert set(profile) == PUBLIC_FIELDS | {"email"}
    assert profile["username"] == name and profile["display_name"] == name
    assert profile["bio"] == "" and profile["color"] == avatar_color(name)
    assert profile["email"] == f"{name}@example.org"
    assert profile["created_at"].endswith("Z")


def test_the_owner_changes_some_fields_and_keeps_the_others(api):
    name = a_name()
    token = api.register(name)
    color = next(c for c in AVATAR_COLORS if c != avatar_color(name))
    changed = api.call(
        "PATCH", "/profile", token, json={"display_name": "  Alice L. ", "color": color.lower()}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["display_name"] == "Alice L." and changed.json()["color"] == color
    bio = api.call("PATCH", "/profile", token, json={"bio": "  Tea, books\nand rabbits.  "})
    assert bio.json()["bio"] == "Tea, books\nand rabbits."
    assert bio.json()["display_name"] == "Alice L." and bio.json()["color"] == color
    assert api.call("GET", "/profile", token).json() == bio.json()
    # null puts a field back to its default
    reset = api.call("PATCH", "/profile", token, json={"display_name": None, "color": None})
    assert reset.json()["display_name"] == name and reset.json()["color"] == avatar_color(name)
    assert reset.json()["bio"] == "Tea, books\nand rabbits."


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"color": "#000000"}, "invalid_color"),
        ({"color": "red"}, "invalid_color"),
        ({"bio": "x" * 281}, "invalid_bio"),
        ({"bio": "a \x1b[31m escape"}, "invalid_bio"),
        ({"display_name": ""}, "invalid_display_name"),
        ({"display_name": "a" * 33}, "invalid_display_name"),
        ({"display_name": "<script>"}, "invalid_display_name"),
        ({"display_name": 5}, "invalid_request"),
        ([1, 2], "invalid_request"),
        ("a string", "invalid_request"),
    ],
)
def test_bad_profile_changes_are_4xx_json_and_change_nothing(api, body, code):
    name = a_name()
    token = api.register(name)
    before = api.call("GET", "/profile", token).json()
    assert_error(api.call("PATCH", "/profile", token, json=body), 400, code)
    # a refusal writes nothing, even the valid fields next to the bad one
    mixed = body if not isinstance(body, dict) else {**body, "bio": "should not be kept"}
    if isinstance(body, dict) and "bio" in body:
        mixed = {**body, "display_name": "Not Kept"}
    assert api.call("PATCH", "/profile", token, json=mixed).status_code == 400
    assert api.call("GET", "/profile", token).json() == before


def test_a_body_that_is_not_json_is_a_400(api):
    token = api.register(a_name())
    response = api.call("PATCH", "/profile", token, data=b"\xff\x00")
    assert_error(response, 400, "invalid_request")


def test_the_own_profile_needs_a_token(api):
    assert_error(api.call("GET", "/profile"), 401, "unauthenticated")
    assert_error(api.call("PATCH", "/profile", json={"bio": "hi"}), 401, "unauthenticated")
    assert_error(api.call("GET", "/profile", "not.a.jwt"), 401, "invalid_token")
    assert_error(
        api.call("PATCH", "/profile", "not.a.jwt", json={"bio": "hi"}), 401, "invalid_token"
    )


def test_anyone_reads_a_public_profile_by_name_without_the_email(api):
    name = f"alice{uuid.uuid4().hex[:8]}"
    token = api.register(name, email=f"{name}@example.org")
    api.call("PATCH", "/profile", token, json={"display_name": "Alice", "bio": "Hi!"})
    response = api.call("GET", f"/profiles/{name}")
    assert response.status_code == 200, response.text
    profile = response.json()
    assert set(profile) == PUBLIC_FIELDS
    assert profile["username"] == name and profile["display_name"] == "Alice"
    assert profile["bio"] == "Hi!" and profile["color"] == avatar_color(name)
    assert "example.org" not in response.text
    # another account's token changes nothing: the e-mail is the owner's alone
    other = api.register(a_name())
    seen_by_other = api.call("GET", f"/profiles/{name}", other)
    assert seen_by_other.json() == profile and "example.org" not in seen_by_other.text


def test_a_look_alike_name_finds_the_same_profile(api):
    name = f"alice{uuid.uuid4().hex[:8]}"
    api.register(name)
    look_alike = "\u0410" + name[1:].upper()  # a Cyrillic А, then the rest in capitals
    response = api.call("GET", f"/profiles/{look_alike}")
    assert response.status_code == 200, response.text
    assert response.json()["username"] == name


def test_an_unknown_name_is_a_404_json(api):
    assert_error(api.call("GET", f"/profiles/{a_name()}"), 404, "not_found")
    assert_error(api.call("GET", "/profiles/%20"), 404, "not_found")


def test_the_openapi_document_lists_the_profile_routes(api):
    document = requests.get(f"{api.base}/openapi.json", timeout=5).json()
    paths = document["paths"]
    assert {"get", "patch"} <= set(paths["/api/v1/profile"])
    assert paths["/api/v1/profile"]["patch"]["security"] == [{"bearer": []}]
    public = next(path for path in paths if path.startswith("/api/v1/profiles/"))
    assert "get" in paths[public] and "security" not in paths[public]["get"]
    schemas = document["components"]["schemas"]
    own = next(schema for key, schema in schemas.items() if key.startswith("OwnProfileOut"))
    seen = next(schema for key, schema in schemas.items() if key.startswith("ProfileOut"))
    assert "email" in own["properties"] and "email" not in seen["properties"]
