"""Worker heartbeats: presence survives its workers.

Every worker writes a heartbeat to Redis every few seconds. A worker that stops beating
(kill -9, a crashed host) is purged by the first live worker that notices: its
connections leave their rooms and the rooms hear `user_left`/`room_users`. A worker that
finds itself purged (say, Redis was away longer than the dead-after delay) puts its live
connections back. Nothing here depends on in-process state of any other worker.
"""

from __future__ import annotations

import logging
import os
import time

import gevent
from redis.exceptions import RedisError

from talkrooms.chat.service import ChatService
from talkrooms.realtime.connections import ConnectionRegistry
from talkrooms.settings import Settings
from talkrooms.storage.store import Store

log = logging.getLogger("talkrooms.chat.presence")


class WorkerPresence:
    """The heartbeat greenlet of one worker."""

    def __init__(
        self, settings: Settings, store: Store, connections: ConnectionRegistry, chat: ChatService
    ) -> None:
        self.settings = settings
        self.store = store
        self.connections = connections
        self.chat = chat
        self.worker_id = settings.instance_id
        self.healthy_beats = 0
        self.registered_once = False
        self.started_at = time.time()
        self.greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        if self.greenlet is None:
            self.beat()
            self.greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self.greenlet is not None:
            self.greenlet.kill(block=False)
            self.greenlet = None

    def _run(self) -> None:
        while True:
            gevent.sleep(self.settings.heartbeat_interval_seconds)
            self.beat()

    def beat(self) -> None:
        """One heartbeat: register, restore own presence if purged, reap the dead."""
        try:
            registered = self.store.heartbeat(self.worker_id, self.info())
            if not registered and self.registered_once:
                log.warning("this worker had been purged; restoring its presence")
                self.chat.rejoin_all()
            self.registered_once = True
            self.store.refresh_presence(self.connections.joined_rooms())
            self.healthy_beats += 1
            # A worker that just came back from a Redis outage sees everyone as stale:
            # let the others beat once before judging them.
            if self.healthy_beats >= 2:
                self.reap()
        except RedisError as exc:
            self.healthy_beats = 0
            log.error("heartbeat failed", extra={"error": str(exc)})
        except Exception:
            log.exception("heartbeat crashed")

    def info(self) -> dict[str, object]:
        return {
            "id": self.worker_id,
            "pid": os.getpid(),
            "port": self.settings.server_port,
            "started_at": self.started_at,
            "connections": len(self.connections),
            "rooms": len(self.connections.joined_rooms()),
        }

    def reap(self) -> None:
        for worker in self.store.dead_workers(self.settings.worker_dead_after_seconds):
            if worker == self.worker_id:
                continue
            departures = self.store.purge_worker(worker)
            if departures:
                log.warning(
                    "purged presence of a dead worker",
                    extra={"worker": worker, "connections": len(departures)},
                )
                self.chat.announce_departures(departures)

    def shutdown(self) -> None:
        """Graceful exit: take this worker's connections out of presence now."""
        self.stop()
        try:
            departures = self.store.purge_worker(self.worker_id, force=True)
            if departures:
                self.chat.announce_departures(departures)
        except RedisError as exc:
            log.error("could not clear presence on shutdown", extra={"error": str(exc)})
