"""The one settings object of TalkRooms, read from the environment and `.env`.

Entry points (the WSGI module, the CLI, the RQ worker) construct it once and pass it
down; nothing else reads the environment, so tests can build any configuration they need.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Mapping
from functools import cached_property
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me-talkrooms-dev-secret"
DEFAULT_JWT_SECRET = "change-me-talkrooms-dev-jwt-secret"
# Relative to the working directory: `make run` (and the CLI) start in the repository, whose
# run/ folder holds the stack's data; ops/stack.py passes its own absolute path to workers.
DEFAULT_DATABASE_URL = "sqlite:///run/talkrooms.db"

_RATE_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*$")


class RateLimit:
    """`count` events per `window` seconds; `count == 0` switches the limit off."""

    def __init__(self, count: int, window: float) -> None:
        self.count = count
        self.window = window

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Parse `"10/5"` (10 per 5 s) or `"0"` (off)."""
        if text.strip() == "0":
            return cls(0, 1.0)
        match = _RATE_PATTERN.match(text)
        if not match or float(match.group(2)) <= 0:
            raise ValueError(f"rate limit must look like '10/5' or '0', got {text!r}")
        return cls(int(match.group(1)), float(match.group(2)))

    @property
    def enabled(self) -> bool:
        return self.count > 0

    def describe(self) -> str:
        window = f"{self.window:g}"
        return f"at most {self.count} per {window} s"


class Settings(BaseSettings):
    """Every knob of the service, with the seed's defaults."""

    # hide_input_in_errors: a refused configuration must not echo its values into the log
    # (a Redis password in REDIS_URL, the secret key itself).
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", case_sensitive=False, hide_input_in_errors=True
    )

    app_env: Literal["development", "production"] = "development"
    debug: bool = False
    flask_secret_key: str = DEFAULT_SECRET_KEY
    server_host: str = "127.0.0.1"
    server_port: int = 5000
    log_level: str = "INFO"

    redis_url: str = ""
    redis_host: str = "localhost"
    redis_port: int = 6379
    redis_db: int = 0
    redis_socket_timeout: float = 5.0
    redis_max_connections: int = 64
    # RQ's queues (the cleanup job, notifications): REDIS_URL unless set. RQ's keys cannot
    # share a hash slot, so with a Redis Cluster (REDIS_URL=redis+cluster://...) RQ needs
    # a plain Redis (or a Sentinel-watched one) of its own.
    rq_redis_url: str = ""
    # Durability: a message (or event) is acknowledged only once this many replicas of its
    # Redis hold it (WAIT, at most REDIS_WAIT_TIMEOUT_MS); short of that the sender gets
    # `unavailable` and sends again. 0: acknowledged once the primary has it. Use 1 with
    # replicas (a Redis Cluster, Sentinel), so a failover loses no acknowledged message.
    redis_wait_replicas: int = Field(0, ge=0)
    redis_wait_timeout_ms: int = Field(1000, ge=1)

    # Retention (seed defaults): messages 7 days, users 2 hours, rooms 1 day.
    message_retention_days: float = 7
    user_retention_hours: float = 2
    room_retention_hours: float = 24
    history_limit: int = Field(100, ge=1, le=10_000)
    client_id_window: int = Field(1000, ge=1)

    message_max_length: int = Field(2000, ge=1)
    message_rate_limit: str = "10/5"
    # Protocol 2 (docs/protocol.md): how long an author may edit a message, how many rooms
    # one connection may be in, and how many events the room log keeps (older events are
    # trimmed; so are those of messages that left the capped history).
    edit_window_seconds: int = Field(86400, ge=0)
    max_rooms_per_connection: int = Field(50, ge=1, le=1000)
    event_log_limit: int = Field(5000, ge=10)
    join_rate_limit: str = "10/10"
    max_packet_bytes: int = Field(64 * 1024, ge=1024)
    # Proxies whose X-Real-IP names the client (comma-separated addresses or networks):
    # make run's nginx is on loopback; docker-compose trusts its private network.
    trusted_proxies: str = "127.0.0.1,::1"
    # Sockets one client address may hold on one worker (0 = no limit; nginx limits too).
    max_connections_per_address: int = Field(500, ge=0)
    # With gevent-websocket, all packets queued for a socket leave in one write
    # (realtime/transport.py); off only to measure what it saves.
    batch_writes: bool = True
    # With batching, a packet for a socket with nothing waiting is framed straight into
    # its buffer, a room message once for all members (realtime/direct_writes.py); off
    # only to measure what it saves.
    direct_writes: bool = True
    # Engine.IO heartbeats (its defaults): the server pings every interval and closes a
    # client that has not answered within the timeout. Whole seconds (the handshake
    # carries them in ms); nginx's proxy_read_timeout must exceed their sum.
    ping_interval_seconds: int = Field(25, ge=1)
    ping_timeout_seconds: int = Field(20, ge=1)
    # Packets waiting for a client that does not read; past this it is disconnected.
    max_queued_packets: int = Field(1000, ge=10)
    # Comma-separated list; empty means same-origin only, "*" allows every origin.
    allowed_origins: str = ""

    key_prefix: str = "tr"
    socketio_channel: str = "talkrooms"
    # Each room's traffic on its own channel, heard only by workers with members in it
    # (realtime/room_channels.py); false: one channel every worker reads in full.
    fanout_by_room: bool = True
    heartbeat_interval_seconds: float = Field(5.0, gt=0)
    worker_dead_after_seconds: float = Field(15.0, gt=0)
    worker_id: str = ""
    # nginx's name for this worker (w1, w2, … in the order nginx lists the workers): every
    # Engine.IO session id starts with it, so nginx routes each request of a session by
    # its sid, cookies or not (docs/deployment.md). Empty: plain ids, cookie only.
    worker_route: str = Field("", pattern=r"^[a-z0-9]{0,16}$")

    # Accounts (docs/security.md): the database, token lifetimes, password rules and the
    # rate limits of login and registration (per client address and per account name).
    database_url: str = DEFAULT_DATABASE_URL
    jwt_secret: str = DEFAULT_JWT_SECRET
    access_token_seconds: int = Field(900, ge=1)
    refresh_token_days: float = Field(30, gt=0)
    password_min_length: int = Field(10, ge=8, le=128)
    # argon2 computations at once per worker (each 64 MiB and ~0.15 s of CPU).
    password_hash_concurrency: int = Field(2, ge=1, le=32)
    auth_address_rate_limit: str = "20/60"
    auth_account_rate_limit: str = "5/60"

    # Moderation (docs/moderation.md): instance administrators by account name, besides
    # those named with `talkrooms admin grant`.
    admin_usernames: str = ""
    # Automatic moderation (docs/moderation.md "Automatic moderation"): on or off for the
    # instance, each rule's default action (a room's settings override it), the word list
    # ("better-profanity" or "none"), words added to it and everyday words taken out.
    automod: bool = True
    automod_rules: str = "words=refuse,flood=mute,links=hold,mentions=refuse"
    automod_word_list: Literal["better-profanity", "none"] = "better-profanity"
    automod_extra_words: str = ""
    automod_allowed_words: str = ""
    # flood: this many identical messages in a row, or more messages than this rate.
    automod_flood_repeats: int = Field(3, ge=2)
    automod_flood_rate_limit: str = "15/20"
    # links: from someone first seen in the room less than this long ago.
    automod_newcomer_seconds: float = Field(60, ge=0)
    # mentions: a message naming this many people or more.
    automod_mentions_max: int = Field(6, ge=2)
    automod_mute_minutes: int = Field(5, ge=1)

    # Notifications (docs/notifications.md): Web Push's VAPID key (PEM; empty: derived
    # from FLASK_SECRET_KEY) and contact, how long a push service keeps one, the sends'
    # timeout and retries (seconds between tries).
    notifications: bool = True
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:admin@localhost"
    push_ttl_seconds: int = Field(24 * 3600, ge=0)
    push_timeout_seconds: float = Field(10, gt=0)
    push_retries: int = Field(3, ge=0, le=10)
    push_retry_delays: str = "5,30,120"
    # Expo's push service (the app), an access token if the project requires one, and
    # how long after a send its receipt is read (Expo keeps receipts a day).
    expo_push_url: str = "https://exp.host/--/api/v2"
    expo_access_token: str = ""
    expo_receipt_delay_seconds: float = Field(900, ge=0)

    # Files (docs/files.md): limits, where the bytes live, images.
    upload_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    files_per_message: int = Field(10, ge=1, le=50)
    # Uploads per person (account, or guest's name and key) and per client address.
    upload_rate_limit: str = "20/60"
    upload_address_rate_limit: str = "60/60"
    room_upload_quota_bytes: int = Field(1024 * 1024 * 1024, ge=0)  # 0 = no quota
    image_max_pixels: int = Field(40_000_000, ge=1)
    # How long an upload may wait for the message that shares it before cleanup removes it.
    upload_pending_hours: float = Field(24, gt=0)
    # The cleanup leaves files younger than this alone (an upload in progress).
    file_sweep_grace_seconds: float = Field(300, ge=0)
    file_storage: Literal["local", "s3"] = "local"
    upload_dir: str = "run/uploads"
    s3_endpoint_url: str = ""
    s3_bucket: str = "talkrooms"
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    # S3 downloads: streamed by the worker (headers all ours), or a redirect to a
    # presigned URL (the store serves the bytes; type and disposition asked of it).
    s3_presigned_downloads: bool = False
    # Local files: the internal nginx location that serves UPLOAD_DIR (X-Accel-Redirect);
    # empty: the worker sends the bytes itself (a worker without nginx in front).
    files_accel_prefix: str = ""

    # Operations (docs/operations.md): the RQ cleanup job and the metrics endpoints.
    rq_queue: str = "talkrooms"
    cleanup_interval_seconds: int = Field(3600, ge=1)
    cleanup_job_timeout_seconds: int = Field(300, ge=1)
    # Bounds of one cleanup run: keys looked at (SCAN), rooms swept, SCAN COUNT hint.
    cleanup_max_keys: int = Field(50_000, ge=1)
    cleanup_max_rooms: int = Field(5_000, ge=1)
    cleanup_scan_count: int = Field(500, ge=1)
    # The RQ worker serves its own /metrics here (0 turns it off); loopback by default.
    rq_metrics_host: str = "127.0.0.1"
    rq_metrics_port: int = Field(9191, ge=0, le=65535)
    # Cluster-wide gauges (rooms, users, Redis, cleanup) are read from Redis at scrape
    # time and reused for this long, so N workers scraped every few seconds stay cheap.
    metrics_cache_seconds: float = Field(5.0, ge=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)
        return value

    @field_validator(
        "message_rate_limit",
        "join_rate_limit",
        "auth_address_rate_limit",
        "auth_account_rate_limit",
        "upload_rate_limit",
        "upload_address_rate_limit",
        "automod_flood_rate_limit",
    )
    @classmethod
    def _check_rate(cls, value: str) -> str:
        RateLimit.parse(value)
        return value

    @model_validator(mode="after")
    def _rq_needs_a_plain_redis(self) -> Settings:
        if self.effective_rq_redis_url.startswith("redis+cluster://"):
            raise ValueError(
                "RQ cannot keep its queues on a Redis Cluster: set RQ_REDIS_URL to a plain"
                " Redis when REDIS_URL is redis+cluster://"
            )
        return self

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.app_env == "production" and self.flask_secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "FLASK_SECRET_KEY must be set to a private value when APP_ENV=production"
            )
        if self.app_env == "production" and self.jwt_secret == DEFAULT_JWT_SECRET:
            raise ValueError("JWT_SECRET must be set to a private value when APP_ENV=production")
        return self

    @cached_property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in self.trusted_proxies.split(",")
            if part.strip()
        )

    def client_address(self, environ: Mapping[str, Any]) -> str:
        """The client's address: a trusted proxy's X-Real-IP, else the peer itself."""
        remote = environ.get("REMOTE_ADDR", "")
        forwarded = environ.get("HTTP_X_REAL_IP", "")
        if forwarded and self.is_trusted_proxy(remote):
            return str(forwarded)
        return str(remote)

    def is_trusted_proxy(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxy_networks)

    @property
    def effective_redis_url(self) -> str:
        """`REDIS_URL` when given, else one built from host, port and db."""
        if self.redis_url:
            return self.redis_url
        return f"redis://{self.redis_host}:{self.redis_port}/{self.redis_db}"

    @property
    def effective_rq_redis_url(self) -> str:
        """`RQ_REDIS_URL` when given, else the chat's Redis."""
        return self.rq_redis_url or self.effective_redis_url

    @property
    def message_ttl_seconds(self) -> int:
        return int(self.message_retention_days * 86400)

    @property
    def user_ttl_seconds(self) -> int:
        return int(self.user_retention_hours * 3600)

    @property
    def room_ttl_seconds(self) -> int:
        return int(self.room_retention_hours * 3600)

    @property
    def message_rate(self) -> RateLimit:
        return RateLimit.parse(self.message_rate_limit)

    @property
    def push_retry_intervals(self) -> list[int]:
        return [int(part) for part in self.push_retry_delays.split(",") if part.strip()]

    @property
    def automod_flood_rate(self) -> RateLimit:
        return RateLimit.parse(self.automod_flood_rate_limit)

    @property
    def join_rate(self) -> RateLimit:
        return RateLimit.parse(self.join_rate_limit)

    @property
    def auth_address_rate(self) -> RateLimit:
        return RateLimit.parse(self.auth_address_rate_limit)

    @property
    def auth_account_rate(self) -> RateLimit:
        return RateLimit.parse(self.auth_account_rate_limit)

    @property
    def upload_rate(self) -> RateLimit:
        return RateLimit.parse(self.upload_rate_limit)

    @property
    def upload_address_rate(self) -> RateLimit:
        return RateLimit.parse(self.upload_address_rate_limit)

    @property
    def cors_origins(self) -> list[str] | str | None:
        """Engine.IO's `cors_allowed_origins`: None keeps its same-origin check."""
        origins = [o.strip() for o in self.allowed_origins.split(",") if o.strip()]
        if not origins:
            return None
        if "*" in origins:
            return "*"
        return origins

    @cached_property
    def instance_id(self) -> str:
        """This process's id in Redis (heartbeats, presence); unique per start."""
        if self.worker_id:
            return self.worker_id
        return f"{socket.gethostname()}-{self.server_port}-{os.getpid()}-{os.urandom(3).hex()}"
