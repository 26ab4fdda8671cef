"""When each person was first seen in each room on this worker, for the links rule.

Remembered while the person is in the room here (over any number of connections) and for
RECONNECT_GRACE_SECONDS after their last connection left it, so that a reconnect does not
make a regular a newcomer again. Kept for longer, every visitor of a busy site stayed in
memory for good: the 30-minute soak's workers grew by a few MB every 10 minutes
(loadtests/visit_memory.py found it).
"""

from __future__ import annotations

import time

RECONNECT_GRACE_SECONDS = 300.0
# Bounds the people who left within the grace (a join flood); the oldest go first.
LEFT_MAX = 50_000

Key = tuple[str, str]  # (room, the person's author token or identity)


class FirstSeen:
    """First-seen times of the people in rooms here, and of those who just left."""

    def __init__(self, grace: float = RECONNECT_GRACE_SECONDS, left_max: int = LEFT_MAX) -> None:
        self.grace = grace
        self.left_max = left_max
        # key -> [first seen, memberships open on this worker]
        self._present: dict[Key, list[float]] = {}
        # key -> (first seen, when the last membership ended), oldest departure first
        self._left: dict[Key, tuple[float, float]] = {}

    def joined(self, key: Key) -> float:
        """A membership begins: when the person was first seen (now, if not known)."""
        entry = self._present.get(key)
        if entry is not None:
            entry[1] += 1
            return entry[0]
        now = time.monotonic()
        self._expire(now)
        before = self._left.pop(key, None)
        first = before[0] if before is not None else now
        self._present[key] = [first, 1]
        return first

    def left(self, key: Key) -> None:
        """A membership ended; with the person's last one here the grace begins."""
        entry = self._present.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del self._present[key]
        now = time.monotonic()
        self._left[key] = (entry[0], now)
        self._expire(now)

    def _expire(self, now: float) -> None:
        left = self._left
        while left:
            key = next(iter(left))
            if now - left[key][1] < self.grace and len(left) <= self.left_max:
                return
            del left[key]

    def __len__(self) -> int:
        return len(self._present) + len(self._left)
