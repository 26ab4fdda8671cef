"""The scaled stack as real processes: one Redis, N chat workers, nginx in front.

The same pieces `make run` starts (gunicorn + deploy/gunicorn.conf.py, nginx rendered from
nginx/talkrooms.conf.j2), on free loopback ports, each owned by a ManagedProcess so a
test can kill -9 or restart one worker and every process is stopped by its PID.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import redis
import requests
import socketio

from talkrooms.ops import stack
from talkrooms.realtime.session_ids import route_of
from talkrooms.storage import database
from talkrooms.storage.store import Keys
from tests.support.client import ChatClient
from tests.support.processes import (
    ChatWorker,
    ManagedProcess,
    RedisServer,
    free_port,
    stop_all,
    wait_until,
)

SID_IN_REQUEST = re.compile(r"[?&]sid=([^& ]+)")
ACCESS_LINE = re.compile(
    r'^(?P<client>\S+) \[(?P<time>[^]]+)\] "(?P<request>[^"]*)" (?P<status>\d{3}) '
    r"(?P<bytes>\d+) up=(?P<upstream>.*) rt=(?P<rt>\S+)$"
)


@contextlib.contextmanager
def restartable_cluster(work_dir: Path, workers: int) -> Iterator[Cluster]:
    """A started Cluster whose workers close their sockets within a second of a graceful
    stop (GRACEFUL_TIMEOUT_SECONDS=1), for tests that restart the worker a client is on."""
    cluster = Cluster(work_dir, workers=workers, env={"GRACEFUL_TIMEOUT_SECONDS": "1"}).start()
    try:
        yield cluster
    finally:
        cluster.stop()


def worker_routes(ports: list[int]) -> list[tuple[int, str]]:
    """(port, WORKER_ROUTE) of loopback workers, in the order nginx lists them."""
    upstreams = stack.load_nginx_renderer().upstreams([("127.0.0.1", p) for p in ports])
    return [(upstream.port, upstream.id) for upstream in upstreams]


class NginxServer(ManagedProcess):
    """nginx in the foreground (daemon off), config rendered by nginx/render.py."""

    def __init__(
        self,
        work_dir: Path,
        worker_ports: list[int],
        port: int | None = None,
        static_root: Path | None = None,
        max_body_bytes: int = 64 * 1024,
        overrides: dict[str, Any] | None = None,
    ) -> None:
        self.port = port or free_port()
        super().__init__(f"nginx-{self.port}", work_dir)
        self.dir = work_dir / f"nginx-{self.port}"
        self.conf_path = self.dir / "nginx.conf"
        self.access_log = self.dir / "access.log"
        self.error_log = self.dir / "error.log"
        self.worker_ports = worker_ports
        self.static_root = static_root or (stack.REPO_ROOT / stack.STATIC_ROOT)
        self.max_body_bytes = max_body_bytes
        # Any other NginxOptions field, e.g. {"read_timeout": "1s", "limit_exempt": ()}.
        self.overrides = dict(overrides or {})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def options(self) -> Any:
        """nginx/render.py's options for this server's ports and folders (+ overrides)."""
        renderer = stack.load_nginx_renderer()
        options = renderer.NginxOptions(
            listen=f"127.0.0.1:{self.port}",
            workers=renderer.upstreams([("127.0.0.1", p) for p in self.worker_ports]),
            static_root=str(self.static_root),
            run_dir=str(self.dir),
            error_log=str(self.error_log),
            access_log=str(self.access_log),
            rlimit_nofile=stack.open_files_limit(),
            max_body_bytes=self.max_body_bytes,
            user=stack.current_user(),
        )
        return dataclasses.replace(options, **self.overrides)

    def render(self) -> str:
        return str(stack.load_nginx_renderer().render(self.options()))

    def start(self) -> NginxServer:
        binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
        if binary is None:
            raise RuntimeError("nginx is not installed (make test installs it)")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(self.render())
        argv = [binary, "-p", f"{self.dir}/", "-e", str(self.error_log), "-c", str(self.conf_path)]
        self.spawn(argv)
        wait_until(self.listening, 10, f"nginx on {self.port}")
        return self

    def listening(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    def access_entries(self) -> list[dict[str, str]]:
        """Every access-log line so far, parsed (status, request, upstream...)."""
        if not self.access_log.exists():
            return []
        entries = []
        for line in self.access_log.read_text(errors="replace").splitlines():
            match = ACCESS_LINE.match(line)
            if match:
                entries.append(match.groupdict())
        return entries


class Cluster:
    """Redis (AOF on) + N chat workers + nginx, started and stopped together."""

    def __init__(self, work_dir: Path, workers: int = 2, env: dict[str, str] | None = None) -> None:
        self.work_dir = work_dir
        self.env = dict(env or {})
        if "DATABASE_URL" not in self.env:
            # As make run does: one database for every worker (accounts, files' rows), so
            # what one worker wrote another reads.
            self.env["DATABASE_URL"] = f"sqlite:///{work_dir / 'cluster.db'}"
            database.upgrade(self.env["DATABASE_URL"])
        self.redis = RedisServer(work_dir, appendonly=True)
        ports = [free_port() for _ in range(workers)]
        # As make run does: each worker's session ids start with nginx's name for it.
        self.routes = dict(worker_routes(ports))
        self.workers = [self._worker(port) for port in ports]
        # As make run does: the workers' shared upload folder is served by nginx.
        uploads = {"upload_root": str(work_dir / "uploads")}
        self.nginx = NginxServer(work_dir, ports, overrides=uploads)

    def _worker(self, port: int) -> ChatWorker:
        env = {
            "FILES_ACCEL_PREFIX": stack.files_location(),
            **self.env,
            "WORKER_ROUTE": self.routes[port],
        }
        return ChatWorker(self.work_dir, self.redis.url, port=port, env=env)

    @property
    def url(self) -> str:
        return self.nginx.url

    def start(self) -> Cluster:
        try:
            self.redis.start()
            for worker in self.workers:
                worker.start(wait_healthy=False)
            for worker in self.workers:
                wait_until(worker.healthy, 20, f"worker {worker.port} healthy")
            self.nginx.start()
            wait_until(self.healthy, 10, "nginx answering /api/health")
        except Exception:
            self.stop()
            raise
        return self

    def healthy(self) -> bool:
        return requests.get(f"{self.url}/api/health", timeout=2).status_code == 200

    def restart_worker(self, index: int) -> ChatWorker:
        """Graceful stop (SIGTERM) and a fresh process on the same port."""
        old = self.workers[index]
        old.stop(timeout=20)
        new = self._worker(old.port).start()
        self.workers[index] = new
        return new

    def connections_per_worker(self) -> dict[int, int]:
        """Open Socket.IO connections of each worker, asked of the worker itself."""
        counts = {}
        for worker in self.workers:
            if worker.running():
                health = requests.get(f"{worker.url}/api/health", timeout=2).json()
                counts[worker.port] = int(health["connections"])
        return counts

    def sids_on(self, worker: ChatWorker) -> set[str]:
        """Socket.IO sids a worker holds in rooms, read from its presence set in Redis."""
        worker_id = requests.get(f"{worker.url}/api/health", timeout=2).json()["worker"]
        client: redis.Redis = self.redis.client()
        members = client.smembers(Keys("tr").worker_conns(worker_id))
        texts = (m.decode() if isinstance(m, bytes) else str(m) for m in members)
        return {text.rsplit("|", 1)[1] for text in texts}

    def requests_per_worker(self, path_prefix: str = "/socket.io/") -> Counter[str]:
        """nginx's view: how many requests under a path each upstream answered."""
        counts: Counter[str] = Counter()
        for entry in self.nginx.access_entries():
            if f" {path_prefix}" in entry["request"]:
                counts[entry["upstream"].split(", ")[-1]] += 1
        return counts

    def misrouted_requests(self, since: int = 0) -> list[dict[str, str]]:
        """Requests of an Engine.IO session that nginx tried first on another worker than
        the one its sid names, or that another worker answered with success. Requests
        whose worker was down reach a backup, which answers 400: not misrouted."""
        homes = {route: f"127.0.0.1:{port}" for port, route in self.routes.items()}
        wrong = []
        for entry in self.nginx.access_entries()[since:]:
            sid = SID_IN_REQUEST.search(entry["request"])
            if sid is None:
                continue
            home = homes.get(route_of(unquote(sid.group(1))) or "")
            tried = entry["upstream"].split(", ")
            succeeded = entry["status"] in ("101", "200")
            if tried[0] != home or (succeeded and tried[-1] != home):
                wrong.append(entry)
        return wrong

    def stop(self) -> None:
        self.nginx.stop()
        stop_all(self.workers)
        self.redis.stop()


class RejoiningClient(ChatClient):
    """A client that reconnects by itself and rejoins its room on every `connect`.

    What a real client does after its worker died: python-socketio reconnects (through
    nginx, to whichever worker is alive) and the connect handler joins again with the
    same username and client_key, so presence sees the same person come back.
    """

    def __init__(
        self, url: str, username: str, room: str, transports: list[str], http_session: Any = None
    ) -> None:
        super().__init__(url, transports=transports, reconnection=True, http_session=http_session)
        self.username = username
        self.room = room
        # Quicker than the defaults (1 s, up to 5 s) so tests stay short.
        self.sio.reconnection_delay = 0.2
        self.sio.reconnection_delay_max = 1
        self.sio.on("connect", self._rejoin)

    def _rejoin(self) -> None:
        self._record("__connect__", None)
        # An emit with a callback: a blocking call here would wait on this very thread.
        payload = {"username": self.username, "room": self.room, "client_key": self.client_key}
        self.sio.emit("join_room", payload, callback=lambda ack: self._record("__joined__", ack))

    def wait_joined(self, timeout: float = 10.0, after: int = 0) -> Any:
        return self.wait_for("__joined__", lambda ack: ack.get("ok"), timeout=timeout, after=after)


class ReliableSender:
    """Sends messages with client_ids and sends each again until the server acks it.

    Client -> server delivery made at-least-once (the server de-duplicates by client_id):
    a message whose ack was lost with its worker is sent again after the reconnect.
    """

    def __init__(self, client: RejoiningClient, retry_after: float = 1.0) -> None:
        self.client = client
        self.retry_after = retry_after
        self.sent = 0
        self.pending: dict[str, float] = {}
        self.acked: set[str] = set()
        self._lock = threading.Lock()

    def send_new(self) -> None:
        self.sent += 1
        client_id = f"{self.client.username}-{self.sent}"
        with self._lock:
            self.pending[client_id] = 0.0
        self._send(client_id)

    def retry_due(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [cid for cid, at in self.pending.items() if now - at >= self.retry_after]
        for client_id in due:
            self._send(client_id)

    def _send(self, client_id: str) -> None:
        with self._lock:
            self.pending[client_id] = time.monotonic()
        payload = {"message": f"text of {client_id}", "client_id": client_id}
        # Between connections the emit fails: retry_due sends it again later.
        with contextlib.suppress(socketio.exceptions.SocketIOError):
            self.client.sio.emit(
                "send_message", payload, callback=lambda ack: self._acked(client_id, ack)
            )

    def _acked(self, client_id: str, ack: Any) -> None:
        if isinstance(ack, dict) and ack.get("ok"):
            with self._lock:
                self.acked.add(client_id)
                self.pending.pop(client_id, None)

    def unacked(self) -> int:
        with self._lock:
            return len(self.pending)


def full_history(client: ChatClient, room: str) -> list[dict[str, Any]]:
    """Every stored message of a room, through get_history pages (since_id)."""
    messages: list[dict[str, Any]] = []
    since = 0
    while True:
        page = client.call("get_history", {"room": room, "since_id": since, "limit": 100})
        assert page["ok"], page
        messages += page["messages"]
        if not page["has_more"]:
            return messages
        since = int(page["messages"][-1]["id"])
