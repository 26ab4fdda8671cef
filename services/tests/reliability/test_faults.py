"""Faults under load: a hundred people chat through nginx while workers and Redis fail.

Every test ends with the delivery guarantee of docs/protocol.md checked whole: every
acknowledged message is stored once, and every person's view (live deliveries plus the
reconnect gap-fill, merged by id) holds every message of their room exactly once.
Figures (reconnect and gap-fill times, outage windows) go to artifacts/reliability/.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from tests.reliability.figures import percentile, report
from tests.support.client import ChatClient
from tests.support.model_client import ModelClient
from tests.support.processes import wait_until
from tests.support.stack import Cluster, full_history

pytestmark = pytest.mark.integration

ROOMS = 10
PER_ROOM = 10
SEND_EVERY_SECONDS = 2.0  # 100 people -> 50 messages/s
OUTAGE_SECONDS = 4.0
TRANSPORTS = (["websocket"], ["websocket"], ["websocket"], ["polling", "websocket"])
ENV = {"HISTORY_LIMIT": "10000", "REDIS_SOCKET_TIMEOUT": "2", "GRACEFUL_TIMEOUT_SECONDS": "5"}


class Crowd:
    """ROOMS x PER_ROOM model clients through nginx and the thread that makes them talk."""

    def __init__(self, cluster: Cluster, tag: str) -> None:
        self.cluster = cluster
        self.rooms = [f"{tag}-{i}" for i in range(ROOMS)]
        self.clients = [
            ModelClient(cluster.url, f"p{r}x{i}", room, TRANSPORTS[i % len(TRANSPORTS)])
            for r, room in enumerate(self.rooms)
            for i in range(PER_ROOM)
        ]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._talk, daemon=True)

    def open(self) -> Crowd:
        for client in self.clients:
            client.connect()
        for client in self.clients:
            client.wait_joined(timeout=20)
        self.thread.start()
        return self

    def _talk(self) -> None:
        step = SEND_EVERY_SECONDS / len(self.clients)
        while not self.stop.is_set():
            for client in self.clients:
                if self.stop.is_set():
                    return
                if client.sio.connected:
                    client.send_new()
                client.retry_due()
                if self.stop.wait(step):  # paces the sends; returns at once when stopped
                    return

    def acked(self) -> int:
        return sum(len(c.acked) for c in self.clients)

    def wait_progress(self, messages: int, timeout: float) -> None:
        start = self.acked()
        wait_until(lambda: self.acked() >= start + messages, timeout, f"{messages} more acks")

    def quiet_and_settle(self, timeout: float = 30) -> None:
        """Stop talking, re-send until every message is acked, let every view fill."""
        self.stop.set()
        self.thread.join(timeout=10)

        def settled() -> bool:
            for client in self.clients:
                client.retry_due()
            return all(c.unacked() == 0 for c in self.clients)

        wait_until(settled, timeout, "every message acknowledged", every=0.2)
        for client in self.clients:
            client.fill_gaps()

    def check_guarantee(self) -> dict[str, int]:
        """Acked ⊆ stored, stored once, and every view == its room's history."""
        reader = ChatClient(self.cluster.url).connect()
        try:
            histories = {room: full_history(reader, room) for room in self.rooms}
        finally:
            reader.close()
        stored = Counter(m.get("client_id") for messages in histories.values() for m in messages)
        acked = {cid for c in self.clients for cid in c.acked}
        lost = acked - set(stored)
        assert not lost, f"acknowledged but not stored: {sorted(lost)[:10]}"
        assert max(stored.values()) == 1, "a client_id was stored twice"
        for client in self.clients:
            expected = [int(m["id"]) for m in histories[client.room]]
            wait_until(
                lambda c=client, e=expected: c.view_ids() == e,
                15,
                f"{client.username}'s view to match the history",
            )
        return {
            "acked": len(acked),
            "stored": sum(stored.values()),
            "views_checked": len(self.clients),
        }

    def close(self) -> None:
        self.stop.set()
        for client in self.clients:
            client.close()


@contextmanager
def crowd_on(cluster: Cluster, tag: str) -> Iterator[Crowd]:
    crowd = Crowd(cluster, tag)
    try:
        yield crowd.open()
    finally:
        crowd.close()


@pytest.fixture
def cluster(work_dir, request) -> Iterator[Cluster]:
    stack = Cluster(work_dir / request.node.name[:40], workers=2, env=ENV).start()
    yield stack
    stack.stop()


def health(cluster: Cluster) -> int:
    try:
        return requests.get(f"{cluster.url}/api/health", timeout=5).status_code
    except requests.RequestException:
        return 0


def test_kill_9_of_a_worker_under_load_loses_no_acknowledged_message(cluster):
    with crowd_on(cluster, "kill9") as crowd:
        crowd.wait_progress(100, 20)
        victim = cluster.workers[0]
        on_victim = cluster.sids_on(victim)
        displaced = [c for c in crowd.clients if c.sid in on_victim]
        assert len(displaced) >= 20, "nginx should have put many people on each worker"
        killed_at = time.monotonic()
        victim.kill9()
        for client in displaced:
            client.wait_joined(timeout=15, after=0)
        wait_until(
            lambda: all(c.first_after("joined", killed_at) for c in displaced),
            15,
            "every displaced person rejoined",
        )
        crowd.wait_progress(200, 30)
        crowd.quiet_and_settle()
        totals = crowd.check_guarantee()
    reconnect = [c.first_after("joined", killed_at) - killed_at for c in displaced]
    filled = [c.first_after("filled", killed_at) - killed_at for c in displaced]
    figures = {
        "people": len(crowd.clients),
        "displaced": len(displaced),
        **totals,
        "reconnect_p50_s": round(percentile(reconnect, 0.5), 2),
        "reconnect_p99_s": round(percentile(reconnect, 0.99), 2),
        "gap_filled_p99_s": round(percentile(filled, 0.99), 2),
        "gap_filled_max_s": round(max(filled), 2),
    }
    report("kill9-worker", figures)
    assert figures["reconnect_p99_s"] <= 5
    assert figures["gap_filled_max_s"] <= 7


def test_redis_killed_and_restarted_under_load(cluster):
    worker_pids = [w.pid for w in cluster.workers]
    with crowd_on(cluster, "redis") as crowd:
        crowd.wait_progress(100, 20)
        acked_before = {cid for c in crowd.clients for cid in c.acked}
        refusals_before = sum(len(c.refusals) for c in crowd.clients)
        cluster.redis.kill9()
        down_at = time.monotonic()
        wait_until(lambda: health(cluster) == 503, 10, "health 503 while Redis is down")
        wait_until(
            lambda: sum(len(c.refusals) for c in crowd.clients) > refusals_before,
            10,
            "clear refusals while Redis is down",
        )
        # Keep Redis away for a few seconds of chat: a real outage, not a blip.
        wait_until(
            lambda: time.monotonic() - down_at >= OUTAGE_SECONDS,
            OUTAGE_SECONDS + 1,
            "the outage window",
        )
        cluster.redis.start()
        back_at = time.monotonic()
        acked_mark = crowd.acked()
        wait_until(lambda: crowd.acked() > acked_mark, 20, "the first ack after Redis returned")
        first_ack = time.monotonic() - back_at
        crowd.wait_progress(150, 30)
        crowd.quiet_and_settle()
        totals = crowd.check_guarantee()
        codes = Counter(r["code"] for c in crowd.clients for r in c.refusals)
    acked_all = {cid for c in crowd.clients for cid in c.acked}
    assert acked_before <= acked_all
    assert [w.pid for w in cluster.workers] == worker_pids, "no worker was restarted"
    assert set(codes) <= {"unavailable"}, codes
    figures = {
        **totals,
        "outage_s": round(back_at - down_at, 2),
        "refused_while_down": sum(codes.values()),
        "first_ack_after_redis_back_s": round(first_ack, 2),
    }
    report("redis-kill-restart", figures)
    assert figures["first_ack_after_redis_back_s"] <= 8


def test_frozen_redis_never_hangs_a_worker(cluster):
    alice = ChatClient(cluster.url).connect()
    try:
        alice.join("alice", "frozen")
        cluster.redis.freeze()
        frozen_at = time.monotonic()
        try:
            refused = alice.call("send_message", {"message": "into the freeze"}, timeout=10)
            answered_in = time.monotonic() - frozen_at
            wait_until(lambda: health(cluster) == 503, 10, "health 503 while frozen")
            unhealthy_in = time.monotonic() - frozen_at
            remaining = 10 - (time.monotonic() - frozen_at)
            if remaining > 0:
                alice.assert_no("never", within=remaining)  # hold the freeze for 10 s
        finally:
            cluster.redis.thaw()
        thawed_at = time.monotonic()
        wait_until(lambda: health(cluster) == 200, 10, "health 200 after SIGCONT")
        healthy_in = time.monotonic() - thawed_at
        assert alice.send("after the thaw")["ok"] is True
    finally:
        alice.close()
    assert refused["code"] == "unavailable"
    figures = {
        "send_refused_after_s": round(answered_in, 2),
        "health_503_after_s": round(unhealthy_in, 2),
        "health_200_after_thaw_s": round(healthy_in, 2),
    }
    report("redis-sigstop", figures)
    assert answered_in < 5


def test_rolling_restart_and_nginx_reload_under_load(cluster):
    with crowd_on(cluster, "rolling") as crowd:
        crowd.wait_progress(100, 20)
        for index in range(len(cluster.workers)):
            cluster.restart_worker(index)
            crowd.wait_progress(100, 30)
        cluster.nginx.signal(signal.SIGHUP)  # nginx -s reload
        crowd.wait_progress(100, 30)
        crowd.quiet_and_settle()
        totals = crowd.check_guarantee()
    report("rolling-restart-reload", totals)
