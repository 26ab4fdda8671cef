"""Redis clients from REDIS_URL: a single server, a Sentinel-watched primary, or a Redis
Cluster.

`redis://host:6379/0` connects to that server. With Sentinel,
`redis+sentinel://[:password@]host1:26379,host2:26379/0/<service>` asks the Sentinels
for the current primary, and every new connection asks again, so a failover is followed
without a restart (python-socketio's own URL syntax, so the whole stack shares one URL).
`redis+cluster://[:password@]host1:7000,host2:7001/0` names a few nodes of a Redis
Cluster; the client learns the rest and follows slots as they move or fail over.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from typing import Any

import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.connection import ConnectionPool, parse_url
from redis.sentinel import (
    MasterNotFoundError,
    Sentinel,
    SentinelConnectionPoolProxy,
    SentinelManagedConnection,
)
from socketio.redis_manager import parse_redis_sentinel_url

SENTINEL_SCHEMES = ("redis+sentinel://", "valkey+sentinel://")
# How often a Sentinel-backed pool asks which server is the primary (see check_primary).
PRIMARY_CHECK_SECONDS = 0.5
CLUSTER_SCHEME = "redis+cluster://"


def is_sentinel_url(url: str) -> bool:
    return url.startswith(SENTINEL_SCHEMES)


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEME)


def publish_command(url: str) -> str:
    """How a room's script publishes: sharded pub/sub on a cluster (the room's channel
    lives in the room's slot), classic pub/sub otherwise."""
    return "SPUBLISH" if is_cluster_url(url) else "PUBLISH"


def cluster_nodes(url: str) -> tuple[list[tuple[str, int]], dict[str, Any]]:
    """The seed nodes of a redis+cluster:// URL, and its password/username."""
    rest = url[len(CLUSTER_SCHEME) :]
    auth: dict[str, Any] = {}
    if "@" in rest:
        credentials, rest = rest.rsplit("@", 1)
        username, _, password = credentials.rpartition(":")
        if username:
            auth["username"] = username
        if password:
            auth["password"] = password
    hosts, _, db = rest.partition("/")
    if db.strip("/") not in ("", "0"):
        raise ValueError("a Redis Cluster has only database 0")
    nodes = []
    for part in hosts.split(","):
        host, _, port = part.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"a redis+cluster:// URL lists host:port nodes, not {part!r}")
        nodes.append((host, int(port)))
    return nodes, auth


def _cluster(url: str, pool_class: type[ConnectionPool], **options: Any) -> RedisCluster:
    """A cluster client whose per-node pools are `pool_class` (the first node's URL makes
    redis-py use that class for every node it discovers)."""
    nodes, auth = cluster_nodes(url)
    host, port = nodes[0]
    return RedisCluster(
        url=f"redis://{host}:{port}/0",
        startup_nodes=[ClusterNode(h, p) for h, p in nodes],
        connection_pool_class=pool_class,
        **auth,
        **options,
    )


class MajorityPrimaryProxy(SentinelConnectionPoolProxy):
    """Where the pool's connections go: the primary most answering Sentinels name.

    redis-py takes the first Sentinel that answers, and Sentinels learn of a failover one
    after the other (the leader of a planned failover last, seconds later): the first may
    still name the old primary, which keeps running and acknowledging alone."""

    def get_master_address(self) -> Any:
        address = self._majority()
        if self.is_master and self.master_address != address:
            self.master_address = address
            pool = self.connection_pool_ref()
            if pool is not None:
                pool.disconnect(inuse_connections=False)  # busy ones: dropped on release
        return address

    def _majority(self) -> tuple[str, int]:
        answers: Counter[tuple[str, int]] = Counter()
        manager = self.sentinel_manager
        for sentinel in manager.sentinels:
            try:
                state = sentinel.sentinel_masters().get(self.service_name)
            except (redis.ConnectionError, redis.TimeoutError):
                continue
            if state and manager.check_master_state(state, self.service_name):
                answers[(str(state["ip"]), int(state["port"]))] += 1
        if answers:
            address, votes = answers.most_common(1)[0]
            if votes * 2 > sum(answers.values()):
                return address
        raise MasterNotFoundError(f"no majority of Sentinels names a primary: {dict(answers)}")


class BlockingSentinelPool(redis.BlockingConnectionPool):
    """A blocking pool (waits past its size instead of failing) whose connections go to
    the primary a majority of Sentinels names when they connect, checked again every
    PRIMARY_CHECK_SECONDS while they stay open."""

    def __init__(self, service_name: str, sentinel: Sentinel, **kwargs: Any) -> None:
        kwargs.setdefault("connection_class", SentinelManagedConnection)
        self.is_master = True
        self.check_connection = False
        self.service_name = service_name
        self.sentinel_manager = sentinel
        self.proxy = MajorityPrimaryProxy(
            connection_pool=self,
            is_master=True,
            check_connection=False,
            service_name=service_name,
            sentinel_manager=sentinel,
        )
        super().__init__(**kwargs)
        self.connection_kwargs["connection_pool"] = self.proxy
        self._next_check = 0.0
        self._checking = False

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        self.check_primary()
        return super().get_connection(*args, **kwargs)

    def check_primary(self) -> None:
        """Have Sentinel asked for the primary at most every PRIMARY_CHECK_SECONDS, off the
        caller's path (a frozen Sentinel must not stall a message); on a change the proxy
        drops the connections to the old primary (idle ones now, busy ones on release).

        A planned failover (SENTINEL FAILOVER) or a partition leaves the old primary up:
        connections to it never fail, so without this the worker keeps writing there until
        Sentinel turns it into a replica, 10-16 s later, and whatever it acknowledged in
        between (alone: its replicas have left it) is dropped (test_sentinel_wait.py)."""
        now = time.monotonic()
        if now < self._next_check or self._checking:
            return
        self._next_check = now + PRIMARY_CHECK_SECONDS
        self._checking = True
        threading.Thread(target=self._ask_sentinels, name="sentinel-primary", daemon=True).start()

    def _ask_sentinels(self) -> None:
        try:
            # No Sentinel (or no majority of them) answering: keep the connections there are.
            with contextlib.suppress(redis.RedisError):
                self.proxy.get_master_address()
        finally:
            self._checking = False

    def reset(self) -> None:
        super().reset()
        if hasattr(self, "proxy"):
            self.proxy.reset()

    @property
    def master_address(self) -> Any:
        return self.proxy.master_address

    def get_master_address(self) -> Any:
        return self.proxy.get_master_address()

    def owns_connection(self, connection: Any) -> bool:
        return bool(
            self.master_address == (connection.host, connection.port)
            and super().owns_connection(connection)
        )


def _sentinel(url: str, options: dict[str, Any]) -> tuple[Sentinel, str, dict[str, Any]]:
    sentinels, service, auth = parse_redis_sentinel_url(url)
    if not service:
        raise ValueError("a redis+sentinel:// URL must end with /<db>/<service name>")
    timeouts = {k: v for k, v in options.items() if k.startswith("socket_")}
    return Sentinel(sentinels, sentinel_kwargs=timeouts, **timeouts), service, auth


def blocking_client(url: str, max_connections: int, timeout: float, **options: Any) -> Any:
    """A client on a blocking pool of `max_connections` (see store.make_redis); on a
    cluster, a blocking pool of that size per node."""
    if is_cluster_url(url):
        options.pop("health_check_interval", None)
        return _cluster(
            url,
            redis.BlockingConnectionPool,
            max_connections=max_connections,
            timeout=timeout,
            **options,
        )
    if not is_sentinel_url(url):
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=timeout, **options
        )
        return redis.Redis(connection_pool=pool)
    sentinel, service, auth = _sentinel(url, options)
    pool = BlockingSentinelPool(
        service, sentinel, max_connections=max_connections, timeout=timeout, **auth, **options
    )
    return redis.Redis(connection_pool=pool)


def plain_client(url: str, **options: Any) -> Any:
    """A client on redis-py's default pool (a pub/sub listener, a blocking RQ worker)."""
    if is_cluster_url(url):
        options.pop("health_check_interval", None)
        return _cluster(url, ConnectionPool, **options)
    if not is_sentinel_url(url):
        return redis.Redis.from_url(url, **options)
    sentinel, service, auth = _sentinel(url, options)
    return sentinel.master_for(service, **auth, **options)


def primary_address(url: str) -> tuple[str, int, dict[str, Any]]:
    """(host, port, auth) of the server a URL names — Sentinel asked for the primary; on a
    cluster, its first seed node (classic pub/sub reaches every node of a cluster)."""
    if is_cluster_url(url):
        nodes, auth = cluster_nodes(url)
        return nodes[0][0], nodes[0][1], auth
    if is_sentinel_url(url):
        sentinel, service, auth = _sentinel(url, {"socket_timeout": 2.0})
        host, port = sentinel.discover_master(service)
        return str(host), int(port), auth
    options = parse_url(url)
    auth = {k: options[k] for k in ("username", "password") if options.get(k)}
    return str(options.get("host", "localhost")), int(options.get("port", 6379)), auth
