"""The Sentinel-watched primary killed under chat load (REDIS_WAIT_REPLICAS=1): no
acknowledged message lost, none stored twice, chat resumes within the failover, and
presence recovers without ghosts. A planned failover (the old primary still running)
loses acknowledged messages only until a majority of Sentinels names the new primary
(docs/reliability.md, issue 22)."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from talkrooms.storage.keys import Keys
from talkrooms.storage.redis_clients import PRIMARY_CHECK_SECONDS
from tests.reliability.figures import report
from tests.support.client import ChatClient
from tests.support.failover import MESSAGES, SEND_DEADLINE_SECONDS, AckingSender
from tests.support.processes import ChatWorker, wait_until
from tests.support.sentinel import SentinelGroup, chat_on_sentinel

pytestmark = pytest.mark.integration

KILL_AFTER = MESSAGES // 3
SWITCH_MARGIN_SECONDS = 0.5  # a send in flight when the worker moves, thread start-up
PLANNED_PACE_SECONDS = 0.05  # 90 messages over ~5 s: the planned switch takes 1-2 s


@pytest.fixture
def stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SentinelGroup, list[ChatWorker]]]:
    folder = tmp_path_factory.mktemp("sentinel-wait")
    env = {"REDIS_WAIT_REPLICAS": "1", "REDIS_SOCKET_TIMEOUT": "1"}
    with chat_on_sentinel(folder, env=env) as stack:
        yield stack


def test_killing_the_sentinel_primary_under_load_loses_no_acknowledged_message(stack):
    group, workers = stack
    room = f"sw{uuid.uuid4().hex[:8]}"
    alice = ChatClient(workers[0].url).connect()
    bob = ChatClient(workers[1].url).connect()
    try:
        assert alice.join("alice", room)["ok"] and bob.join("bob", room)["ok"]
        sender = AckingSender(alice)
        sender.thread.start()
        wait_until(lambda: len(sender.acked) >= KILL_AFTER, 30, f"{KILL_AFTER} acks")
        killed_port = group.kill_primary()
        killed_at = time.monotonic()
        failover_s = group.wait_failover()
        sender.thread.join(SEND_DEADLINE_SECONDS + 30)
        assert len(sender.acked) == MESSAGES, f"{len(sender.acked)} acknowledged"
        pause_s = sender.longest_pause_after(killed_at)
        # Checked once Sentinel is done: a primary left behind by a second failover would
        # still show what it acknowledged alone until it is turned into a replica.
        settled_at = time.monotonic()
        primary = group.wait_settled()
        settled_s = time.monotonic() - settled_at

        history = _history_once_in_order(bob, sender, room)
        seen = _reader_saw_each_once(bob, sender)
        report(
            "sentinel-wait-failover",
            {
                "killed_primary_port": killed_port,
                "failover_s": round(failover_s, 2),
                "settled_after_sending_s": round(settled_s, 2),
                "primary_port": primary.port,
                "longest_pause_between_acks_s": round(pause_s, 2),
                "refused_tries": dict(sender.refusals),
                "acked": len(sender.acked),
                "in_history": len(history),
                "reader_saw": seen,
                "new_primary_replicas": primary.client().info("replication")["connected_slaves"],
            },
        )
        assert pause_s < failover_s + 5
        _presence_is_exact(workers[1], room, group)
    finally:
        alice.close()
        bob.close()


def _history_once_in_order(reader: ChatClient, sender: AckingSender, room: str) -> list[dict]:
    """Every acknowledged message is in the history once, in the order it was sent, with
    the id its ack gave (asked on the other worker, after the failover)."""
    history = reader.call("get_history", {"room": room, "limit": MESSAGES + 10})["messages"]
    stored = Counter(m.get("client_id") for m in history)
    assert all(stored[cid] == 1 for cid in sender.acked), "an acked message missing or twice"
    ids = [m["id"] for m in history]
    assert len(ids) == len(set(ids))
    by_cid = {m["client_id"]: m["id"] for m in history if m.get("client_id") in sender.acked}
    assert by_cid == sender.acked
    acked_ids = list(sender.acked.values())
    assert [i for i in ids if i in set(acked_ids)] == acked_ids  # sending order kept
    return history


def _reader_saw_each_once(bob: ChatClient, sender: AckingSender) -> int:
    """Bob, on the other worker, got every acknowledged message once (live or by the
    worker's resync after its listener came back)."""
    last = list(sender.acked.values())[-1]
    bob.wait_for("new_message", lambda m: m["id"] == last, timeout=15)
    seen = Counter(m["id"] for m in bob.received("new_message"))
    assert all(seen[i] == 1 for i in sender.acked.values()), "bob missed one or got it twice"
    return sum(1 for i in sender.acked.values() if seen[i])


def _presence_is_exact(worker: ChatWorker, room: str, group: SentinelGroup) -> None:
    """After the failover the online list is exactly the people present, in the app and in
    the promoted primary's Redis (no ghost, nobody dropped)."""
    carol = ChatClient(worker.url).connect()
    try:
        assert carol.join("carol", room)["ok"]
        users = carol.wait_for("room_users", lambda d: d["count"] == 3)
        assert sorted(u["username"] for u in users["users"]) == ["alice", "bob", "carol"]
        names = group.current_primary().client().hkeys(Keys("tr").room(room, "users"))
        assert sorted(n.decode() for n in names) == ["alice", "bob", "carol"]
    finally:
        carol.close()


def test_a_planned_sentinel_failover_loses_acks_only_until_the_sentinels_switch(stack):
    """SENTINEL FAILOVER promotes a replica while the old primary keeps running; Sentinel
    turns the old primary into a replica only 10-16 s later, dropping what it holds alone.
    WAIT cannot stop that (its replicas leave it or follow the new primary), so the workers
    must leave it as soon as a majority of Sentinels names the new one: every message
    acknowledged after that (plus one check interval) survives, none is stored twice."""
    group, workers = stack
    room = f"sp{uuid.uuid4().hex[:8]}"
    alice = ChatClient(workers[0].url).connect()
    bob = ChatClient(workers[1].url).connect()
    try:
        assert alice.join("alice", room)["ok"] and bob.join("bob", room)["ok"]
        # Paced, so that sending spans the switch (nothing is refused to slow it down).
        sender = AckingSender(alice, pace=PLANNED_PACE_SECONDS)
        sender.thread.start()
        wait_until(lambda: len(sender.acked) >= KILL_AFTER, 30, f"{KILL_AFTER} acks")
        old_port = group.manual_failover()
        switched_at = time.monotonic()
        failover_s = group.wait_failover()
        sender.thread.join(SEND_DEADLINE_SECONDS + 30)
        assert len(sender.acked) == MESSAGES, f"{len(sender.acked)} acknowledged"
        primary = group.wait_settled()
        demoted_s = time.monotonic() - switched_at
        history = bob.call("get_history", {"room": room, "limit": MESSAGES + 10})["messages"]
        stored = Counter(m.get("client_id") for m in history)
        acks = list(zip(sender.acked, sender.acked_at, strict=True))
        lost_at = [at - switched_at for cid, at in acks if not stored[cid]]
        window_s = failover_s + PRIMARY_CHECK_SECONDS + SWITCH_MARGIN_SECONDS
        report(
            "sentinel-wait-planned-failover",
            {
                "old_primary_port": old_port,
                "primary_port": primary.port,
                "all_sentinels_switched_s": round(failover_s, 2),
                "old_primary_demoted_after_s": round(demoted_s, 2),
                "refused_tries": dict(sender.refusals),
                "acked": len(sender.acked),
                "acked_after_switch_command": sum(1 for _, at in acks if at > switched_at),
                "acked_but_lost": len(lost_at),
                "lost_acked_between_s": [round(min(lost_at), 2), round(max(lost_at), 2)]
                if lost_at
                else [],
            },
        )
        assert all(stored[cid] <= 1 for cid in sender.acked), "a message stored twice"
        assert all(0 <= t <= window_s for t in lost_at), f"lost after the switch: {lost_at}"
    finally:
        alice.close()
        bob.close()
