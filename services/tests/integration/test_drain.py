"""A worker told to stop (SIGTERM) hands its users to the others at once, quietly."""

from __future__ import annotations

import signal
import time

import pytest

from tests.support.stack import Cluster, RejoiningClient

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster(work_dir):
    stack = Cluster(work_dir / "drain", workers=2).start()
    yield stack
    stack.stop()


def test_sigterm_moves_users_within_seconds_without_departures(cluster, room_name):
    clients = [RejoiningClient(cluster.url, f"user{i}", room_name, ["websocket"]) for i in range(6)]
    try:
        for client in clients:
            client.connect()
            client.wait_joined()
        watcher = clients[0]
        target = next(w for w in cluster.workers if cluster.sids_on(w) - {watcher.sid})
        moved = [c for c in clients if c.sid in cluster.sids_on(target)]
        assert moved
        marks = {id(c): c.mark() for c in clients}
        started = time.monotonic()
        target.signal(signal.SIGTERM)
        for client in moved:
            client.wait_joined(timeout=10, after=marks[id(client)])
        handover = time.monotonic() - started
        target.stop(timeout=20)
        assert handover < 8, f"handover took {handover:.1f}s"
        stayed = [c for c in clients if c not in moved]
        # One bounded wait covers everyone: the departures would have arrived by now.
        stayed[0].assert_no("user_left", after=marks[id(stayed[0])], within=3.0)
        for client in stayed[1:]:
            client.assert_no("user_left", after=marks[id(client)], within=0.1)
        assert all(c.send("still here")["ok"] for c in clients)
    finally:
        for client in clients:
            client.close()
