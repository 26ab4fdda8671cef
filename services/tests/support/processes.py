"""Start and stop the real servers the tests talk to, always by PID.

Every class here owns exactly one OS process; `stop()` ends it (SIGTERM, then SIGKILL) and
waits for it, so a failing test never leaves a server behind.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import redis
import requests

from talkrooms.storage import database

REPO_ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
GUNICORN_CONF = REPO_ROOT / "deploy" / "gunicorn.conf.py"


# Servers started by the tests listen below Linux's ephemeral range (32768-60999 here):
# a port picked inside it, as bind(0) does, can be taken by any outgoing connection's
# local end before the server binds it ("Address already in use").
PORT_RANGE = (20_000, 32_000)
_handed_out: set[int] = set()


def port_free(port: int) -> bool:
    """Nothing on 127.0.0.1 holds `port` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(span: int = 1) -> int:
    """The first of `span` consecutive free TCP ports on 127.0.0.1, below the ephemeral
    range and never handed out before in this test run (picked ports are bound later)."""
    for _ in range(1000):
        base = random.randrange(PORT_RANGE[0], PORT_RANGE[1] - span)
        ports = range(base, base + span)
        if _handed_out.isdisjoint(ports) and all(port_free(port) for port in ports):
            _handed_out.update(ports)
            return base
    raise RuntimeError(f"no {span} free consecutive ports in {PORT_RANGE}")


def wait_until(condition: Callable[[], bool], timeout: float, what: str, every: float = 0.05):
    """Poll `condition` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:
            pass
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class ManagedProcess:
    """One child process with its log file; stopped by PID."""

    stop_signal: int = signal.SIGTERM

    def __init__(self, name: str, log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.signalled = False  # stop_signal sent to the running process

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def spawn(
        self,
        argv: list[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
    ) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.signalled = False
        self.process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env or os.environ),
            cwd=cwd or REPO_ROOT,
            start_new_session=True,
            user=user,
        )
        log.close()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.running():
            os.kill(self.pid, signum)

    def kill9(self) -> None:
        """SIGKILL the process group: no cleanup code of the server runs."""
        if self.running():
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(timeout=10)  # type: ignore[union-attr]

    def stop(self, timeout: float = 10.0) -> int | None:
        """The stop signal, then SIGKILL after `timeout`; the exit code (None if it was
        never started or already stopped)."""
        if self.process is None:
            return None
        if self.running():
            self.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        code = self.process.returncode
        self.process = None
        return code

    def terminate(self) -> None:
        """The signal `stop` sends, once, without waiting: `stop_all` stops several at
        once."""
        if self.running() and not self.signalled:
            os.kill(self.pid, self.stop_signal)
            self.signalled = True

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


# A replica's first sync waits repl-diskless-sync-delay (5 s by default) for more replicas
# to share the transfer: in tests that is only a wait, paid per replica and per resync
# after a failover (the Sentinel suites).
NO_SYNC_DELAY = ("--repl-diskless-sync-delay", "0")


class RedisServer(ManagedProcess):
    """A real redis-server on a free loopback port, its data in its own folder."""

    def __init__(self, work_dir: Path, port: int | None = None, appendonly: bool = False) -> None:
        super().__init__(f"redis-{port or 'auto'}", work_dir)
        self.work_dir = work_dir
        self.port = port or free_port()
        self.appendonly = appendonly
        self.name = f"redis-{self.port}"
        self.log_path = work_dir / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (make test installs it)")
        data_dir = self.work_dir / f"redis-data-{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data_dir),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            "everysec",
            *NO_SYNC_DELAY,
            "--protected-mode",
            "yes",
            "--daemonize",
            "no",
        ]
        self.spawn(argv)
        wait_until(lambda: self.client().ping(), 10, f"redis-server on {self.port}")
        return self

    def freeze(self) -> None:
        self.signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.signal(signal.SIGCONT)


class ChatWorker(ManagedProcess):
    """One gunicorn process with one gevent worker: exactly what `make run` starts."""

    def __init__(
        self,
        work_dir: Path,
        redis_url: str,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        super().__init__(f"worker-{self.port}", work_dir)
        self.work_dir = work_dir
        self.redis_url = redis_url
        self.extra_env = dict(env or {})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")}
        env.update(
            REDIS_URL=self.redis_url,
            SERVER_PORT=str(self.port),
            SERVER_HOST="127.0.0.1",
            APP_ENV="development",
            LOG_LEVEL="INFO",
            MESSAGE_RATE_LIMIT="0",
            JOIN_RATE_LIMIT="0",
            MAX_CONNECTIONS_PER_ADDRESS="0",
            # Like the rate limits, automatic moderation would refuse what other suites
            # send on purpose (the same text again, links at once); its own suites
            # (test_automod*.py, the review queue's) turn it on with AUTOMOD=true.
            AUTOMOD="false",
            HEARTBEAT_INTERVAL_SECONDS="1",
            WORKER_DEAD_AFTER_SECONDS="3",
            # A database of its own, never the repository's run/talkrooms.db, migrated at
            # start as `talkrooms run` does (tests of accounts may pass another).
            DATABASE_URL=self.default_database_url,
            # Uploads of the workers of one test folder share a disk, as on one machine.
            UPLOAD_DIR=str(self.work_dir / "uploads"),
        )
        env.update(self.extra_env)
        return env

    @property
    def default_database_url(self) -> str:
        return f"sqlite:///{self.work_dir / f'worker-{self.port}.db'}"

    def start(self, wait_healthy: bool = True) -> ChatWorker:
        if "DATABASE_URL" not in self.extra_env:
            database.upgrade(self.default_database_url)
        argv = [str(VENV_BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "talkrooms.wsgi:app"]
        self.spawn(argv, env=self.environment())
        check = self.healthy if wait_healthy else self.listening
        try:
            wait_until(check, 20, f"chat worker on {self.port}")
        except TimeoutError:
            raise TimeoutError(f"worker did not start:\n{self.log_tail()}") from None
        return self

    def healthy(self) -> bool:
        return requests.get(f"{self.url}/api/health", timeout=2).status_code == 200

    def listening(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    def freeze(self) -> None:
        """SIGSTOP the gunicorn master and its worker: connections are still accepted (the
        kernel's backlog) but nothing answers, as with a worker stuck without yielding."""
        if self.running():
            os.killpg(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.running():
            os.killpg(self.pid, signal.SIGCONT)


def stop_all(processes: Iterable[ManagedProcess]) -> None:
    """Stop several servers at once: SIGTERM to each, then wait for each by its PID (a
    chat worker takes a second or more to leave, and a stack has several)."""
    processes = list(processes)
    for process in processes:
        process.terminate()
    for process in processes:
        process.stop()


@contextlib.contextmanager
def chat_workers(
    folder: Path, redis_url: str, count: int, env: Mapping[str, str] | None = None
) -> Iterator[list[ChatWorker]]:
    """`count` chat workers on `redis_url` sharing one migrated SQLite database in
    `folder` (unless `env` names another), started in turn and stopped by PID."""
    settings = {"DATABASE_URL": f"sqlite:///{folder / 'chat.db'}", **(env or {})}
    database.upgrade(settings["DATABASE_URL"])
    started: list[ChatWorker] = []
    try:
        for _ in range(count):
            started.append(ChatWorker(folder, redis_url, env=settings).start())
        yield started
    finally:
        stop_all(started)


POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresServer(ManagedProcess):
    """A throw-away PostgreSQL 15 cluster (Debian's `postgresql` package) on a free
    loopback port, in a temporary folder removed by `stop()`.

    PostgreSQL refuses to run as root: when the tests do, initdb and the server run as the
    package's `postgres` user, in a folder that user owns (pytest's own temporary folders
    are private to root).
    """

    # SIGTERM is PostgreSQL's "smart" shutdown (waits for every client); SIGINT is "fast"
    # (disconnects them), which is what a test wants.
    stop_signal = signal.SIGINT

    def __init__(self, work_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        super().__init__(f"postgres-{self.port}", work_dir)
        self.user = "postgres" if os.geteuid() == 0 else None
        self.cluster_dir: Path | None = None

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://talkrooms@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://talkrooms@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        if not (POSTGRES_BIN / "initdb").exists():
            raise RuntimeError("PostgreSQL 15 is not installed (make test installs it)")
        self.cluster_dir = Path(tempfile.mkdtemp(prefix=f"talkrooms-pg-{self.port}-"))
        if self.user:
            shutil.chown(self.cluster_dir, user=self.user)
        data = self.cluster_dir / "data"
        initdb = subprocess.run(
            [
                str(POSTGRES_BIN / "initdb"),
                *("-D", str(data), "-U", "talkrooms", "--auth=trust", "-E", "UTF8"),
                *("--locale=C.UTF-8", "--no-sync"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.cluster_dir,
            user=self.user,
        )
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}")
        argv = [
            str(POSTGRES_BIN / "postgres"),
            *("-D", str(data), "-p", str(self.port), "-k", str(self.cluster_dir)),
            *("-c", "listen_addresses=127.0.0.1"),
            # A throw-away cluster: durability buys nothing here and costs seconds.
            *("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"),
        ]
        self.spawn(argv, cwd=self.cluster_dir, user=self.user)
        try:
            wait_until(self.accepting, 30, f"postgres on {self.port}")
        except TimeoutError:
            raise TimeoutError(f"postgres did not start:\n{self.log_tail()}") from None
        return self

    def accepting(self) -> bool:
        import psycopg

        with psycopg.connect(self._dsn("postgres"), connect_timeout=2):
            return True

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=talkrooms dbname={database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(self._dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        if self.cluster_dir is not None:
            shutil.rmtree(self.cluster_dir, ignore_errors=True)
            self.cluster_dir = None


class S3Server(ManagedProcess):
    """moto in server mode: a real local S3-compatible endpoint (HTTP on loopback) that
    boto3 talks to exactly as to a real store."""

    ACCESS_KEY = "test-access-key"
    SECRET_KEY = "test-secret-key"

    def __init__(self, work_dir: Path, port: int | None = None) -> None:
        super().__init__(f"s3-{port or 'auto'}", work_dir)
        self.port = port or free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        self.spawn([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)])
        wait_until(self.answering, 30, f"moto on port {self.port}\n{self.log_tail()}")
        return self

    def answering(self) -> bool:
        return requests.get(f"{self.url}/moto-api/", timeout=1).status_code < 500

    def environment(self, bucket: str) -> dict[str, str]:
        """A worker's settings for this store."""
        return {
            "FILE_STORAGE": "s3",
            "S3_ENDPOINT_URL": self.url,
            "S3_BUCKET": bucket,
            "S3_ACCESS_KEY_ID": self.ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": self.SECRET_KEY,
        }
