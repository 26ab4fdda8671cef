"""A sender that keeps sending through a Redis failover, as a client's outbox does: each
message until acknowledged, the same client_id on every try (tests of Redis Cluster and
Sentinel failovers with REDIS_WAIT_REPLICAS)."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter

from tests.support.client import ChatClient

MESSAGES = 90  # under HISTORY_LIMIT (100): the whole run stays in the history
RETRY_PAUSE_SECONDS = 0.1
SEND_DEADLINE_SECONDS = 90
MAX_TRIES = 600  # per message: 60 s of refusals at the retry pause


class AckingSender:
    """Sends `messages` messages one after the other from a thread, each until
    acknowledged (bounded in tries and time), and notes when each was acknowledged and
    what the refusals said."""

    def __init__(self, client: ChatClient, messages: int = MESSAGES, pace: float = 0.0) -> None:
        self.client = client
        self.messages = messages
        self.pace = pace  # seconds between acknowledged messages
        self.acked: dict[str, str] = {}  # client_id -> message id, in sending order
        self.acked_at: list[float] = []
        self.refusals: Counter[str] = Counter()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + SEND_DEADLINE_SECONDS
        for n in range(self.messages):
            client_id = f"s{n}-{uuid.uuid4().hex[:8]}"
            if not self._send_until_acked(n, client_id, deadline):
                return
            time.sleep(self.pace)

    def _send_until_acked(self, n: int, client_id: str, deadline: float) -> bool:
        for _ in range(MAX_TRIES):
            if time.monotonic() > deadline:
                return False
            try:
                answer = self.client.send(f"through the failover {n}", client_id=client_id)
            except Exception as exc:  # the ack timed out: the same as a refusal
                answer = {"ok": False, "code": type(exc).__name__}
            if answer.get("ok"):
                self.acked[client_id] = answer["message"]["id"]
                self.acked_at.append(time.monotonic())
                return True
            self.refusals[str(answer.get("code") or answer.get("error"))] += 1
            # A client's pause before sending again, as the web client's outbox does:
            # nothing tells a client when the failover is over.
            time.sleep(RETRY_PAUSE_SECONDS)
        return False

    def longest_pause_after(self, moment: float) -> float:
        """The longest time without an acknowledgement from `moment` on."""
        after = [moment] + [t for t in self.acked_at if t > moment]
        return max(b - a for a, b in itertools.pairwise(after))
