"""A real Sentinel group of Debian's redis-server processes: a primary, replicas following
it, and Sentinels watching it, each started and stopped by PID (test_sentinel.py,
test_sentinel_wait.py)."""

from __future__ import annotations

import contextlib
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import redis

from tests.support.processes import (
    NO_SYNC_DELAY,
    ChatWorker,
    ManagedProcess,
    RedisServer,
    chat_workers,
    free_port,
    wait_until,
)

SERVICE = "talkrooms"


class Replica(RedisServer):
    """A redis-server started as a replica of `primary_port`, returned once in sync."""

    def __init__(self, work_dir: Path, primary_port: int) -> None:
        super().__init__(work_dir)
        self.primary_port = primary_port

    def start(self) -> Replica:
        data = self.work_dir / f"replica-{self.port}"
        data.mkdir(parents=True, exist_ok=True)
        self.spawn(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(data),
                "--save",
                "",
                *NO_SYNC_DELAY,
                "--replicaof",
                "127.0.0.1",
                str(self.primary_port),
            ]
        )
        wait_until(
            lambda: self.client().info("replication")["master_link_status"] == "up",
            10,
            "replica in sync",
        )
        return self


class SentinelServer(ManagedProcess):
    """One redis-sentinel watching SERVICE; `quorum` Sentinels must agree it is down."""

    def __init__(self, work_dir: Path, primary_port: int, quorum: int = 1) -> None:
        self.port = free_port()
        super().__init__(f"sentinel-{self.port}", work_dir)
        self.conf = work_dir / f"sentinel-{self.port}.conf"
        self.conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {work_dir}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary_port} {quorum}\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 5000\n"
        )

    def start(self) -> SentinelServer:
        self.spawn([shutil.which("redis-server") or "redis-server", str(self.conf), "--sentinel"])
        wait_until(lambda: self.client().ping(), 10, "sentinel up")
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, decode_responses=True)

    def primary_port(self) -> int:
        """The port of the primary this Sentinel names now."""
        _, port = self.client().sentinel_get_master_addr_by_name(SERVICE)
        return int(port)


class SentinelGroup:
    """A primary, `replicas` replicas and `sentinels` Sentinels (quorum: a majority), all
    on loopback; `stop()` ends every process, killed ones included."""

    def __init__(self, work_dir: Path, replicas: int = 2, sentinels: int = 3) -> None:
        self.work_dir = work_dir
        self.primary = RedisServer(work_dir)
        self.replicas = [Replica(work_dir, self.primary.port) for _ in range(replicas)]
        quorum = sentinels // 2 + 1
        self.sentinels = [
            SentinelServer(work_dir, self.primary.port, quorum) for _ in range(sentinels)
        ]
        self._killed: tuple[int, float] | None = None  # (port, monotonic time) of a kill

    @property
    def url(self) -> str:
        """REDIS_URL naming every Sentinel (python-socketio's syntax, as the app reads it)."""
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/0/{SERVICE}"

    def servers(self) -> list[RedisServer]:
        return [self.primary, *self.replicas]

    def start(self) -> SentinelGroup:
        try:
            self.primary.start()
            for replica in self.replicas:
                replica.start()
            for sentinel in self.sentinels:
                sentinel.start()
            # A failover needs a quorum of Sentinels that know each other and the replicas
            # (they find both through the primary, every 2 s or so).
            wait_until(self.watching, 20, "every Sentinel to see the others and the replicas")
        except BaseException:
            self.stop()
            raise
        return self

    def watching(self) -> bool:
        wanted = (len(self.sentinels) - 1, len(self.replicas))
        for sentinel in self.sentinels:
            state = sentinel.client().sentinel_master(SERVICE)
            if (int(state["num-other-sentinels"]), int(state["num-slaves"])) != wanted:
                return False
        return True

    def stop(self) -> None:
        for process in [*self.sentinels, *reversed(self.servers())]:
            process.stop()

    def kill_primary(self) -> int:
        """SIGKILL the current primary (by PID): no shutdown, nothing flushed. Its port."""
        server = self.current_primary()
        server.kill9()
        self._killed = (server.port, time.monotonic())
        return server.port

    def manual_failover(self) -> int:
        """SENTINEL FAILOVER (a planned switch, as for maintenance): a replica is promoted
        while the primary still runs; Sentinel turns the old primary into a replica later.
        The old primary's port."""
        port = self.current_primary().port
        self.sentinels[0].client().execute_command("SENTINEL", "FAILOVER", SERVICE)
        self._killed = (port, time.monotonic())
        return port

    def wait_failover(self, timeout: float = 30) -> float:
        """Wait until every Sentinel names a promoted replica that answers as a primary; the
        seconds since the kill."""
        assert self._killed is not None, "kill_primary first"
        old_port, killed_at = self._killed

        def promoted() -> bool:
            ports = {sentinel.primary_port() for sentinel in self.sentinels}
            if len(ports) != 1 or old_port in ports:
                return False
            server = next(s for s in self.servers() if s.port in ports)
            return server.client().info("replication")["role"] == "master"

        wait_until(promoted, timeout, f"Sentinel to replace primary {old_port}")
        return time.monotonic() - killed_at

    def wait_settled(self, timeout: float = 45) -> RedisServer:
        """Wait until the live servers are one primary and replicas in sync with it, the one
        every Sentinel names: any primary a second failover left behind has been turned
        into a replica (and has dropped what only it held). That primary."""

        def settled() -> bool:
            port = self.current_primary().port
            if {sentinel.primary_port() for sentinel in self.sentinels} != {port}:
                return False
            for server in self.servers():
                if not server.running() or server.port == port:
                    continue
                info = server.client().info("replication")
                if info["role"] != "slave" or info["master_port"] != port:
                    return False
                if info["master_link_status"] != "up":
                    return False
            return self.current_primary().client().info("replication")["role"] == "master"

        wait_until(settled, timeout, "one primary, every other server its replica", every=0.2)
        return self.current_primary()

    def current_primary(self) -> RedisServer:
        port = self.sentinels[0].primary_port()
        return next(s for s in self.servers() if s.port == port)


@contextlib.contextmanager
def chat_on_sentinel(
    folder: Path, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[tuple[SentinelGroup, list[ChatWorker]]]:
    """A Sentinel group, a migrated SQLite database shared by the workers, and chat workers
    on REDIS_URL=redis+sentinel://…; everything stopped by PID afterwards."""
    base = folder / f"sentinel-{uuid.uuid4().hex[:6]}"
    base.mkdir(parents=True, exist_ok=True)
    group = SentinelGroup(base)
    try:
        group.start()
        with chat_workers(base, group.url, workers, env) as started:
            yield group, started
    finally:
        group.stop()
