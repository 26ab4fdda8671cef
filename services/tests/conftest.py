"""Fixtures that start real servers: redis-server, chat workers (gunicorn + gevent)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, PostgresServer, RedisServer

# The database backends every database test runs on (docs/operations.md, "Database").
DATABASES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def redis_server(work_dir: Path) -> Iterator[RedisServer]:
    server = RedisServer(work_dir).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chat_worker(work_dir: Path, redis_server: RedisServer) -> Iterator[ChatWorker]:
    worker = ChatWorker(work_dir, redis_server.url).start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def postgres_server(work_dir: Path) -> Iterator[PostgresServer]:
    """One throw-away PostgreSQL cluster for the session; each test takes a database."""
    server = PostgresServer(work_dir).start()
    yield server
    server.stop()


def new_database_url(kind: str, request: pytest.FixtureRequest, folder: Path) -> str:
    """A new, empty database of `kind` (a SQLite file in `folder`, or a PostgreSQL database
    on the session's cluster)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        return f"sqlite:///{folder / f'{name}.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(name)


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    return new_database_url(request.param, request, tmp_path)


@pytest.fixture
def room_name() -> str:
    """A room of this test's own, so tests can share one server."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def connect(chat_worker: ChatWorker) -> Iterator[Callable[..., ChatClient]]:
    """connect(url=None, transports=None) -> a connected ChatClient, closed after the test."""
    clients: list[ChatClient] = []

    def _connect(url: str | None = None, **kwargs: object) -> ChatClient:
        client = ChatClient(url or chat_worker.url, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client.connect()

    yield _connect
    for client in clients:
        client.close()


@pytest.fixture
def clients() -> Iterator[list[ChatClient]]:
    """Clients a test opens (append them): closed after it, whatever happened."""
    opened: list[ChatClient] = []
    yield opened
    for client in opened:
        client.close()
