"""The one-time rename of a Redis written before hash tags (`tr:room:lobby:messages`)
to the current layout (`tr:room:{lobby}:messages`, storage/keys.py).

Every process that uses the store runs `upgrade_layout` at start: the first takes a lock,
renames with SCAN and RENAMENX (a key of the new name already there wins, the old one is
left for the cleanup job's retention), and writes `tr:layout`; the others find the mark
and return at once. Stop the workers of the older version before starting the new ones:
an old worker still running writes keys of the old names, which nobody reads any more.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.cluster import RedisCluster

from talkrooms.storage.keys import LAYOUT_VERSION, Keys

log = logging.getLogger("talkrooms.storage.layout")

LOCK_SECONDS = 300
SCAN_COUNT = 1000


def upgrade_layout(client: Any, keys: Keys, wait_seconds: float = 60.0) -> int:
    """Rename old-layout keys once per Redis; returns how many this call renamed."""
    if _current(client, keys):
        return 0
    if isinstance(client, RedisCluster):
        # A cluster starts with this layout: moving a single Redis's data into a cluster
        # is a copy (docs/deployment.md), not a rename (old and new names are in
        # different slots).
        client.set(keys.layout, LAYOUT_VERSION)
        return 0
    lock = f"{keys.layout}:lock"
    deadline = time.monotonic() + wait_seconds
    while not client.set(lock, "1", nx=True, ex=LOCK_SECONDS):
        if _current(client, keys):
            return 0
        if time.monotonic() > deadline:
            raise TimeoutError("another process holds the key layout upgrade")
        time.sleep(0.2)
    try:
        if _current(client, keys):
            return 0
        renamed = _rename_all(client, keys)
        client.set(keys.layout, LAYOUT_VERSION)
        if renamed:
            log.warning("renamed Redis keys to the hash-tagged layout", extra={"keys": renamed})
        return renamed
    finally:
        client.delete(lock)


def _current(client: Any, keys: Keys) -> bool:
    value = client.get(keys.layout)
    return value is not None and value.decode() == LAYOUT_VERSION


def _rename_all(client: Any, keys: Keys) -> int:
    renamed = 0
    for pattern, new_name in (
        (keys.room_pattern(), lambda k: _new_room_key(keys, k)),
        (f"{keys.prefix}:worker:*", lambda k: _new_worker_key(keys, k)),
    ):
        cursor = 0
        while True:
            cursor, found = client.scan(cursor=cursor, match=pattern, count=SCAN_COUNT)
            moves = [(k.decode(), new) for k in found if (new := new_name(k.decode()))]
            if moves:
                pipe = client.pipeline(transaction=False)
                for old, new in moves:
                    pipe.renamenx(old, new)
                renamed += sum(1 for done in pipe.execute(raise_on_error=False) if done is True)
            if cursor == 0:
                break
    return renamed


def _new_room_key(keys: Keys, key: str) -> str | None:
    parsed = keys.old_room_key(key)
    return keys.room(*parsed) if parsed else None


def _new_worker_key(keys: Keys, key: str) -> str | None:
    head = f"{keys.prefix}:worker:"
    rest = key[len(head) :]
    if rest.startswith("{"):
        return None
    worker, sep, part = rest.rpartition(":")
    if not sep or part not in ("conns", "info"):
        return None
    return keys.worker_conns(worker) if part == "conns" else keys.worker_info(worker)
