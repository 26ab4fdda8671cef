"""A real Redis Cluster (3 primaries, 3 replicas by default) of redis-server processes that
tests start, break (SIGKILL a primary) and stop, always by PID."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from redis.cluster import ClusterNode, RedisCluster

from talkrooms.ops import redis_cluster as ops
from tests.support.processes import (
    ChatWorker,
    ManagedProcess,
    RedisServer,
    chat_workers,
    free_port,
    stop_all,
    wait_until,
)


class ClusterNodeProcess(ManagedProcess):
    """One cluster node: its port, bus port and data folder stay the same across restarts."""

    def __init__(self, work_dir: Path, node_timeout_ms: int) -> None:
        self.port = free_port()
        # Chosen like the port: port + 10000 (Redis' default) may be an ephemeral port.
        self.bus_port = free_port()
        super().__init__(f"redis-cluster-{self.port}", work_dir)
        self.data_dir = work_dir / f"redis-cluster-{self.port}"
        self.node_timeout_ms = node_timeout_ms

    def start(self) -> ClusterNodeProcess:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (make test installs it)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = ops.cluster_node_argv(
            binary, self.port, self.data_dir, self.node_timeout_ms, bus_port=self.bus_port
        )
        self.spawn(argv)
        try:
            wait_until(self.answering, 10, f"cluster node on {self.port}")
        except TimeoutError:
            raise TimeoutError(f"node {self.port} did not start:\n{self.log_tail()}") from None
        return self

    def answering(self) -> bool:
        with ops.node_client(self.port, timeout=1) as client:
            return bool(client.ping())


class RedisClusterGroup:
    """The nodes of one cluster; `stop()` ends every one of them, killed ones included."""

    def __init__(
        self,
        work_dir: Path,
        primaries: int = 3,
        replicas_per_primary: int = 1,
        node_timeout_ms: int = ops.DEFAULT_NODE_TIMEOUT_MS,
    ) -> None:
        self.work_dir = work_dir
        self.replicas_per_primary = replicas_per_primary
        count = primaries * (1 + replicas_per_primary)
        self.nodes = [ClusterNodeProcess(work_dir, node_timeout_ms) for _ in range(count)]
        # port of a killed primary: (the key it served, its replica, the kill's time)
        self._killed: dict[int, tuple[str, int, float]] = {}

    @property
    def ports(self) -> list[int]:
        return [node.port for node in self.nodes]

    @property
    def url(self) -> str:
        return ops.cluster_url(self.ports)

    def node(self, port: int) -> ClusterNodeProcess:
        return next(node for node in self.nodes if node.port == port)

    def live_ports(self) -> list[int]:
        return [node.port for node in self.nodes if node.running()]

    def start(self) -> RedisClusterGroup:
        try:
            for node in self.nodes:
                node.start()
            ops.create_cluster(self.ports, self.replicas_per_primary, timeout=30)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every node by PID; nodes already killed are reaped, nothing is left."""
        stop_all(self.nodes)

    def client(self) -> RedisCluster:
        """redis-py's cluster client seeded with every node (like the app's URL)."""
        seeds = [ClusterNode(ops.LOOPBACK, port) for port in self.ports]
        return RedisCluster(startup_nodes=seeds, socket_timeout=5, decode_responses=True)

    def node_for_key(self, key: str) -> int:
        """The port of the primary serving `key`, asked of any live node."""
        return ops.node_for_key(key, self.live_ports()[0])

    def kill_primary_of(self, key: str) -> int:
        """SIGKILL the primary serving `key` (no shutdown, no AOF flush); its port."""
        port = self.node_for_key(key)
        replica = ops.replica_of(port)
        self.node(port).kill9()
        self._killed[port] = (key, replica, time.monotonic())
        return port

    def wait_failover(self, old_port: int, timeout: float = 30) -> float:
        """Wait until the killed primary's former replica serves its slots and every live
        node sees a healthy cluster; the seconds since the kill."""
        key, replica, killed_at = self._killed[old_port]
        live = [port for port in self.live_ports() if port != old_port]

        def promoted() -> bool:
            return all(
                ops.node_for_key(key, port) == replica and ops.node_ok(port, len(self.nodes))
                for port in live
            )

        wait_until(promoted, timeout, f"replica {replica} to replace primary {old_port}")
        return time.monotonic() - killed_at

    def restart_node(self, port: int, timeout: float = 30) -> None:
        """Start a killed node again on its port and data folder; wait until it is back as
        a replica in sync (its nodes.conf says it owned slots a newer epoch now owns)."""
        node = self.node(port)
        node.start()
        self._killed.pop(port, None)

        def rejoined() -> bool:
            with ops.node_client(port) as client:
                replication = client.info("replication")
            return replication["role"] == "slave" and replication["master_link_status"] == "up"

        wait_until(rejoined, timeout, f"node {port} to rejoin as a replica")

    def pids(self) -> list[int]:
        return [node.pid for node in self.nodes if node.process is not None]


def redis_server_running(pid: int) -> bool:
    """A redis-server process with this PID exists (and is not a zombie)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    zombie = "State:\tZ" in status
    return not zombie and b"redis-server" in cmdline


@contextlib.contextmanager
def chat_on_a_cluster(
    folder: Path, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[tuple[RedisClusterGroup, list[ChatWorker]]]:
    """A 6-node cluster, RQ's plain Redis, a migrated SQLite database and chat workers on
    the cluster (REDIS_URL=redis+cluster://…); everything stopped by PID afterwards."""
    group = RedisClusterGroup(folder)
    rq_redis = RedisServer(folder)
    try:
        group.start()
        rq_redis.start()
        settings = {"RQ_REDIS_URL": rq_redis.url, **(env or {})}
        with chat_workers(folder, group.url, workers, settings) as started:
            yield group, started
    finally:
        rq_redis.stop()
        group.stop()
