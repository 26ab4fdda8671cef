"""A local Redis Cluster from Debian's redis-server and redis-cli, on 127.0.0.1 only.

Tests start one to check what the app does when a shard fails over; `make run CLUSTER=1`
starts the same cluster. This module only builds argv, forms the cluster with
`redis-cli --cluster create` and reads its topology; who starts and stops the node
processes (tests: by PID; `make run`: supervisord) is the caller's business.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import redis

LOOPBACK = "127.0.0.1"
SLOTS = 16384
DEFAULT_NODE_TIMEOUT_MS = 2000


@dataclass(frozen=True)
class Primary:
    """One primary of the cluster as CLUSTER NODES shows it."""

    host: str
    port: int
    node_id: str
    slots: tuple[tuple[int, int], ...]


class ClusterError(RuntimeError):
    """The cluster did not form (or not in time); the message carries redis-cli's output."""


def cluster_node_argv(
    binary: str,
    port: int,
    data_dir: Path,
    node_timeout_ms: int = DEFAULT_NODE_TIMEOUT_MS,
    bus_port: int | None = None,
) -> list[str]:
    """redis-server's argv for one cluster node whose files all live in `data_dir`.

    `bus_port` sets the cluster bus port (default: port + 10000). Callers that pick ports
    below Linux's ephemeral range should pick the bus port the same way: port + 10000 can
    land inside that range, where any outgoing connection may already hold it.
    """
    argv = [
        binary,
        *("--port", str(port)),
        *("--bind", LOOPBACK),
        *("--cluster-enabled", "yes"),
        *("--cluster-config-file", str(data_dir / f"nodes-{port}.conf")),
        *("--cluster-node-timeout", str(node_timeout_ms)),
        # A chat's rooms are independent (each room's keys share one hash tag, so one
        # slot): when one shard has lost its primary and its replica, the rooms of the
        # other shards must keep working. With "yes" (Redis' default) every room would
        # stop until that shard comes back.
        *("--cluster-require-full-coverage", "no"),
        # A node that has lost the majority (cluster_state:fail) may be on the minority
        # side of a partition: its rooms are being written elsewhere. Answering reads there
        # would show a stale history and stale presence, so it refuses (-CLUSTERDOWN) and
        # the app retries on the majority side.
        *("--cluster-allow-reads-when-down", "no"),
        # Each primary has one replica here: waiting for more replicas to share a sync
        # (5 s by default) only delays a replica's first sync and every resync after a
        # failover, while its shard has no copy.
        *("--repl-diskless-sync-delay", "0"),
        *("--appendonly", "yes", "--appendfsync", "everysec"),
        *("--save", ""),
        *("--dir", str(data_dir)),
        *("--protected-mode", "yes"),
        *("--daemonize", "no"),
    ]
    if bus_port is not None:
        argv += ["--cluster-port", str(bus_port)]
    return argv


def node_client(port: int, timeout: float = 5.0) -> redis.Redis:
    """A plain (non-cluster) client of one node, for CLUSTER commands about that node."""
    return redis.Redis(
        host=LOOPBACK,
        port=port,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        decode_responses=True,
    )


def cluster_url(ports: Sequence[int]) -> str:
    """The REDIS_URL the app takes: every node as a seed, so any one of them may be down."""
    seeds = ",".join(f"{LOOPBACK}:{port}" for port in ports)
    return f"redis+cluster://{seeds}/0"


def _raw(port: int, *args: str) -> str:
    """One CLUSTER subcommand's raw text answer (redis-py would parse some of them)."""
    with node_client(port) as client:
        answer = client.execute_command("CLUSTER", *args)
    return answer if isinstance(answer, str) else "\n".join(answer)


def cluster_info(port: int) -> dict[str, str]:
    """CLUSTER INFO of one node as a dict of strings."""
    lines = _raw(port, "INFO").splitlines()
    return dict(line.strip().split(":", 1) for line in lines if ":" in line)


@dataclass(frozen=True)
class NodeLine:
    """One line of CLUSTER NODES."""

    node_id: str
    host: str
    port: int
    flags: frozenset[str]
    primary_id: str | None
    connected: bool
    slots: tuple[tuple[int, int], ...]

    @property
    def is_primary(self) -> bool:
        return "master" in self.flags and "fail" not in self.flags

    @property
    def is_replica(self) -> bool:
        return "slave" in self.flags


def _slot_ranges(fields: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """Slot fields of CLUSTER NODES ("0-5460", "7"); importing/migrating ("[...]") skipped."""
    ranges = []
    for field in fields:
        if field.startswith("["):
            continue
        first, _, last = field.partition("-")
        ranges.append((int(first), int(last or first)))
    return tuple(ranges)


def _parse_node_line(line: str) -> NodeLine:
    fields = line.split()
    address = fields[1].split("@", 1)[0]  # ip:port@cport[,hostname]
    host, _, port = address.rpartition(":")
    return NodeLine(
        node_id=fields[0],
        host=host,
        port=int(port),
        flags=frozenset(fields[2].split(",")),
        primary_id=None if fields[3] == "-" else fields[3],
        connected=fields[7] == "connected",
        slots=_slot_ranges(fields[8:]),
    )


def cluster_nodes(port: int) -> list[NodeLine]:
    """The whole topology as the node on `port` sees it."""
    return [_parse_node_line(line) for line in _raw(port, "NODES").splitlines() if line.strip()]


def primaries(port: int) -> list[Primary]:
    """The live primaries that own slots, as seen from the node on `port`, by first slot."""
    found = [
        Primary(node.host, node.port, node.node_id, node.slots)
        for node in cluster_nodes(port)
        if node.is_primary and node.slots
    ]
    return sorted(found, key=lambda primary: primary.slots[0])


def replica_of(primary_port: int) -> int:
    """The port of a replica of the primary on `primary_port` (asked of that primary)."""
    nodes = cluster_nodes(primary_port)
    me = next(node for node in nodes if "myself" in node.flags)
    replicas = [node.port for node in nodes if node.primary_id == me.node_id]
    if not replicas:
        raise ClusterError(f"the primary on {primary_port} has no replica")
    return replicas[0]


def key_slot(key: str, port: int) -> int:
    """The key's hash slot, computed by Redis itself (hash tags included)."""
    with node_client(port) as client:
        return int(client.execute_command("CLUSTER", "KEYSLOT", key))


def node_for_key(key: str, port: int) -> int:
    """The port of the primary serving `key`, as the node on `port` sees the cluster."""
    slot = key_slot(key, port)
    for primary in primaries(port):
        if any(first <= slot <= last for first, last in primary.slots):
            return primary.port
    raise ClusterError(f"slot {slot} of {key!r} is not served (asked {port})")


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll `condition` (errors count as "not yet") until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return True
        except (redis.RedisError, OSError, StopIteration, ClusterError):
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def node_ok(port: int, nodes: int) -> bool:
    """The node sees a healthy cluster: state ok, every slot ok, `nodes` nodes known."""
    info = cluster_info(port)
    return (
        info.get("cluster_state") == "ok"
        and info.get("cluster_slots_ok") == str(SLOTS)
        and info.get("cluster_known_nodes") == str(nodes)
    )


def attached_replicas(port: int, replicas: int) -> list[int] | None:
    """As the node on `port` sees the cluster: the ports of the connected replicas if every
    slot-owning primary has `replicas` of them, else None."""
    nodes = cluster_nodes(port)
    found: list[int] = []
    for primary in (node for node in nodes if node.is_primary and node.slots):
        attached = [n.port for n in nodes if n.primary_id == primary.node_id and n.connected]
        if len(attached) < replicas:
            return None
        found.extend(attached)
    return found


def in_sync(replica_port: int) -> bool:
    with node_client(replica_port) as client:
        return client.info("replication").get("master_link_status") == "up"


def cluster_ready(ports: Sequence[int], replicas: int) -> bool:
    """Every node agrees the cluster is ok and knows every primary's replicas, and every
    replica is in sync. Each node is asked: a primary learns that a node replicates it by
    gossip, a moment after the node that told redis-cli so (ops.replica_of asks the
    primary itself)."""
    for port in ports:
        if not node_ok(port, len(ports)) or attached_replicas(port, replicas) is None:
            return False
    return all(in_sync(port) for port in attached_replicas(ports[0], replicas) or [])


def create_cluster(
    ports: Sequence[int],
    replicas: int = 1,
    timeout: float = 30,
    redis_cli: str = "redis-cli",
) -> None:
    """Form a cluster of the (running, empty) nodes on `ports`; return once it is usable.

    redis-cli returns as soon as slots are assigned, before every node has heard of every
    other and before replicas have synced, so this waits for both: a test that kills a
    primary right away must find a replica ready to take over.
    """
    argv = [
        redis_cli,
        "--cluster",
        "create",
        *(f"{LOOPBACK}:{port}" for port in ports),
        *("--cluster-replicas", str(replicas)),
        "--cluster-yes",
    ]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        hung = f"redis-cli --cluster create hung ({timeout}s):\n{error.stdout!r}"
        raise ClusterError(hung) from None
    output = f"{done.stdout}\n{done.stderr}"
    if done.returncode != 0 or "[OK] All 16384 slots covered" not in done.stdout:
        raise ClusterError(f"redis-cli --cluster create failed ({done.returncode}):\n{output}")
    if not _wait(lambda: cluster_ready(ports, replicas), timeout):
        raise ClusterError(f"cluster on {list(ports)} not ready after {timeout}s:\n{output}")


def _answers_ping(port: int) -> bool:
    with node_client(port, timeout=2.0) as client:
        return bool(client.ping())


def is_fresh(port: int) -> bool:
    """The node has never joined a cluster: it knows only itself and owns no slot."""
    info = cluster_info(port)
    return info.get("cluster_known_nodes") == "1" and info.get("cluster_slots_assigned") == "0"


def form_or_reuse(
    ports: Sequence[int],
    replicas: int = 1,
    timeout: float = 60,
    redis_cli: str = "redis-cli",
) -> bool:
    """Form the cluster of the nodes on `ports`, or wait for the one they already form.

    Returns True when it created the cluster. Nodes restarted on their nodes.conf find each
    other again on their own, so a second `make run` only waits for them; a mix of empty
    and formed nodes is refused (redis-cli would fail, or worse, split the slots).
    """
    if not _wait(lambda: all(_answers_ping(port) for port in ports), timeout):
        raise ClusterError(f"the nodes on {list(ports)} did not answer PING in {timeout}s")
    fresh = [port for port in ports if is_fresh(port)]
    if len(fresh) == len(ports):
        create_cluster(ports, replicas, timeout, redis_cli)
        return True
    if fresh:
        raise ClusterError(
            f"nodes {fresh} are empty while the others on {list(ports)} form a cluster:"
            " delete their data folders (all of them to start over)"
        )
    if not _wait(lambda: cluster_ready(ports, replicas), timeout):
        raise ClusterError(f"the cluster on {list(ports)} is not healthy after {timeout}s")
    return False


def wait_ready(ports: Sequence[int], replicas: int, timeout: float) -> bool:
    """Whether the cluster on `ports` became healthy, replicas in sync, within `timeout`."""
    return _wait(lambda: cluster_ready(ports, replicas), timeout)
