"""The Redis part of /api/stats and /metrics: one server's INFO, or every node of a cluster.

On a Redis Cluster the app's client answers INFO from a single node, which says nothing
about the other shards (their memory, clients, load) nor whether a node is down. Here each
node that CLUSTER NODES lists is asked on its own connection; the section keeps the
single-Redis fields as cluster totals (dashboards and alerts read the same names) and adds
one entry per node. A node that does not answer is listed as down instead of failing the
whole report: that is exactly when operators look at it.
"""

from __future__ import annotations

from typing import Any

from redis.cluster import RedisCluster
from redis.exceptions import RedisError

from talkrooms.storage.store import Store, redis_info_fields

# Summed over every node: each node's memory, clients and commands are its own.
SUMMED_OVER_NODES = ("used_memory_bytes", "connected_clients", "ops_per_sec")


def redis_section(store: Store) -> dict[str, Any]:
    """The single server's figures (unchanged), or the cluster's nodes and totals."""
    if isinstance(store.redis, RedisCluster):
        return cluster_section(store.redis)
    return store.redis_info()


def cluster_section(client: RedisCluster) -> dict[str, Any]:
    """Per-node figures, totals and the cluster's state, from every node's INFO."""
    topology = client.cluster_nodes()
    figures = [node_figures(client, address, flags) for address, flags in _nodes(topology)]
    up = [entry for entry in figures if entry["up"]]
    primaries = [entry for entry in up if entry["role"] == "primary"]
    section: dict[str, Any] = {
        "mode": "cluster",
        "version": ",".join(sorted({str(entry["version"]) for entry in up})) or None,
        **{name: sum(int(entry[name] or 0) for entry in up) for name in SUMMED_OVER_NODES},
        # A replica holds copies of its primary's keys: count each key once.
        "keys": sum(int(entry["keys"]) for entry in primaries),
        "uptime_seconds": min((int(entry["uptime_seconds"] or 0) for entry in up), default=0),
        "cluster": {
            "state": "ok" if up and all(e["cluster_state"] == "ok" for e in up) else "fail",
            # Answering nodes by role; a failed primary's replica is a primary by now.
            "primaries": len(primaries),
            "replicas": len(up) - len(primaries),
            "down": len(figures) - len(up),
        },
        "nodes": figures,
    }
    section["used_memory_human"] = human_bytes(section["used_memory_bytes"])
    return section


def _nodes(topology: dict[str, Any]) -> list[tuple[str, str]]:
    """(address, flags) of every node CLUSTER NODES lists, failed ones included, by
    address; the client's own slot map may lack replicas it never needed."""
    nodes = []
    for address, entry in topology.items():
        host, _, port = address.rpartition(":")
        if host and port.isdigit():
            nodes.append(((host, int(port)), address, str(entry.get("flags", ""))))
    return [(address, flags) for _, address, flags in sorted(nodes)]


def node_figures(client: RedisCluster, address: str, flags: str) -> dict[str, Any]:
    """One node's address, role and the single-Redis fields, or `up: False`."""
    marks = flags.split(",")
    entry: dict[str, Any] = {
        "address": address,
        "role": "primary" if "master" in marks else "replica",
    }
    if "fail" in marks:
        return {**entry, "up": False, "error": "the cluster marks this node as failed"}
    host, _, port = address.rpartition(":")
    known = client.get_node(node_name=address)
    connection = known.redis_connection if known is not None else None
    temporary = connection is None
    if connection is None:
        manager = client.nodes_manager
        connection = manager.create_redis_node(host, int(port), **manager.connection_kwargs)
    try:
        info = connection.info()
        keys = int(connection.dbsize())
        state = _state_of(connection.execute_command("CLUSTER INFO"))
    except RedisError as exc:
        return {**entry, "up": False, "error": str(exc)}
    finally:
        if temporary:
            # A client on a given pool leaves the pool open on close(): close its sockets.
            connection.connection_pool.disconnect()
    return {**entry, "up": True, **redis_info_fields(info, keys), "cluster_state": state}


def _state_of(reply: Any) -> str:
    """cluster_state from CLUSTER INFO, whether redis-py parsed it (a dict) or not."""
    if isinstance(reply, dict):
        state = reply.get("cluster_state", "")
        return state.decode() if isinstance(state, bytes) else str(state)
    text = reply.decode() if isinstance(reply, bytes) else str(reply)
    for line in text.splitlines():
        if line.startswith("cluster_state:"):
            return line.split(":", 1)[1].strip()
    return ""


def human_bytes(size: int) -> str:
    """Bytes the way Redis' used_memory_human writes them (B, K, M, G; two decimals)."""
    amount = float(size)
    for unit in ("B", "K", "M", "G"):
        if amount < 1024 or unit == "G":
            return f"{amount:.2f}{unit}" if unit != "B" else f"{int(amount)}B"
        amount /= 1024
    return f"{amount:.2f}G"
