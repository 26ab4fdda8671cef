"""`talkrooms run` (what `make run` executes) for real: up, healthy, and Ctrl-C leaves nothing.

It runs on free ports with its own run folder, so it never meets a developer's stack.
"""

from __future__ import annotations

import http.cookiejar
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from talkrooms.ops import redis_cluster, stack
from talkrooms.storage.database import current_revision
from tests.support.client import ChatClient
from tests.support.processes import free_port, wait_until

pytestmark = pytest.mark.integration


def descendants(root: int) -> set[int]:
    """Every live process below `root` (from /proc), nginx's own workers included."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        children = {pid for pid, parent in parents.items() if parent in frontier}
        frontier = children - found
        found |= children
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for every purpose but its exit status.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class RunningStack:
    """`python -m talkrooms.cli run` in its own session, as a terminal would hold it."""

    def __init__(self, run_dir: Path, workers: int, cluster: bool = False) -> None:
        self.run_dir = run_dir
        self.port = free_port()
        self.redis_port = free_port()
        self.base = free_port(span=workers + 1)  # workers on base+1…base+N
        self.workers = workers
        # Cluster nodes on cluster_base+1…+6, their bus on +7…+12.
        self.cluster_base = free_port(span=13) if cluster else None
        self.output = run_dir / "run.out"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RunningStack:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        inherited = ("PORT", "WORKERS", "REDIS_URL", "RQ_REDIS_URL", "CLUSTER_BASE_PORT")
        env = {k: v for k, v in os.environ.items() if k not in inherited}
        env["RQ_METRICS_PORT"] = "0"  # the RQ worker, when it exists, opens no fixed port
        argv = [
            sys.executable,
            "-m",
            "talkrooms.cli",
            "run",
            *("--port", str(self.port), "--workers", str(self.workers)),
            *("--redis-port", str(self.redis_port), "--worker-base-port", str(self.base)),
            *("--run-dir", str(self.run_dir)),
        ]
        if self.cluster_base is not None:
            argv += ["--cluster", "--cluster-base-port", str(self.cluster_base)]
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=stack.REPO_ROOT,
                start_new_session=True,
            )
        # Stop waiting as soon as it has exited (a port taken, say), with its output.
        wait_until(lambda: self.exited() or "TalkRooms is up" in self.text(), 60, "the banner")
        assert not self.exited(), f"talkrooms run exited:\n{self.text()}"
        return self

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def text(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def ctrl_c(self) -> int:
        """SIGINT to the whole foreground group, as the terminal sends it."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=40)

    def stop(self) -> None:
        """Ctrl-C if still running, then SIGKILL whatever is left, by PID.

        supervisord gives each program its own process group: killing our group alone
        would orphan Redis, the workers and nginx.
        """
        if self.process is None or self.process.poll() is not None:
            return
        left = descendants(self.process.pid)
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        for pid in left:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningStack]:
    started = RunningStack(tmp_path / "run", workers=2)
    try:
        yield started.start()
    finally:
        started.stop()


def test_make_run_starts_everything_and_ctrl_c_stops_everything(running: RunningStack):
    assert f"http://localhost:{running.port}" in running.text()
    assert running.process is not None

    def all_running() -> bool:
        # What `make status` shows; RUNNING once a program has lived its startsecs.
        status = subprocess.run(
            [
                *(str(stack.VENV_BIN / "supervisorctl"), "-c"),
                *(str(running.run_dir / "supervisord.conf"), "status"),
                *("redis", "nginx", "workers:*"),
            ],
            capture_output=True,
            text=True,
            timeout=20,
        )
        lines = status.stdout.strip().splitlines()
        return len(lines) == 4 and all(" RUNNING " in line for line in lines)

    wait_until(all_running, 10, "redis, nginx and both workers RUNNING")

    # A chat through nginx on the public port, while we are here: long-polling with no
    # cookie jar, so every request of the session is routed by its sid alone (WORKER_ROUTE).
    routes = {
        requests.get(f"http://127.0.0.1:{port}/api/health", timeout=5).json()["route"]
        for port in range(running.base + 1, running.base + 1 + running.workers)
    }
    assert routes == {"w1", "w2"}
    cookieless = requests.Session()
    cookieless.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    client = ChatClient(
        f"http://127.0.0.1:{running.port}", transports=["polling"], http_session=cookieless
    ).connect()
    try:
        assert client.join("alice", "lobby")["ok"]
        for n in range(5):
            assert client.send(f"hello {n}")["ok"]
        assert client.sio.eio.sid.split(".", 1)[0] in routes
    finally:
        client.close()
    assert requests.get(f"http://127.0.0.1:{running.port}/metrics", timeout=5).status_code == 404
    assert (running.run_dir / "redis" / "appendonlydir").is_dir()
    # The database was migrated before the workers started: an account works through nginx.
    assert current_revision(f"sqlite:///{running.run_dir / 'talkrooms.db'}") is not None
    registered = requests.post(
        f"http://127.0.0.1:{running.port}/api/v1/auth/register",
        json={"username": "carol", "password": "correct horse battery"},
        timeout=10,
    )
    assert registered.status_code == 201, registered.text

    started = descendants(running.process.pid)
    assert len(started) >= 1 + 1 + 2 + 1  # supervisord, redis, workers, nginx (+ children)
    assert running.ctrl_c() == 0
    wait_until(lambda: not any(alive(pid) for pid in started), 10, "every process gone")


@pytest.fixture
def running_cluster(tmp_path: Path) -> Iterator[RunningStack]:
    started = RunningStack(tmp_path / "run", workers=2, cluster=True)
    try:
        yield started.start()
    finally:
        started.stop()


def test_make_run_cluster_chats_on_a_redis_cluster_and_ctrl_c_stops_it(
    running_cluster: RunningStack,
):
    running = running_cluster
    assert running.process is not None and running.cluster_base is not None
    nodes = [running.cluster_base + i for i in range(1, 7)]
    assert f"127.0.0.1:{nodes[0]}-{nodes[-1]}" in running.text()
    # The banner comes once the cluster is formed and in sync: 3 primaries, 3 replicas.
    assert redis_cluster.cluster_ready(nodes, replicas=1)
    assert len(redis_cluster.primaries(nodes[0])) == 3
    health = requests.get(f"http://127.0.0.1:{running.port}/api/health", timeout=5)
    assert health.status_code == 200 and health.json()["redis"]["ok"]

    client = ChatClient(f"http://127.0.0.1:{running.port}").connect()
    try:
        assert client.join("alice", "cluster-lobby")["ok"]
        assert client.send("hello, shards")["ok"]
    finally:
        client.close()
    key = "tr:room:{cluster-lobby}:messages"
    owner = redis_cluster.node_for_key(key, nodes[0])
    with redis_cluster.node_client(owner) as primary:
        assert primary.exists(key) == 1
    # RQ's queues stay on the plain Redis (RQ_REDIS_URL); the chat's keys are not there.
    with redis_cluster.node_client(running.redis_port) as plain:
        assert plain.exists(key) == 0
    for port in nodes:
        assert (running.run_dir / "redis-cluster" / str(port) / f"nodes-{port}.conf").is_file()

    started = descendants(running.process.pid)
    assert len(started) >= 1 + 1 + 6 + 2 + 1  # supervisord, redis, 6 nodes, workers, nginx
    assert running.ctrl_c() == 0
    wait_until(lambda: not any(alive(pid) for pid in started), 10, "every process gone")
