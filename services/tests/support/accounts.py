"""What the accounts' tests share: a password, the test signing secret, workers on a freshly
migrated database of either kind, and the shape of a refusal."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from talkrooms.storage import database
from tests.conftest import new_database_url
from tests.support.processes import ChatWorker

PASSWORD = "correct horse battery"
SECRET = "a-test-secret-of-at-least-32-bytes-long"


def migrated_workers(
    request: pytest.FixtureRequest,
    folder: Path,
    redis_url: str,
    env: dict[str, str],
    count: int = 1,
    kind: str | None = None,
) -> list[ChatWorker]:
    """`count` started workers sharing a new database of the kind `kind` or, by default,
    `request.param` names (sqlite or postgresql), migrated to head, and a Redis key prefix
    of their own."""
    url = new_database_url(kind or request.param, request, folder)
    database.upgrade(url)
    environment = {
        "DATABASE_URL": url,
        "JWT_SECRET": SECRET,
        "KEY_PREFIX": f"acc{uuid.uuid4().hex[:6]}",
        **env,
    }
    return [ChatWorker(folder, redis_url, env=environment).start() for _ in range(count)]


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """A refusal: that status, JSON, a stable code and a message."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = dict(response.json())
    assert body["code"] == code and body["error"]
    return body
