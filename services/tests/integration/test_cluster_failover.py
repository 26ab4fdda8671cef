"""Workers die and restart under users: presence heals, clients come back, nothing acked is lost.

Workers beat every second and count as dead after three (HEARTBEAT_INTERVAL_SECONDS=1,
WORKER_DEAD_AFTER_SECONDS=3, set by ChatWorker), so every wait here has a short bound.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.support.client import ChatClient
from tests.support.processes import wait_until
from tests.support.stack import Cluster, RejoiningClient, ReliableSender, full_history

pytestmark = pytest.mark.integration

# Dead after 3 s, noticed at the next beat of a live worker, plus the emits.
PURGE_BOUND_SECONDS = 10
TRANSPORTS = (["websocket"], ["polling"], ["polling", "websocket"], ["websocket"])


def usernames(room_users: dict) -> set[str]:
    return {user["username"] for user in room_users["users"]}


def rooms_via(url: str) -> list[dict]:
    return requests.get(f"{url}/api/rooms", timeout=5).json()["rooms"]


def travellers(cluster: Cluster, room: str, count: int) -> list[RejoiningClient]:
    """Clients through nginx that rejoin by themselves; mixed transports."""
    clients = []
    for i in range(count):
        client = RejoiningClient(cluster.url, f"trav{i}", room, TRANSPORTS[i % len(TRANSPORTS)])
        clients.append(client)
        client.connect()
        client.wait_joined()
    return clients


def progress(senders: list[ReliableSender], at_least: int) -> Callable[[], bool]:
    """A condition: `at_least` more messages acked (by all senders) than right now."""
    before = sum(len(s.acked) for s in senders)
    return lambda: sum(len(s.acked) for s in senders) >= before + at_least


def test_kill_9_of_a_worker_purges_its_presence_and_its_clients_rejoin_elsewhere(
    tmp_path: Path, room_name: str
):
    cluster = Cluster(tmp_path, workers=2).start()
    victim, survivor = cluster.workers
    clients: list[ChatClient] = []
    try:
        observer = ChatClient(survivor.url).connect()
        ghost = ChatClient(victim.url).connect()  # no reconnection: it goes with its worker
        clients += [observer, ghost]
        assert observer.join("observer", room_name)["ok"]
        assert ghost.join("ghost", room_name)["ok"]
        moving = travellers(cluster, room_name, 4)
        clients += moving
        everyone = {"observer", "ghost"} | {c.username for c in moving}
        observer.wait_for("room_users", lambda d: usernames(d) == everyone)

        on_victim = cluster.sids_on(victim)
        displaced = [c for c in moving if c.sid in on_victim]
        assert displaced and len(displaced) < len(moving), "nginx put no one on each worker"
        marks = {id(c): c.mark() for c in displaced}
        observer_mark = observer.mark()

        victim.kill9()

        # Presence of the dead worker is purged within the bound: the ghost leaves.
        observer.wait_for(
            "user_left",
            lambda d: d["username"] == "ghost",
            timeout=PURGE_BOUND_SECONDS,
            after=observer_mark,
        )
        # The displaced clients reconnected through nginx to the live worker and rejoined.
        for client in displaced:
            ack = client.wait_joined(timeout=PURGE_BOUND_SECONDS, after=marks[id(client)])
            assert ack["room"] == room_name
        still_here = everyone - {"ghost"}
        observer.wait_for(
            "room_users",
            lambda d: usernames(d) == still_here,
            timeout=PURGE_BOUND_SECONDS,
            after=observer_mark,
        )
        wait_until(
            lambda: cluster.sids_on(survivor) >= {c.sid for c in moving},
            PURGE_BOUND_SECONDS,
            "every traveller on the survivor",
        )
        # No ghost in the counts either, and the moved users chat again.
        rooms = {r["room"]: r for r in rooms_via(cluster.url)}
        assert rooms[room_name]["users"] == len(still_here)
        sent = displaced[0].call("send_message", {"message": "back again"})
        assert sent["ok"], sent
        observer.wait_for("new_message", lambda m: m["id"] == sent["message"]["id"])
    finally:
        for opened in clients:
            opened.close()
        cluster.stop()


def test_rolling_restart_keeps_every_acknowledged_message(tmp_path: Path, room_name: str):
    # A short graceful timeout: open WebSockets hold a stopping worker until it ends.
    env = {"HISTORY_LIMIT": "1000", "GRACEFUL_TIMEOUT_SECONDS": "3"}
    cluster = Cluster(tmp_path, workers=2, env=env).start()
    clients: list[RejoiningClient] = []
    stop = threading.Event()
    try:
        clients = travellers(cluster, room_name, 4)
        senders = [ReliableSender(client) for client in clients]

        def chat() -> None:
            while not stop.is_set():
                for sender in senders:
                    if sender.client.sio.connected:
                        sender.send_new()
                    sender.retry_due()
                stop.wait(0.1)  # paces the sends; returns at once when stopped

        talker = threading.Thread(target=chat, daemon=True)
        talker.start()
        displaced: set[str] = set()
        for index, worker in enumerate(list(cluster.workers)):
            wait_until(progress(senders, at_least=8), 15, "messages acked before the next restart")
            held = cluster.sids_on(worker)
            moving = [c for c in clients if c.sid in held]
            marks = {c.username: c.mark() for c in moving}
            cluster.restart_worker(index)
            # Its users come back by themselves (through nginx) and rejoin.
            for client in moving:
                client.wait_joined(timeout=15, after=marks[client.username])
            displaced |= set(marks)
        wait_until(
            lambda: all(len(s.acked) >= s.sent // 2 for s in senders),
            15,
            "chat going on after the last restart",
        )
        stop.set()
        talker.join(timeout=5)

        # Drain: every message still unacked is sent again until the server acks it.
        def drained() -> bool:
            for sender in senders:
                sender.retry_due()
            return not any(s.unacked() for s in senders)

        wait_until(drained, 20, "every message acked after retries", every=0.2)

        acked = set().union(*(s.acked for s in senders))
        reader = ChatClient(cluster.url).connect()
        try:
            history = full_history(reader, room_name)
        finally:
            reader.close()
        stored = Counter(m.get("client_id") for m in history)
        assert acked <= set(stored), f"acked but lost: {sorted(acked - set(stored))[:10]}"
        assert max(stored.values()) == 1, "a retried message was stored twice"
        assert len(acked) >= 40
        # Every client lived through the restart of the worker it was on.
        assert displaced == {c.username for c in clients}
        assert all(s.unacked() == 0 for s in senders)
    finally:
        stop.set()
        for client in clients:
            client.close()
        cluster.stop()


def test_a_cookie_naming_a_dead_worker_moves_to_the_worker_that_answered(tmp_path: Path):
    """nginx tries the other workers (backups) and the cookie follows the one that answered."""
    cluster = Cluster(tmp_path, workers=3).start()
    try:
        cluster.workers[0].kill9()
        logged_before = len(cluster.nginx.access_entries())
        moved_to = set()
        for _ in range(4):
            handshake = requests.get(
                f"{cluster.url}/socket.io/?EIO=4&transport=polling",
                cookies={"talkrooms_worker": "w1"},
                timeout=5,
            )
            assert handshake.status_code == 200
            moved_to.add(handshake.cookies.get("talkrooms_worker"))
        # Always a live worker, never pointing back at the dead one.
        assert moved_to and moved_to <= {"w2", "w3"}

        # nginx logs a request after answering it: wait for all four lines.
        def handshakes() -> list[dict[str, str]]:
            entries = cluster.nginx.access_entries()[logged_before:]
            return [e for e in entries if "/socket.io/" in e["request"]]

        wait_until(lambda: len(handshakes()) == 4, 5, "four handshakes in nginx's access log")
        answered = [e["upstream"].split(", ")[-1] for e in handshakes()]
        live = {f"127.0.0.1:{w.port}" for w in cluster.workers[1:]}
        assert set(answered) <= live
    finally:
        cluster.stop()
