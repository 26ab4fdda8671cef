"""Group commit: what arrives during one turn of the gevent loop is stored together.

Socket reader greenlets queue validated work here and return at once; a single flusher
greenlet takes the whole queue, hands it to `flush` (one Redis pipeline), and repeats until
nothing waits. One batch at a time keeps each sender's order across batches. Used by the
message path and by protocol 2's events on messages (shared/NOTES.md: a pipeline of n
calls costs a fraction of n round trips).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import gevent

Item = TypeVar("Item")


class GroupCommit(Generic[Item]):
    """A queue drained in batches by one flusher greenlet."""

    def __init__(self, flush: Callable[[list[Item]], None]) -> None:
        self.flush = flush
        self.batch: list[Item] = []
        self.flusher: gevent.Greenlet | None = None

    def add(self, item: Item) -> None:
        self.batch.append(item)
        if self.flusher is None:
            self.flusher = gevent.spawn(self._flush_forever)

    def _flush_forever(self) -> None:
        """Flush batches until none is waiting; only one flusher runs at a time."""
        try:
            while self.batch:
                batch, self.batch = self.batch, []
                self.flush(batch)
        finally:
            self.flusher = None
