"""Every Redis key name of TalkRooms, built from the configured prefix (the layout is in
storage/store.py's docstring).

A room's keys carry the room as a hash tag (`tr:room:{lobby}:messages`) and a worker's as
its id (`tr:worker:{w1}:conns`): on a Redis Cluster every key of one room, or of one worker,
lives in one slot, so each script, transaction and pipeline of a room runs on one shard.
The site-wide keys (rooms index, workers registry, stats) are each their own slot and are
only ever written by commands of their own, never inside a room's script.
"""

from __future__ import annotations

LAYOUT_VERSION = "2"


class Keys:
    """Builds every key name from the configured prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.rooms = f"{prefix}:rooms"
        self.workers = f"{prefix}:workers"
        self.stats = f"{prefix}:stats"
        self.layout = f"{prefix}:layout"

    def room(self, room: str, part: str) -> str:
        return f"{self.prefix}:room:{{{room}}}:{part}"

    def worker_conns(self, worker_id: str) -> str:
        return f"{self.prefix}:worker:{{{worker_id}}}:conns"

    def worker_info(self, worker_id: str) -> str:
        return f"{self.prefix}:worker:{{{worker_id}}}:info"

    def room_pattern(self) -> str:
        return f"{self.prefix}:room:*"

    def worker_conns_pattern(self) -> str:
        return f"{self.prefix}:worker:*:conns"

    def all_pattern(self) -> str:
        return f"{self.prefix}:*"

    def job_state(self, job: str) -> str:
        return f"{self.prefix}:jobs:{job}"

    def job_slot(self, job: str) -> str:
        return f"{self.prefix}:jobs:{job}:slot"

    def job_lock(self, job: str) -> str:
        return f"{self.prefix}:jobs:{job}:lock"

    @property
    def reserved_names(self) -> str:
        """The name identities registered accounts hold: guests may not take them."""
        return f"{self.prefix}:accounts:names"

    def upload_attempts(self, scope: str, subject: str) -> str:
        """Uploads counted per person or per address in one rate-limit window."""
        return f"{self.prefix}:uploads:{scope}:{subject}"

    def auth_attempts(self, action: str, scope: str, subject: str) -> str:
        """Attempts at `action` (login, register) by one address or account name."""
        return f"{self.prefix}:auth:{action}:{scope}:{subject}"

    def parse_room_key(self, key: str) -> tuple[str, str] | None:
        """`tr:room:{<room>}:<part>` -> (room, part); None for any other key."""
        head = f"{self.prefix}:room:{{"
        if not key.startswith(head):
            return None
        room, sep, part = key[len(head) :].partition("}:")
        return (room, part) if sep and room and part else None

    def parse_worker_conns_key(self, key: str) -> str | None:
        """`tr:worker:{<id>}:conns` -> id; None for any other key."""
        head, tail = f"{self.prefix}:worker:{{", "}:conns"
        if key.startswith(head) and key.endswith(tail) and len(key) > len(head) + len(tail):
            return key[len(head) : -len(tail)]
        return None

    # -- the layout before hash tags (for the one-time rename, storage/layout.py) ---------

    def old_room_key(self, key: str) -> tuple[str, str] | None:
        """`tr:room:<room>:<part>` (no braces) -> (room, part)."""
        head = f"{self.prefix}:room:"
        if not key.startswith(head) or key.startswith(head + "{"):
            return None
        room, sep, part = key[len(head) :].rpartition(":")
        return (room, part) if sep and room and part else None
