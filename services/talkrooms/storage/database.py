"""The relational database (SQLAlchemy 2): engine, units of work, migrations.

Durable data that is not on the message path (accounts, refresh tokens) lives here, in
SQLite by default (`run/talkrooms.db`, WAL, foreign keys on) or PostgreSQL through
psycopg 3 (`postgresql+psycopg://`). A worker serves every user from one gevent loop and
the drivers block, so every unit of work runs in gevent's thread pool (`offload`): a slow
query or an argon2 hash holds a native thread, never the loop.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import gevent
import gevent.monkey
from sqlalchemy import (
    DateTime,
    Dialect,
    Engine,
    TypeDecorator,
    create_engine,
    event,
    make_url,
    pool,
)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

T = TypeVar("T")

MIGRATIONS = "talkrooms.storage:migrations"


class Base(DeclarativeBase):
    """The models of every capability share one metadata (the migrations create it)."""


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """An aware UTC datetime as the API writes it: ISO 8601 with a Z."""
    return moment.isoformat().replace("+00:00", "Z")


def offload(work: Callable[..., T], *args: Any) -> T:
    """Run a blocking call in gevent's thread pool when this process is monkey-patched
    (a worker), inline otherwise (the CLI, unit tests): other greenlets keep running."""
    if gevent.monkey.is_module_patched("threading"):
        return gevent.get_hub().threadpool.apply(work, args)
    return work(*args)


def database_exists(url: str) -> bool:
    """False only for a SQLite file that is not there (opening it would create it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return True
    return Path(parsed.database).exists()


# The nice value of a thread doing heavy CPU work for one person (0 is the chat's loop):
# the lowest, measured against 10 in BENCHMARKS.md section 8 (the chat's p99 beside 50
# logins/s: 60 ms against 75-101 ms).
LOW_PRIORITY_NICE = 19
_lowered: set[int] = set()


def lower_this_thread() -> None:
    """Lower this thread's scheduling priority once, if it is a helper thread: never the
    process's main thread (its thread id is the pid), which runs the chat. On Linux a
    thread's nice value is its own."""
    thread_id = threading.get_native_id()
    if thread_id in _lowered or thread_id == os.getpid():
        return
    # Not Linux, or not allowed: the work simply keeps its priority.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, thread_id, LOW_PRIORITY_NICE)
    _lowered.add(thread_id)


def _lowered_then(work: Callable[..., T], *args: Any) -> T:
    lower_this_thread()
    return work(*args)


def offload_low(work: Callable[..., T], *args: Any) -> T:
    """offload for CPU-heavy work of one person (a password hash, an image to re-encode):
    its thread runs at a lower priority, so when the cores are busy the chat goes first
    and this work waits, instead of both slowing down."""
    return offload(_lowered_then, work, *args)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never wait for the writer; foreign keys are off in SQLite unless asked;
    # a writer waits up to 5 s for another instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`: SQLite (its folder created) or PostgreSQL via psycopg 3.

    No connection pool: each unit of work opens its connection inside a pool thread, so
    no pooled object (nor the pool's locks, which monkey-patching turns into gevent's) is
    shared between native threads. A later measurement may bring a pool back.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, poolclass=pool.NullPool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, poolclass=pool.NullPool)


class Database:
    """One engine and its sessions; `run` is the only way handlers reach the database."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def run(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` in one transaction (committed when it returns) off the loop."""

        def unit() -> T:
            with self.sessions.begin() as session:
                return work(session)

        return offload(unit)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Any:
    """Alembic's configuration for our migrations (shipped inside the package)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    # ConfigParser interpolates `%`: a password with one must be escaped.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (creating a SQLite file if needed)."""
    _migrate(url, "upgrade", revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database at `url` down to `revision`."""
    _migrate(url, "downgrade", revision)


def _migrate(url: str, direction: str, revision: str) -> None:
    """Run Alembic's `upgrade` or `downgrade` in one transaction on its own engine."""
    from alembic import command

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            getattr(command, direction)(config, revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at (None when never migrated)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
