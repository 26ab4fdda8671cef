"""What the stack exposes: only nginx listens beyond loopback, no admin or metrics route
on the public port, no admin namespace, and no production start with the default secret.

test_stack_plan.py and test_stack_compose.py read the rendered files (Redis --bind, the
workers' SERVER_HOST, compose's internal network and published ports); here the running
processes themselves are asked which sockets they listen on.
"""

from __future__ import annotations

import configparser
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
import socketio

from talkrooms.ops import stack
from talkrooms.settings import Settings
from tests.integration.test_stack_compose import compose_config
from tests.integration.test_stack_run import RunningStack, descendants
from tests.reliability.figures import report
from tests.support.abuse import ws_connect
from tests.support.processes import VENV_BIN, ChatWorker, RedisServer
from tests.support.stack import Cluster

pytestmark = pytest.mark.integration

# Routes an attacker tries first; none may answer 200 on the public port.
PROBES = (
    "/metrics",
    "/metrics/",
    "/metrics?format=json",
    "/METRICS",
    "/static/../metrics",
    "/admin",
    "/admin/",
    "/api/admin",
    "/api/internal",
    "/api/internal/stats",
    "/api/debug",
    "/console",
    "/debug",
    "/server-status",
    "/nginx_status",
    "/stub_status",
    "/.env",
    "/.git/config",
    "/run/supervisor.sock",
    "/static/../../README.md",
    "/static/..%2f..%2fREADME.md",
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    stack_ = Cluster(tmp_path_factory.mktemp("exposure"), workers=2).start()
    yield stack_
    stack_.stop()


def listening(pids: set[int]) -> dict[str, set[tuple[str, int]]]:
    """Process name -> the TCP addresses it listens on (its own sockets, not children's)."""
    found: dict[str, set[tuple[str, int]]] = {}
    for pid in pids:
        try:
            process = psutil.Process(pid)
            sockets = process.net_connections(kind="tcp")
            name = process.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        for conn in sockets:
            if conn.status == psutil.CONN_LISTEN:
                found.setdefault(f"{name}[{pid}]", set()).add((conn.laddr.ip, conn.laddr.port))
    return found


def tree(pid: int) -> set[int]:
    return {pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))}


# -- what listens where ---------------------------------------------------------------------


def test_redis_and_the_workers_listen_on_loopback_only_in_a_running_cluster(
    cluster: Cluster,
) -> None:
    redis = listening(tree(cluster.redis.pid))
    workers = [listening(tree(w.pid)) for w in cluster.workers]
    nginx = listening(tree(cluster.nginx.pid))
    report(
        "exposure-cluster",
        {
            "redis": sorted(map(str, set().union(*redis.values()))),
            "workers": [sorted(map(str, set().union(*w.values()))) for w in workers],
            "nginx": sorted(map(str, set().union(*nginx.values()))),
        },
    )
    assert set().union(*redis.values()) == {("127.0.0.1", cluster.redis.port)}
    for worker, sockets in zip(cluster.workers, workers, strict=True):
        assert set().union(*sockets.values()) == {("127.0.0.1", worker.port)}, sockets
    assert set().union(*nginx.values()) == {("127.0.0.1", cluster.nginx.port)}


def test_make_run_on_the_lan_opens_only_nginx(tmp_path: Path, monkeypatch) -> None:
    """`LISTEN_HOST=0.0.0.0 make run` (phones on the LAN): nginx on every interface, and
    still Redis, every worker and everything else on loopback."""
    monkeypatch.setenv("LISTEN_HOST", "0.0.0.0")
    running = RunningStack(tmp_path / "run", workers=2)
    try:
        running.start()
        assert running.process is not None
        sockets = listening(descendants(running.process.pid))
        public = {
            (name, address)
            for name, addresses in sockets.items()
            for address in addresses
            if address[0] != "127.0.0.1"
        }
        conf = configparser.RawConfigParser()
        conf.read(running.run_dir / "supervisord.conf")
    finally:
        running.stop()
    report("exposure-make-run-lan", {n: sorted(map(str, a)) for n, a in sockets.items()})
    assert {(address[0], address[1]) for _, address in public} == {("0.0.0.0", running.port)}
    assert all(name.startswith("nginx") for name, _ in public), public
    loopback = {address for addresses in sockets.values() for address in addresses} - {
        ("0.0.0.0", running.port)
    }
    expected = {running.redis_port, *(running.base + i for i in (1, 2))}
    assert {port for _, port in loopback} >= expected
    # supervisord is driven through a unix socket only (0700), never a TCP port.
    assert not conf.has_section("inet_http_server")
    assert conf.get("unix_http_server", "chmod") == "0700"


def test_the_rq_worker_metrics_default_to_loopback() -> None:
    assert Settings().rq_metrics_host == "127.0.0.1"


def test_compose_publishes_nginx_on_loopback_unless_told() -> None:
    """(test_stack_compose.py checks the rest: only nginx and the dashboards publish,
    Redis and the workers sit on the internal network.)"""
    compose = compose_config()
    assert [str(p) for p in compose["services"]["nginx"]["ports"]] == ["127.0.0.1:5000:8080/tcp"]
    for name in ("redis", "worker-1", "worker-2", "rq-worker", "rq-scheduler"):
        service = compose["services"][name]
        assert "ports" not in service and "network_mode" not in service, name


# -- routes and namespaces ------------------------------------------------------------------


def test_no_admin_or_metrics_route_on_the_public_port(cluster: Cluster) -> None:
    answers = {}
    for path in PROBES:
        response = requests.get(f"{cluster.url}{path}", timeout=5, allow_redirects=False)
        answers[path] = response.status_code
    report("exposure-routes", answers)
    assert all(status in (400, 404) for status in answers.values()), answers
    assert answers["/metrics"] == 404 and answers["/admin"] == 404
    # The private port still serves Prometheus; nothing else there either.
    worker = cluster.workers[0].url
    assert requests.get(f"{worker}/metrics", timeout=5).status_code == 200
    assert requests.get(f"{worker}/admin", timeout=5).status_code == 404


@pytest.mark.parametrize("namespace", ["/admin", "/admin/", "/metrics"])
def test_the_socketio_admin_namespace_refuses_to_connect(cluster: Cluster, namespace: str) -> None:
    ws = ws_connect(cluster.url)
    try:
        assert ws.recv().startswith("0{")
        ws.send(f"40{namespace},")
        answer = ws.recv()
        while answer == "2":
            ws.send("3")
            answer = ws.recv()
        assert answer.startswith(f"44{namespace},"), answer
    finally:
        ws.close()
    # The official admin UI's client path: python-socketio with auth, namespace /admin.
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            cluster.url,
            namespaces=["/admin"],
            auth={"username": "admin", "password": "admin"},
            transports=["websocket"],
            wait_timeout=5,
        )
    client.disconnect()


# -- the secret key -------------------------------------------------------------------------

CANARY = "pw-canary-7f3a9"


def test_production_refuses_to_start_with_the_default_secret(
    work_dir: Path, redis_server: RedisServer
) -> None:
    worker = ChatWorker(work_dir, redis_server.url, env={"APP_ENV": "production"})
    env = worker.environment()
    # A password in REDIS_URL, last in the environment: pydantic would echo the tail of
    # the input into the error (and the log) without hide_input_in_errors.
    env.pop("REDIS_URL")
    env["REDIS_URL"] = f"redis://:{CANARY}@127.0.0.1:{redis_server.port}/0"
    argv = [str(VENV_BIN / "gunicorn"), "-c", str(stack.REPO_ROOT / stack.GUNICORN_CONF)]
    worker.spawn([*argv, stack.WSGI_APP], env=env)
    try:
        assert worker.process is not None
        code = worker.process.wait(timeout=60)
    finally:
        if worker.running():
            worker.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            worker.process.wait(timeout=10)  # type: ignore[union-attr]
    log = worker.log_path.read_text(errors="replace")
    report("exposure-default-secret", {"exit_code": code, "log_tail": log.splitlines()[-3:]})
    assert code != 0
    assert "FLASK_SECRET_KEY must be set to a private value when APP_ENV=production" in log
    assert CANARY[-6:] not in log and "input_value" not in log


def test_production_with_a_secret_starts(work_dir: Path, redis_server: RedisServer) -> None:
    env = {
        "APP_ENV": "production",
        "FLASK_SECRET_KEY": "a-private-value-for-this-test",
        "JWT_SECRET": "another-private-value-for-this-test",
    }
    worker = ChatWorker(work_dir, redis_server.url, env=env).start()
    try:
        health = requests.get(f"{worker.url}/api/health", timeout=5)
        assert health.status_code == 200
        # No debugger or stack traces in production: an unknown route is a plain 404.
        missing = requests.get(f"{worker.url}/console", timeout=5)
        assert missing.status_code == 404 and "Traceback" not in missing.text
        assert json.loads(health.text)["status"] == "ok"
    finally:
        worker.stop()
