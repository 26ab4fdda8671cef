"""Prometheus metrics of a chat worker, named talkrooms_<thing>_<unit>.

Each worker process serves its own registry on its own private `/metrics`; Prometheus
scrapes every worker and sums in PromQL (see README, "Metrics"). No label ever carries a
room or user name: label values come from small fixed sets.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
MESSAGES_STORED = Counter("talkrooms_messages_stored_total", "Messages stored and broadcast")
MESSAGES_REJECTED = Counter(
    "talkrooms_messages_rejected_total", "send_message events refused, by reason", ["reason"]
)
DELIVERIES_LOCAL = Counter(
    "talkrooms_deliveries_total", "new_message packets handed to this worker's sockets"
)
RATE_LIMIT_HITS = Counter("talkrooms_rate_limit_hits_total", "Rate-limit refusals", ["kind"])
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
REDIS_ERRORS = Counter(
    "talkrooms_redis_errors_total", "Redis commands that failed, by operation", ["operation"]
)
