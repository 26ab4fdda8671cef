"""The message-queue listener on a Redis Cluster: sharded pub/sub, one link per primary.

A room's channel carries the room as its hash tag (room_channels.py), so it lives in the
slot of the room's keys and the room's scripts SPUBLISH to it on their own shard. A worker
holds one SSUBSCRIBE link to every primary and subscribes each room's channel on the
primary owning its slot; the shared channel is a classic SUBSCRIBE (a classic PUBLISH
reaches every node of a cluster). Every link feeds the same dispatch, each on its own
greenlet; a room's frames all come through one link, in order.

When any link drops or answers MOVED (a failover, a slot moved), every link is closed,
the topology read again, and everything subscribed again where it now lives; the caller's
resync fills what was published meanwhile.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import gevent

from talkrooms.realtime.room_channels import RoomChannels
from talkrooms.realtime.subscriber import RawSubscriber, pump
from talkrooms.storage.redis_clients import plain_client

Node = tuple[str, int]


class ClusterListener:
    """One pass of the listener: links opened, frames pumped until one link fails."""

    def __init__(self, url: str, channels: RoomChannels, dispatch: Callable[[bytes], None]) -> None:
        self.url = url
        self.channels = channels
        self.dispatch = dispatch
        self.links: dict[Node | None, RawSubscriber] = {}
        self._owner: Callable[[str], Node] = lambda _channel: ("", 0)

    def open(self) -> None:
        """Read the topology and subscribe every wanted channel where it lives."""
        cluster = plain_client(self.url, socket_timeout=5, socket_connect_timeout=2)
        try:
            primaries = [(n.host, n.port) for n in cluster.get_primaries()]

            def owner(channel: str) -> Node:
                node = cluster.get_node_from_key(channel)
                return (node.host, node.port)

            wanted = self.channels.wanted()
            shared, rooms = wanted[0], wanted[1:]
            by_node: dict[Node, list[str]] = {node: [] for node in primaries}
            for channel in rooms:
                by_node.setdefault(owner(channel), []).append(channel)
            confirm = self.channels.confirmed
            # The shared channel on a primary the topology just named (a classic PUBLISH
            # reaches every node), not on a seed node that may be the one that died.
            self.links = {
                None: RawSubscriber(self.url, [shared], on_confirm=confirm, address=primaries[0])
            }
            for node, names in by_node.items():
                self.links[node] = RawSubscriber(
                    self.url, names, on_confirm=confirm, sharded=True, address=node
                )
            for link in self.links.values():
                link.open()
            self._owner = owner
            self.channels.attach(self._command, wanted)
        except Exception:
            self.close()
            raise
        finally:
            with contextlib.suppress(Exception):
                cluster.close()

    def _command(self, verb: bytes, names: list[bytes]) -> None:
        """Room channels' (un)subscriptions, each on the link of its slot's primary."""
        for name in names:
            link = self.links.get(self._owner(name.decode()))
            if link is None:
                raise ConnectionError("no link to the primary of a room's slot")
            link.command(verb, [name])

    def pump(self) -> None:
        """Dispatch frames from every link until one of them fails; raises ConnectionError."""
        greenlets = [gevent.spawn(pump, link, self.dispatch) for link in self.links.values()]
        try:
            done = gevent.wait(greenlets, count=1)
            failed = next(iter(done))
            raise ConnectionError(f"a pub/sub link dropped: {failed.exception}")
        finally:
            gevent.killall(greenlets, block=False)

    def close(self) -> None:
        self.channels.detach()
        for link in self.links.values():
            with contextlib.suppress(Exception):
                link.close()
        self.links = {}
