"""/api/v1/auth on a real worker (gunicorn + gevent), once on SQLite and once on
PostgreSQL: registration, login, refresh rotation and reuse detection, logout, password
change, /me, expiry, rate limits, refusals as JSON, and the OpenAPI document."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.conftest import DATABASES
from tests.support.accounts import PASSWORD, assert_error, migrated_workers
from tests.support.processes import ChatWorker, RedisServer, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=DATABASES)
def accounts_worker(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
) -> Iterator[ChatWorker]:
    """A worker on a freshly migrated database; the rate limits are off except where a
    test sends its own client address (each test uses addresses of its own)."""
    folder = tmp_path_factory.mktemp(f"accounts-{request.param}")
    limits = {
        "ACCESS_TOKEN_SECONDS": "2",
        "AUTH_ADDRESS_RATE_LIMIT": "6/60",
        "AUTH_ACCOUNT_RATE_LIMIT": "4/60",
    }
    [worker] = migrated_workers(request, folder, redis_server.url, limits)
    yield worker
    worker.stop()


class Api:
    """Calls /api/v1/auth from one client address of its own (X-Real-IP via loopback,
    which the worker trusts as a proxy), so tests never share a rate-limit bucket."""

    def __init__(self, base: str) -> None:
        self.base = f"{base}/api/v1"
        self.address = f"198.51.100.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:6]}"
        self.headers = {"X-Real-IP": self.address}

    def post(self, path: str, body: Any = None, token: str | None = None, **kwargs: Any):
        headers = dict(self.headers)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.post(f"{self.base}{path}", json=body, headers=headers, timeout=10, **kwargs)

    def get(self, path: str, token: str | None = None) -> requests.Response:
        headers = dict(self.headers)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.get(f"{self.base}{path}", headers=headers, timeout=10)

    def register(self, username: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        response = self.post(
            "/auth/register", {"username": username, "password": password, **extra}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


@pytest.fixture
def api(accounts_worker: ChatWorker) -> Api:
    return Api(accounts_worker.url)


def a_name() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


def test_register_answers_a_token_pair_and_me_knows_the_account(api):
    name = a_name()
    body = api.register(name, email=f"{name}@example.org")
    assert body["token_type"] == "Bearer" and body["expires_in"] == 2
    assert body["account"]["username"] == name
    me = api.get("/auth/me", token=body["access_token"])
    assert me.status_code == 200
    assert me.json()["username"] == name and me.json()["email"] == f"{name}@example.org"
    assert "password" not in me.text and "hash" not in me.text


def test_a_look_alike_of_a_registered_name_is_taken(api):
    name = f"alice{uuid.uuid4().hex[:8]}"
    api.register(name)
    look_alike = "\u0410" + name[1:].upper()  # a Cyrillic А, then the rest in capitals
    response = api.post("/auth/register", {"username": look_alike, "password": PASSWORD})
    assert_error(response, 409, "username_taken")


def test_login_with_the_right_password_and_the_same_refusal_otherwise(api):
    name = a_name()
    api.register(name)
    ok = api.post("/auth/login", {"username": name.upper(), "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["account"]["username"] == name
    wrong = api.post("/auth/login", {"username": name, "password": "not the password"})
    nobody = api.post("/auth/login", {"username": a_name(), "password": "not the password"})
    assert_error(wrong, 401, "invalid_credentials")
    assert_error(nobody, 401, "invalid_credentials")
    assert wrong.json() == nobody.json()
    assert wrong.headers.get("WWW-Authenticate") == nobody.headers.get("WWW-Authenticate")


def test_refresh_rotates_and_a_rotated_token_revokes_the_family(api):
    first = api.register(a_name())
    second = api.post("/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second_body = second.json()
    assert second_body["refresh_token"] != first["refresh_token"]
    assert api.get("/auth/me", token=second_body["access_token"]).status_code == 200
    # Someone replays the first token: the whole family ends, the thief's and ours.
    assert_error(
        api.post("/auth/refresh", {"refresh_token": first["refresh_token"]}),
        401,
        "refresh_token_reused",
    )
    assert_error(
        api.post("/auth/refresh", {"refresh_token": second_body["refresh_token"]}),
        401,
        "refresh_token_reused",
    )


def test_an_unknown_refresh_token_is_refused(api):
    assert_error(api.post("/auth/refresh", {"refresh_token": "nope"}), 401, "invalid_refresh_token")


def test_logout_ends_the_session_but_not_the_others(api):
    name = a_name()
    first = api.register(name)
    other = api.post("/auth/login", {"username": name, "password": PASSWORD}).json()
    response = api.post("/auth/logout", {"refresh_token": first["refresh_token"]})
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert_error(
        api.post("/auth/refresh", {"refresh_token": first["refresh_token"]}),
        401,
        "refresh_token_reused",
    )
    assert api.post("/auth/refresh", {"refresh_token": other["refresh_token"]}).status_code == 200


def test_changing_the_password_ends_every_other_session(api):
    name = a_name()
    first = api.register(name)
    other = api.post("/auth/login", {"username": name, "password": PASSWORD}).json()
    new_password = "a much better passphrase"
    wrong = api.post(
        "/auth/password",
        {"old_password": "not the password", "new_password": new_password},
        token=first["access_token"],
    )
    assert_error(wrong, 401, "invalid_credentials")
    changed = api.post(
        "/auth/password",
        {"old_password": PASSWORD, "new_password": new_password},
        token=first["access_token"],
    )
    assert changed.status_code == 200, changed.text
    fresh = changed.json()
    for old in (first, other):
        assert api.post("/auth/refresh", {"refresh_token": old["refresh_token"]}).status_code == 401
    assert api.post("/auth/refresh", {"refresh_token": fresh["refresh_token"]}).status_code == 200
    assert_error(
        api.post("/auth/login", {"username": name, "password": PASSWORD}),
        401,
        "invalid_credentials",
    )
    assert api.post("/auth/login", {"username": name, "password": new_password}).status_code == 200


def test_changing_the_password_needs_a_bearer_token(api):
    response = api.post("/auth/password", {"old_password": PASSWORD, "new_password": PASSWORD})
    assert_error(response, 401, "unauthenticated")
    assert_error(api.get("/auth/me", token="not.a.jwt"), 401, "invalid_token")


def test_an_expired_access_token_is_refused_with_its_own_code(api):
    body = api.register(a_name())
    # ACCESS_TOKEN_SECONDS=2 on this worker: wait for the expiry itself, not a fixed sleep.
    wait_until(
        lambda: api.get("/auth/me", token=body["access_token"]).status_code == 401, 10, "expiry"
    )
    assert_error(api.get("/auth/me", token=body["access_token"]), 401, "token_expired")
    renewed = api.post("/auth/refresh", {"refresh_token": body["refresh_token"]})
    assert api.get("/auth/me", token=renewed.json()["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (None, "invalid_request"),
        ([1, 2], "invalid_request"),
        ({"username": "x"}, "invalid_request"),
        ({"username": 5, "password": PASSWORD}, "invalid_request"),
        ({"username": "a" * 500, "password": PASSWORD}, "invalid_request"),
        ({"username": "<b>", "password": PASSWORD}, "invalid_username"),
        ({"username": "shortpw", "password": "short"}, "invalid_password"),
        ({"username": "bademail", "password": PASSWORD, "email": "not-an-email"}, "invalid_email"),
    ],
)
def test_bad_registrations_are_4xx_json_with_a_code(api, body, code):
    assert_error(api.post("/auth/register", body), 400, code)


def test_a_body_that_is_not_json_is_a_400(api):
    response = requests.post(
        f"{api.base}/auth/login", data=b"\xff\x00", headers=api.headers, timeout=5
    )
    assert_error(response, 400, "invalid_request")


def test_refusals_never_echo_the_password(api):
    response = api.post("/auth/register", {"username": ["x"], "password": {"secret": "hunter2"}})
    assert response.status_code == 400
    assert "hunter2" not in response.text


def test_unknown_routes_and_methods_under_v1_are_json(api):
    assert_error(api.get("/auth/nothing"), 404, "not_found")
    assert_error(api.get("/auth/login"), 405, "method_not_allowed")


def test_login_is_limited_per_address(api):
    # AUTH_ADDRESS_RATE_LIMIT=6/60: the 7th attempt from one address is refused.
    for _ in range(6):
        api.post("/auth/login", {"username": a_name(), "password": "whatever it is"})
    response = api.post("/auth/login", {"username": a_name(), "password": "whatever it is"})
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1


def test_login_is_limited_per_account_across_addresses(accounts_worker):
    name = a_name()
    Api(accounts_worker.url).register(name)
    # AUTH_ACCOUNT_RATE_LIMIT=4/60: guesses from ever new addresses still stop.
    statuses = [
        Api(accounts_worker.url)
        .post("/auth/login", {"username": name, "password": "guess guess"})
        .status_code
        for _ in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]


def test_registration_is_limited_per_address(api):
    statuses = [
        api.post("/auth/register", {"username": a_name(), "password": PASSWORD}).status_code
        for _ in range(7)
    ]
    assert statuses == [201] * 6 + [429]


def test_the_openapi_document_lists_the_routes(api):
    response = requests.get(f"{api.base}/openapi.json", timeout=5)
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in ("register", "login", "refresh", "logout", "password"):
        assert "post" in paths[f"/api/v1/auth/{path}"]
    assert "get" in paths["/api/v1/auth/me"]
    assert "bearer" in document["components"]["securitySchemes"]


def test_the_seed_api_keeps_working(accounts_worker):
    assert requests.get(f"{accounts_worker.url}/api/health", timeout=5).status_code == 200
    assert requests.get(f"{accounts_worker.url}/api/rooms", timeout=5).status_code == 200
    assert requests.get(f"{accounts_worker.url}/api/stats", timeout=5).status_code == 200


def test_racing_registrations_of_one_name_give_one_account_and_no_500(accounts_worker):
    name = a_name()
    # Four: AUTH_ACCOUNT_RATE_LIMIT=4/60 counts registrations of one name too.
    callers = [Api(accounts_worker.url) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=len(callers)) as pool:
        statuses = sorted(
            pool.map(
                lambda caller: (
                    caller.post(
                        "/auth/register", {"username": name, "password": PASSWORD}
                    ).status_code
                ),
                callers,
            )
        )
    assert statuses == [201, 409, 409, 409]
