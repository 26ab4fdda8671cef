"""Sharing files on two workers, on local disk and on a real local S3 server (moto), with
the same tests: uploads and every refusal, types from the bytes (spoofed names, a
polyglot), images cleaned of EXIF/GPS and turned upright, a decompression bomb refused
without the memory, messages sharing files, and who may read them."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis as redis_lib
import requests
from PIL import Image

from talkrooms.jobs.tasks import run_cleanup
from talkrooms.settings import Settings
from tests.support import images
from tests.support.accounts import PASSWORD, assert_error, migrated_workers
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, RedisServer, S3Server, stop_all

pytestmark = pytest.mark.integration

MAX_BYTES = 400_000
QUOTA = 1_500_000
PER_PERSON = 6


class Guest:
    """A guest as the web UI is one: a name and a client key, for the socket and uploads."""

    def __init__(self, name: str) -> None:
        self.name = f"{name}{uuid.uuid4().hex[:4]}"
        self.key = uuid.uuid4().hex

    def form(self, room: str) -> dict[str, str]:
        return {"room": room, "username": self.name, "client_key": self.key}


class Stack:
    def __init__(
        self,
        workers: list[ChatWorker],
        folder: Path,
        backend: str,
        s3: S3Server | None = None,
        bucket: str = "",
    ) -> None:
        self.workers = workers
        self.folder = folder
        self.backend = backend
        self.s3 = s3
        self.bucket = bucket

    def stored_objects(self) -> list[str]:
        """Every object key in the S3 bucket (empty for the local backend)."""
        if self.s3 is None:
            return []
        client = boto3.client(
            "s3",
            endpoint_url=self.s3.url,
            region_name="us-east-1",
            aws_access_key_id=S3Server.ACCESS_KEY,
            aws_secret_access_key=S3Server.SECRET_KEY,
        )
        listed = client.list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def url(self, worker: int = 0) -> str:
        return self.workers[worker].url

    def upload(
        self,
        room: str,
        data: bytes,
        name: str = "file.bin",
        guest: Guest | None = None,
        token: str | None = None,
        worker: int = 0,
        content_type: str = "application/octet-stream",
    ) -> requests.Response:
        form = guest.form(room) if guest else {"room": room}
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(
            f"{self.url(worker)}/api/v1/uploads",
            data=form,
            files={"file": (name, data, content_type)},
            headers=headers,
            timeout=30,
        )

    def read(
        self, file_id: str, variant: str = "", token: str | None = None, worker: int = 1
    ) -> requests.Response:
        path = f"/api/v1/files/{file_id}" + (f"/{variant}" if variant else "")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(f"{self.url(worker)}{path}", headers=headers, timeout=30)

    def stored_files(self) -> list[Path]:
        """Every file the local backend holds (empty for S3)."""
        root = self.folder / "uploads"
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    def register(self, stem: str) -> dict[str, Any]:
        response = requests.post(
            f"{self.url()}/api/v1/auth/register",
            json={"username": f"{stem}{uuid.uuid4().hex[:6]}", "password": PASSWORD},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


@pytest.fixture(scope="module", params=["local", "s3"])
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp(f"files-{request.param}")
    env = {
        "UPLOAD_MAX_BYTES": str(MAX_BYTES),
        "ROOM_UPLOAD_QUOTA_BYTES": str(QUOTA),
        "UPLOAD_RATE_LIMIT": f"{PER_PERSON}/60",
        "UPLOAD_ADDRESS_RATE_LIMIT": "0",
        "AUTH_ADDRESS_RATE_LIMIT": "0",
        "AUTH_ACCOUNT_RATE_LIMIT": "0",
        "IMAGE_MAX_PIXELS": "20000000",
        "FILES_PER_MESSAGE": "3",
    }
    s3 = None
    bucket = f"bucket-{uuid.uuid4().hex[:8]}"
    if request.param == "s3":
        s3 = S3Server(folder).start()
        env.update(s3.environment(bucket))
    workers = migrated_workers(request, folder, redis_server.url, env, count=2, kind="sqlite")
    yield Stack(workers, folder, request.param, s3, bucket)
    stop_all(workers)
    if s3 is not None:
        s3.stop()


def joined_guest(stack: Stack, guest: Guest, room: str, worker: int = 0) -> ChatClient:
    client = ChatClient(stack.url(worker), auth={"protocol": 2}).connect()
    client.client_key = guest.key
    assert client.join(guest.name, room)["ok"]
    return client


def file_headers_are_safe(response: requests.Response, inline: bool) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp and "script" not in csp
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("inline" if inline else "attachment"), disposition


def test_a_photo_is_cleaned_turned_thumbnailed_and_shared(
    stack: Stack, room_name: str, clients: list[ChatClient]
):
    alice, bob = Guest("Alice"), Guest("Bob")
    sender = joined_guest(stack, alice, room_name, worker=0)
    watcher = joined_guest(stack, bob, room_name, worker=1)
    clients += [sender, watcher]
    photo = images.photo_with_gps(1200, 600, orientation=6)
    assert images.exif_of(photo)  # the original carries EXIF with GPS

    uploaded = stack.upload(room_name, photo, "holiday.jpg", guest=alice)
    assert uploaded.status_code == 201, uploaded.text
    entry = uploaded.json()
    assert entry["kind"] == "image" and entry["type"] == "image/jpeg"
    assert entry["name"] == "holiday.jpg"
    assert (entry["width"], entry["height"]) == (600, 1200)  # turned upright
    assert entry["variants"] == ["thumb"]
    # Not readable before a message shares it.
    assert_error(stack.read(entry["id"]), 404, "not_found")

    sent = sender.send("", files=[entry["id"]], room=room_name)
    assert sent["ok"], sent
    assert sent["message"]["files"] == [entry] and sent["message"]["message"] == ""
    arrived = watcher.wait_for("new_message", lambda m: m.get("files"))
    assert arrived["files"] == [entry]

    full = stack.read(entry["id"], worker=1)
    assert full.status_code == 200 and full.headers["Content-Type"] == "image/jpeg"
    file_headers_are_safe(full, inline=True)
    assert images.exif_of(full.content) == {}  # no GPS, no camera, no orientation
    assert b"SecretCam" not in full.content
    assert images.size_of(full.content) == (600, 1200)
    # Turned clockwise: the blue left half of the sensor is now on top.
    top, bottom = images.pixel(full.content, 300, 100), images.pixel(full.content, 300, 1100)
    assert top[2] > 150 > top[0] and bottom[0] > 150 > bottom[2]
    thumb = stack.read(entry["id"], "thumb", worker=0)
    assert thumb.status_code == 200 and max(images.size_of(thumb.content)) <= 320
    # A small image has no separate display size: the original answers for it.
    assert stack.read(entry["id"], "display").content == full.content
    # Where the bytes are: the bucket for S3, the shared disk otherwise; never both.
    if stack.backend == "s3":
        assert f"files/{entry['id']}/original" in stack.stored_objects()
        assert stack.stored_files() == []
    else:
        assert any(entry["id"] in str(path) for path in stack.stored_files())
    assert_error(stack.read(entry["id"], "secret"), 404, "not_found")
    assert_error(stack.read("0" * 32), 404, "not_found")


def test_types_come_from_the_bytes_not_the_name(stack: Stack, room_name: str):
    guest = Guest("Mallory")
    page = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    php = b"<?php system($_GET['c']); ?>\n"
    refused = stack.upload(room_name, php, "avatar.png", guest=guest, content_type="image/png")
    assert_error(refused, 415, "unsupported_type")
    sender = joined_guest(stack, guest, room_name)
    try:
        for body, name in ((page, "cat.png"), (svg, "logo.svg")):
            uploaded = stack.upload(room_name, body, name, guest=guest, content_type="image/png")
            assert uploaded.status_code == 201, uploaded.text
            entry = uploaded.json()
            assert entry["kind"] == "file" and entry["type"] == "application/octet-stream"
            assert sender.send(name, files=[entry["id"]], room=room_name)["ok"]
            served = stack.read(entry["id"])
            assert served.headers["Content-Type"] == "application/octet-stream"
            file_headers_are_safe(served, inline=False)
            assert served.content == body  # a download is kept as sent
        # A polyglot: a real GIF with a page appended; re-encoding leaves the page behind.
        polyglot = images.animated_gif(frames=1) + b"<script>alert(document.cookie)</script>"
        uploaded = stack.upload(room_name, polyglot, "fun.gif", guest=guest)
        assert uploaded.status_code == 201, uploaded.text
        assert sender.send("gif", files=[uploaded.json()["id"]], room=room_name)["ok"]
        served = stack.read(uploaded.json()["id"])
        assert served.headers["Content-Type"] == "image/gif" and b"<script>" not in served.content
    finally:
        sender.close()


def test_documents_and_animations(stack: Stack, room_name: str, clients: list[ChatClient]):
    guest = Guest("Doc")
    sender = joined_guest(stack, guest, room_name)
    clients.append(sender)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    text = "Notes\nligne 2 é\n".encode()
    gif = images.animated_gif(frames=3)
    entries = []
    for body, name in ((pdf, "report.pdf"), (text, "../../etc/notes.txt"), (gif, "dance.gif")):
        uploaded = stack.upload(room_name, body, name, guest=guest)
        assert uploaded.status_code == 201, uploaded.text
        entries.append(uploaded.json())
    assert [e["type"] for e in entries] == ["application/pdf", "text/plain", "image/gif"]
    assert entries[1]["name"] == "notes.txt"  # a name, never a path
    sent = sender.send("three files", files=[e["id"] for e in entries], room=room_name)
    assert sent["ok"] and [f["id"] for f in sent["message"]["files"]] == [e["id"] for e in entries]
    pdf_read = stack.read(entries[0]["id"])
    assert pdf_read.content == pdf
    assert 'filename="report.pdf"' in pdf_read.headers["Content-Disposition"]
    file_headers_are_safe(pdf_read, inline=False)
    animation = stack.read(entries[2]["id"]).content
    with Image.open(io.BytesIO(animation)) as shown:
        assert getattr(shown, "n_frames", 1) == 3  # the animation is kept
    thumb = stack.read(entries[2]["id"], "thumb").content
    with Image.open(io.BytesIO(thumb)) as first:
        assert getattr(first, "n_frames", 1) == 1  # its thumbnail is the first frame


def test_limits_refuse_clearly_and_store_nothing(stack: Stack, room_name: str):
    guest = Guest("Lim")
    before = stack.stored_files()
    assert_error(stack.upload(room_name, b"x" * (MAX_BYTES + 10), guest=guest), 413, "too_large")
    assert_error(stack.upload(room_name, b"", guest=guest), 400, "empty_file")
    assert_error(stack.upload("Bad Room!", b"hello", guest=guest), 400, "invalid_request")
    assert_error(stack.upload(room_name, b"hello", guest=None), 400, "invalid_request")
    response = requests.post(
        f"{stack.url()}/api/v1/uploads", data=guest.form(room_name), timeout=10
    )
    assert_error(response, 400, "invalid_request")
    assert stack.stored_files() == before

    # The room's quota: big enough files until the room is full.
    filler = Guest("Fill")
    blob = b"%PDF-1.4\n" + b"0" * 300_000
    codes = [stack.upload(room_name, blob, guest=filler).status_code for _ in range(5)]
    assert codes[:4] == [201] * 4 and codes[4] == 413
    assert_error(stack.upload(room_name, blob, guest=Guest("Late")), 413, "room_quota")

    # The per-person rate limit (the address limit is off here).
    rapid = Guest("Rapid")
    other_room = f"{room_name}-r"
    codes = [
        stack.upload(other_room, b"hi", "a.txt", guest=rapid).status_code
        for _ in range(PER_PERSON + 1)
    ]
    assert codes == [201] * PER_PERSON + [429]


def test_a_decompression_bomb_is_refused_without_the_memory(stack: Stack, room_name: str):
    bomb = images.bomb()
    assert len(bomb) < MAX_BYTES
    pid = stack.workers[0].pid
    before = _rss_kb(pid)
    refused = stack.upload(room_name, bomb, "small.png", guest=Guest("Boom"), worker=0)
    assert_error(refused, 413, "image_too_large")
    # Decoding would take 225 MP (hundreds of MB); refused from the header instead.
    assert _rss_kb(pid) - before < 30_000
    assert stack.workers[0].healthy()


def _rss_kb(pid: int) -> int:
    """Resident memory of the worker's gunicorn worker process (the master's child)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    target = int(children[0]) if children else pid
    for line in Path(f"/proc/{target}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_only_those_who_can_read_the_room_read_its_files(stack: Stack, clients: list[ChatClient]):
    alice, bob, eve = stack.register("Alice"), stack.register("Bob"), stack.register("Eve")
    opened = requests.post(
        f"{stack.url()}/api/v1/conversations",
        json={"username": bob["account"]["username"]},
        headers={"Authorization": f"Bearer {alice['access_token']}"},
        timeout=10,
    )
    room = opened.json()["room"]
    # Outsiders cannot even upload into it.
    assert_error(stack.upload(room, images.png(), token=eve["access_token"]), 404, "not_found")
    assert_error(stack.upload(room, images.png(), guest=Guest("G")), 404, "not_found")

    uploaded = stack.upload(room, images.png(), "secret.png", token=alice["access_token"])
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]
    alice_client = ChatClient(
        stack.url(0), auth={"protocol": 2, "token": alice["access_token"]}
    ).connect()
    clients.append(alice_client)
    assert alice_client.call("join_room", {"room": room})["ok"]
    shared = alice_client.send("for your eyes", files=[file_id], room=room)
    assert shared["ok"], shared

    for worker in (0, 1):
        assert stack.read(file_id, token=bob["access_token"], worker=worker).status_code == 200
        assert stack.read(file_id, token=alice["access_token"], worker=worker).status_code == 200
        for token in (eve["access_token"], None):
            for variant in ("", "thumb", "display"):
                assert_error(stack.read(file_id, variant, token, worker), 404, "not_found")
        assert_error(stack.read(file_id, token="not-a-token", worker=worker), 401, "invalid_token")

    # Deleting the message takes the file away at once, on both workers.
    deleted = alice_client.call("delete_message", {"room": room, "id": shared["message"]["id"]})
    assert deleted["ok"], deleted
    for worker in (0, 1):
        assert_error(
            stack.read(file_id, token=bob["access_token"], worker=worker), 404, "not_found"
        )


def test_a_message_shares_only_its_author_s_uploads_in_its_room(
    stack: Stack, room_name: str, clients: list[ChatClient]
):
    owner, thief = Guest("Owner"), Guest("Thief")
    uploaded = stack.upload(room_name, images.png(), guest=owner).json()
    thief_client = joined_guest(stack, thief, room_name)
    owner_client = joined_guest(stack, owner, f"{room_name}-elsewhere", worker=1)
    clients += [thief_client, owner_client]
    refused = thief_client.send("mine now", files=[uploaded["id"]], room=room_name)
    assert refused["ok"] is False and refused["code"] == "not_found"
    refused = owner_client.send("wrong room", files=[uploaded["id"]], room=f"{room_name}-elsewhere")
    assert refused["ok"] is False and refused["code"] == "not_found"
    for bad in ([], ["nope"], ["a" * 32] * 1 + ["b" * 32, "c" * 32, "d" * 32], "x"):
        answer = thief_client.send("bad", files=bad, room=room_name)
        assert answer["ok"] is False and answer["code"] == "invalid", (bad, answer)
    # The owner shares it once; a second message cannot share it again.
    owner_client.call(
        "join_room", {"room": room_name, "username": owner.name, "client_key": owner.key}
    )
    assert owner_client.send("here", files=[uploaded["id"]], room=room_name)["ok"]
    again = owner_client.send("again", files=[uploaded["id"]], room=room_name)
    assert again["ok"] is False and again["code"] == "not_found"


def test_s3_downloads_can_be_presigned_redirects(
    stack: Stack, room_name: str, clients: list[ChatClient], redis_server: RedisServer
):
    if stack.s3 is None:
        pytest.skip("a setting of the S3 backend")
    worker = ChatWorker(
        stack.folder,
        redis_server.url,
        env={**stack.workers[0].extra_env, "S3_PRESIGNED_DOWNLOADS": "true"},
    ).start()
    try:
        guest = Guest("Pre")
        sender = joined_guest(stack, guest, room_name)
        clients.append(sender)
        body = b"%PDF-1.4\n% presigned\n"
        entry = stack.upload(room_name, body, "r\u00e9sum\u00e9.pdf", guest=guest).json()
        assert sender.send("cv", files=[entry["id"]], room=room_name)["ok"]
        answer = requests.get(
            f"{worker.url}/api/v1/files/{entry['id']}", allow_redirects=False, timeout=10
        )
        assert answer.status_code == 302
        location = answer.headers["Location"]
        assert location.startswith(stack.s3.url) and "X-Amz-Signature" in location
        fetched = requests.get(location, timeout=10)
        assert fetched.status_code == 200 and fetched.content == body
        assert fetched.headers["Content-Type"] == "application/pdf"
        assert fetched.headers["Content-Disposition"].startswith("attachment")
        assert "UTF-8''r%C3%A9sum%C3%A9.pdf" in fetched.headers["Content-Disposition"]
        # The right is checked before the redirect: a file of no kept message gets none.
        pending = stack.upload(room_name, body, guest=guest).json()
        refused = requests.get(
            f"{worker.url}/api/v1/files/{pending['id']}", allow_redirects=False, timeout=10
        )
        assert_error(refused, 404, "not_found")
    finally:
        worker.stop()


def settings_of(worker: ChatWorker, **changes: str) -> Settings:
    """The Settings a worker runs with (the cleanup job reads the same environment)."""
    fields = Settings.model_fields
    values = {k.lower(): v for k, v in worker.environment().items() if k.lower() in fields}
    return Settings(_env_file=None, **{**values, **changes})  # type: ignore[call-arg]


def test_the_cleanup_job_frees_files_no_kept_message_shares(
    stack: Stack, room_name: str, clients: list[ChatClient]
):
    guest = Guest("Sweep")
    sender = joined_guest(stack, guest, room_name)
    clients.append(sender)
    settings = settings_of(stack.workers[0], file_sweep_grace_seconds="0")
    redis = redis_lib.Redis.from_url(settings.effective_redis_url)
    prefix = f"{settings.key_prefix}:room:{{{room_name}}}"

    def upload() -> str:
        answer = stack.upload(room_name, b"%PDF-1.4\n" + uuid.uuid4().bytes, guest=guest)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    waiting, never, deleted, dropped, kept = (upload() for _ in range(5))
    redis.hdel(f"{prefix}:uploads", never)  # its offer expired without a message
    messages = {}
    for file_id in (deleted, dropped, kept):
        messages[file_id] = sender.send("f", files=[file_id], room=room_name)["message"]
    assert sender.call("delete_message", {"room": room_name, "id": messages[deleted]["id"]})["ok"]
    seq = int(messages[dropped]["id"])
    redis.zremrangebyscore(f"{prefix}:messages", seq, seq)  # left the kept history
    quota_before = int(redis.get(f"{prefix}:upbytes") or 0)

    summary = run_cleanup(settings)
    assert summary["status"] == "ok"
    assert summary["files_removed"] >= 3

    def exists(file_id: str) -> bool:
        if stack.backend == "s3":
            return any(key.startswith(f"files/{file_id}/") for key in stack.stored_objects())
        return any(file_id in str(path) for path in stack.stored_files())

    for file_id in (never, deleted, dropped):
        assert not exists(file_id), file_id
        assert_error(stack.read(file_id), 404, "not_found")
    for file_id in (waiting, kept):
        assert exists(file_id), file_id
    assert stack.read(kept).status_code == 200
    assert int(redis.get(f"{prefix}:upbytes") or 0) < quota_before
    # The waiting upload can still be shared; the job's record counts what it freed.
    assert sender.send("late", files=[waiting], room=room_name)["ok"]
    record = redis.hgetall(f"{settings.key_prefix}:jobs:cleanup_rooms")
    assert int(record[b"files_removed"]) >= 3 and int(record[b"file_bytes_freed"]) > 0
    # Idempotent: a second run removes nothing more of these.
    again = run_cleanup(settings)
    assert exists(kept) and exists(waiting) and again["status"] == "ok"
