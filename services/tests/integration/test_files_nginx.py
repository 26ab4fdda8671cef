"""Files through the real nginx of `make run`'s shape: uploads above nginx's general body
limit pass on their own route, and a shared file's bytes are sent by nginx itself
(X-Accel-Redirect to an internal location) after a worker checked the right."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support import images
from tests.support.client import ChatClient
from tests.support.stack import Cluster

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    work_dir = tmp_path_factory.mktemp("files-nginx")
    started = Cluster(work_dir, workers=2, env={"UPLOAD_MAX_BYTES": "300000"}).start()
    yield started
    started.stop()


def test_nginx_sends_the_bytes_once_a_worker_said_so(cluster: Cluster, room_name: str):
    name, key = f"Ann{uuid.uuid4().hex[:4]}", uuid.uuid4().hex
    photo = images.photo_with_gps(900, 500, orientation=1)
    big_text = b"line of notes\n" * 15_000  # 210 KB: above nginx's general 64 KB limit
    form = {"room": room_name, "username": name, "client_key": key}
    entries = []
    for body, filename in ((photo, "p.jpg"), (big_text, "notes.txt")):
        uploaded = requests.post(
            f"{cluster.url}/api/v1/uploads",
            data=form,
            files={"file": (filename, body)},
            timeout=30,
        )
        assert uploaded.status_code == 201, uploaded.text
        entries.append(uploaded.json())
    client = ChatClient(cluster.url, auth={"protocol": 2}).connect()
    try:
        client.client_key = key
        assert client.join(name, room_name)["ok"]
        assert client.send("two", files=[e["id"] for e in entries], room=room_name)["ok"]
    finally:
        client.close()

    for entry, inline in ((entries[0], True), (entries[1], False)):
        served = requests.get(f"{cluster.url}/api/v1/files/{entry['id']}", timeout=10)
        assert served.status_code == 200
        assert "X-Accel-Redirect" not in served.headers
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in served.headers["Content-Security-Policy"]
        assert served.headers["Content-Disposition"].startswith(
            "inline" if inline else "attachment"
        )
        assert served.headers["Content-Type"].startswith(entry["type"])
    text = requests.get(f"{cluster.url}/api/v1/files/{entries[1]['id']}", timeout=10)
    assert text.content == big_text


def test_the_internal_location_cannot_be_asked_for_directly(cluster: Cluster):
    stored = sorted(p for p in (Path(cluster.work_dir) / "uploads").rglob("*") if p.is_file())
    paths = ["/_talkrooms/files/", "/_talkrooms/files/ab/x/original"]
    if stored:
        relative = stored[0].relative_to(Path(cluster.work_dir) / "uploads")
        paths.append(f"/_talkrooms/files/{relative}")
    for path in paths:
        assert requests.get(f"{cluster.url}{path}", timeout=10).status_code == 404


def test_an_upload_above_the_limit_is_refused_by_nginx_or_the_worker_as_json(
    cluster: Cluster, room_name: str
):
    form = {"room": room_name, "username": "Big", "client_key": uuid.uuid4().hex}
    refused = requests.post(
        f"{cluster.url}/api/v1/uploads",
        data=form,
        files={"file": ("big.txt", b"x" * 400_000)},
        timeout=30,
    )
    assert refused.status_code == 413
    assert refused.headers["Content-Type"].startswith("application/json")
    assert refused.json()["code"] == "too_large"
