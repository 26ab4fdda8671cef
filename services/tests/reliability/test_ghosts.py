"""Ghost presence: workers killed with kill -9 leave nobody listed, within 30 s,
with the production heartbeat settings (beat every 5 s, dead after 15 s)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.reliability.figures import report
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, wait_until
from tests.support.stack import Cluster

pytestmark = pytest.mark.integration

PRODUCTION_HEARTBEATS = {"HEARTBEAT_INTERVAL_SECONDS": "5", "WORKER_DEAD_AFTER_SECONDS": "15"}


def listed(url: str, room: str) -> int:
    rooms = requests.get(f"{url}/api/rooms", timeout=5).json()["rooms"]
    return next((r["users"] for r in rooms if r["room"] == room), 0)


def test_killed_workers_leave_no_ghosts(work_dir):
    cluster = Cluster(work_dir / "ghosts", workers=3, env=PRODUCTION_HEARTBEATS).start()
    clients: list[ChatClient] = []
    try:
        for index in range(30):
            worker = cluster.workers[index % 3]
            client = ChatClient(worker.url).connect()  # no reconnection: ghosts to be
            clients.append(client)
            client.join(f"ghost{index}", "haunted", keyed=False)
        survivors = [c for i, c in enumerate(clients) if i % 3 == 2]
        wait_until(lambda: listed(cluster.url, "haunted") == 30, 10, "30 people listed")

        killed_at = time.monotonic()
        cluster.workers[0].kill9()
        cluster.workers[1].kill9()
        wait_until(
            lambda: listed(cluster.url, "haunted") == len(survivors),
            30,
            "the dead workers' people gone from the room",
        )
        purged_after = time.monotonic() - killed_at

        # Every worker dead: a fresh one alone purges the others' ghosts.
        cluster.workers[2].kill9()
        fresh = ChatWorker(
            work_dir / "ghosts", cluster.redis.url, env=PRODUCTION_HEARTBEATS
        ).start()
        restarted_at = time.monotonic()
        try:
            wait_until(
                lambda: listed(fresh.url, "haunted") == 0,
                40,
                "a fresh worker purges everyone's ghosts",
            )
            cleaned_after = time.monotonic() - restarted_at
        finally:
            fresh.stop()
    finally:
        for client in clients:
            client.close()
        cluster.stop()
    report(
        "ghost-presence",
        {
            "purged_after_s": round(purged_after, 1),
            "fresh_worker_cleaned_after_s": round(cleaned_after, 1),
        },
    )
    assert purged_after <= 30
