"""Prometheus metrics of a chat worker, named talkrooms_<thing>_<unit>.

Each worker process serves its own registry on its own private `/metrics`; Prometheus
scrapes every worker and sums in PromQL (see README, "Metrics"). No label ever carries a
room or user name: label values come from small fixed sets.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from talkrooms.protocol import INVALID, NAME_TAKEN, NOT_IN_ROOM, RATE_LIMITED, UNAVAILABLE

LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)

CONNECTIONS = Gauge("talkrooms_connections_current", "Socket.IO connections open on this worker")
CONNECTIONS_TOTAL = Counter(
    "talkrooms_connections_total", "Socket.IO connections accepted by this worker"
)
CONNECTIONS_REFUSED = Counter(
    "talkrooms_connections_refused_total", "Connections refused", ["reason"]
)
JOINED = Gauge("talkrooms_joined_connections", "Connections of this worker that are in a room")
EVENTS = Counter("talkrooms_events_total", "Socket.IO events received, by event", ["event"])

MESSAGES_RECEIVED = Counter("talkrooms_messages_received_total", "send_message events received")
MESSAGES_STORED = Counter(
    "talkrooms_messages_stored_total",
    "Messages stored and broadcast (the store script publishes in the same call)",
)
MESSAGES_REJECTED = Counter(
    "talkrooms_messages_rejected_total", "send_message events refused, by reason", ["reason"]
)
ROOM_EVENTS = Counter(
    "talkrooms_room_events_total",
    "Protocol 2 events on messages (edit, delete, reaction, read), by outcome",
    ["kind", "outcome"],
)
DELIVERIES_LOCAL = Counter(
    "talkrooms_deliveries_total", "new_message packets handed to this worker's sockets"
)
REMOTE_MESSAGES = Counter(
    "talkrooms_remote_messages_total", "new_message frames received from other workers"
)
RATE_LIMIT_HITS = Counter("talkrooms_rate_limit_hits_total", "Rate-limit refusals", ["kind"])
AUTOMOD_ACTIONS = Counter(
    "talkrooms_automod_actions_total",
    "Messages automatic moderation acted on, by rule and action",
    ["rule", "action"],
)
REPORTS = Counter("talkrooms_reports_total", "Messages reported to a room's moderators")
ACK_LATENCY = Histogram(
    "talkrooms_ack_latency_seconds",
    "send_message received -> stored -> ack sent",
    buckets=LATENCY_BUCKETS,
)
FANOUT_LATENCY = Histogram(
    "talkrooms_fanout_latency_seconds",
    "Message stored (its timestamp) -> handed to the sockets of a remote worker",
    buckets=LATENCY_BUCKETS,
)
BATCH_SIZE = Histogram(
    "talkrooms_store_batch_size",
    "Messages stored per Redis pipeline (group commit)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
REDIS_LATENCY = Histogram(
    "talkrooms_redis_latency_seconds",
    "Redis round trips, by operation",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
GC_PAUSE = Histogram(
    "talkrooms_gc_pause_seconds",
    "Garbage collections (the event loop stands still meanwhile), by generation",
    ["generation"],
    buckets=LATENCY_BUCKETS,
)
REDIS_ERRORS = Counter(
    "talkrooms_redis_errors_total", "Redis commands that failed, by operation", ["operation"]
)


# Label values come from fixed sets; creating them up front makes every series exist
# (at 0) from the first scrape, so rate() and the dashboard see "no errors" as 0.
REDIS_OPERATIONS = ("store_message", "join", "event", "room_event", "snapshot")
REJECT_REASONS = (INVALID, NOT_IN_ROOM, NAME_TAKEN, RATE_LIMITED, UNAVAILABLE)
RATE_LIMIT_KINDS = ("message", "join", "report")
REFUSAL_REASONS = ("per_address_limit",)

for _operation in REDIS_OPERATIONS:
    REDIS_ERRORS.labels(operation=_operation)
for _reason in REJECT_REASONS:
    MESSAGES_REJECTED.labels(reason=_reason)
for _kind in RATE_LIMIT_KINDS:
    RATE_LIMIT_HITS.labels(kind=_kind)
for _refusal in REFUSAL_REASONS:
    CONNECTIONS_REFUSED.labels(reason=_refusal)
for _generation in ("0", "1", "2"):
    GC_PAUSE.labels(generation=_generation)
for _room_event in ("edit", "delete", "reaction"):
    ROOM_EVENTS.labels(kind=_room_event, outcome="applied")

_TIMESTAMP_FIELD = '"timestamp":"'
_NEW_MESSAGE_PACKET = '2["new_message",'
_TIMESTAMP_LENGTH = len("2026-11-25T14:03:07.412")


class FanoutObserver:
    """Fan-out latency of remote messages: message timestamp -> handed to local sockets.

    Installed as broadcast.TalkroomsRedisManager.on_remote_message, so it runs once per
    frame from another worker, after delivery. It costs a substring search and, once per
    second of timestamps, a strptime: the timestamp is made on the sender's worker when
    the message arrived, with millisecond resolution (clocks of one host, or NTP-close).
    Inside message text a quote is always escaped, so the first unescaped
    `"timestamp":"` is the message's own field.
    """

    def __init__(self, manager: Any) -> None:
        # python-socketio's manager.rooms: namespace -> room -> {sid: eio_sid}
        self.manager = manager
        self._second_text = ""
        self._second_epoch = 0.0

    def __call__(self, socket_room: str, packet: str) -> None:
        REMOTE_MESSAGES.inc()
        rooms: Mapping[str, Mapping[str, Any]] = self.manager.rooms
        local = rooms.get("/", {}).get(socket_room)
        if not local:
            return
        DELIVERIES_LOCAL.inc(len(local))
        if not packet.startswith(_NEW_MESSAGE_PACKET):
            # A room_event: its message's timestamp is when the message was sent, not now.
            return
        start = packet.find(_TIMESTAMP_FIELD)
        if start < 0:
            return
        start += len(_TIMESTAMP_FIELD)
        stamp = packet[start : start + _TIMESTAMP_LENGTH]
        try:
            sent = self._epoch_seconds(stamp[:19]) + int(stamp[20:23]) / 1000
        except ValueError:
            return
        FANOUT_LATENCY.observe(max(0.0, time.time() - sent))

    def _epoch_seconds(self, text: str) -> float:
        if text != self._second_text:
            parsed = time.strptime(text, "%Y-%m-%dT%H:%M:%S")
            self._second_epoch = float(calendar.timegm(parsed))
            self._second_text = text
        return self._second_epoch


# -- this worker's numbers for /api/stats (read from the same metric objects) ------------


def _samples(metric: Any, suffix: str = "") -> dict[tuple[str, ...], float]:
    """label values -> value of one metric's samples named <metric name><suffix>."""
    values: dict[tuple[str, ...], float] = {}
    for family in metric.collect():
        for sample in family.samples:
            if sample.name == family.name + suffix:
                values[tuple(sample.labels.values())] = sample.value
    return values


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """PromQL's histogram_quantile over cumulative (upper bound, count) pairs."""
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            if count == below:
                return upper
            return lower + (upper - lower) * (rank - below) / (count - below)
        lower, below = upper, count
    return lower


def histogram_summary(histogram: Histogram) -> dict[str, Any]:
    """count, sum and estimated p50/p99 (seconds) of an unlabelled histogram."""
    buckets: list[tuple[float, float]] = []
    count = total = 0.0
    for family in histogram.collect():
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                buckets.append((float(sample.labels["le"]), sample.value))
            elif sample.name.endswith("_count"):
                count = sample.value
            elif sample.name.endswith("_sum"):
                total = sample.value
    buckets.sort()
    p50, p99 = bucket_quantile(0.5, buckets), bucket_quantile(0.99, buckets)
    return {
        "count": int(count),
        "sum_seconds": round(total, 6),
        "p50_seconds": None if p50 is None else round(p50, 6),
        "p99_seconds": None if p99 is None else round(p99, 6),
    }


def worker_summary() -> dict[str, Any]:
    """This worker's own counters, the numbers its /metrics shows (for /api/stats)."""

    def single(metric: Any, suffix: str = "") -> int:
        return int(sum(_samples(metric, suffix).values()))

    def by_label(metric: Any) -> dict[str, int]:
        return {k[0]: int(v) for k, v in sorted(_samples(metric, "_total").items())}

    return {
        "connections_current": single(CONNECTIONS),
        "connections_total": single(CONNECTIONS_TOTAL, "_total"),
        "joined_connections": single(JOINED),
        "messages": {
            "received_total": single(MESSAGES_RECEIVED, "_total"),
            "stored_total": single(MESSAGES_STORED, "_total"),
            "rejected_total": by_label(MESSAGES_REJECTED),
            "remote_total": single(REMOTE_MESSAGES, "_total"),
            "deliveries_total": single(DELIVERIES_LOCAL, "_total"),
        },
        "rate_limit_hits_total": by_label(RATE_LIMIT_HITS),
        "redis_errors_total": by_label(REDIS_ERRORS),
        "ack_latency": histogram_summary(ACK_LATENCY),
        "fanout_latency": histogram_summary(FANOUT_LATENCY),
    }


SLOW_CONSUMERS_DROPPED = Counter(
    "talkrooms_slow_consumers_dropped_total",
    "Clients disconnected because packets piled up unread (max_queued_packets)",
)

# Files (files/service.py) and their cleanup (jobs/cleanup.py).
FILES_UPLOADED = Counter("talkrooms_files_uploaded_total", "Files stored, by kind", ["kind"])
FILE_BYTES_UPLOADED = Counter(
    "talkrooms_file_bytes_uploaded_total", "Bytes stored for uploads (every variant)"
)
FILES_REFUSED = Counter("talkrooms_files_refused_total", "Uploads refused, by code", ["code"])
for _file_kind in ("image", "file"):
    FILES_UPLOADED.labels(kind=_file_kind)
