"""`make run`: the whole local stack under supervisord, a kept process manager.

Renders run/supervisord.conf (Redis with AOF in run/redis, the chat workers), starts
supervisord in the foreground, waits until every worker answers /api/health, prints the
URL, and stops everything on Ctrl-C (supervisord stops its programs on SIGINT/SIGTERM).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_DIR = REPO_ROOT / "run"
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class StackPlan:
    """What `make run` starts: ports and counts, all on loopback."""

    public_port: int
    worker_ports: list[int]
    redis_port: int

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"


def plan(public_port: int, workers: int, redis_port: int) -> StackPlan:
    # One worker for now serves the public port itself; the scaled stack puts nginx there.
    return StackPlan(public_port=public_port, worker_ports=[public_port], redis_port=redis_port)


def render_supervisord(stack: StackPlan, run_dir: Path = RUN_DIR) -> str:
    logs = run_dir / "logs"
    redis_server = shutil.which("redis-server") or "redis-server"
    sections = [
        f"""[supervisord]
nodaemon=true
logfile={logs}/supervisord.log
pidfile={run_dir}/supervisord.pid
childlogdir={logs}

[unix_http_server]
file={run_dir}/supervisor.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{run_dir}/supervisor.sock

[program:redis]
command={redis_server} --port {stack.redis_port} --bind 127.0.0.1 --dir {run_dir}/redis
    --appendonly yes --appendfsync everysec --save "" --protected-mode yes
priority=10
autorestart=true
stopsignal=TERM
stdout_logfile={logs}/redis.log
redirect_stderr=true
"""
    ]
    for port in stack.worker_ports:
        sections.append(
            f"""[program:worker-{port}]
command={VENV_BIN}/gunicorn -c {REPO_ROOT}/deploy/gunicorn.conf.py talkrooms.wsgi:app
directory={REPO_ROOT}
environment=SERVER_PORT="{port}",SERVER_HOST="127.0.0.1",REDIS_URL="{stack.redis_url}"
priority=20
autorestart=true
stopsignal=TERM
stopwaitsecs=15
stdout_logfile={logs}/worker-{port}.log
redirect_stderr=true
"""
        )
    return "\n".join(sections)


def wait_healthy(urls: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        still = []
        for url in pending:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status != 200:
                        still.append(url)
            except OSError:
                still.append(url)
        pending = still
        if pending:
            time.sleep(0.2)
    return not pending


def run(public_port: int, workers: int, redis_port: int) -> int:
    """Start the stack in the foreground; returns supervisord's exit code."""
    stack = plan(public_port, workers, redis_port)
    (RUN_DIR / "logs").mkdir(parents=True, exist_ok=True)
    (RUN_DIR / "redis").mkdir(parents=True, exist_ok=True)
    conf = RUN_DIR / "supervisord.conf"
    conf.write_text(render_supervisord(stack))
    supervisord = subprocess.Popen([str(VENV_BIN / "supervisord"), "-c", str(conf)])

    def forward(signum: int, _frame: object) -> None:
        if supervisord.poll() is None:
            supervisord.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    health = [f"http://127.0.0.1:{port}/api/health" for port in stack.worker_ports]
    if wait_healthy(health, timeout=60):
        print(
            f"\n  TalkRooms is up: http://localhost:{stack.public_port}\n"
            f"  logs: {RUN_DIR / 'logs'}   stop: Ctrl-C\n",
            flush=True,
        )
    else:
        print("TalkRooms did not become healthy; see run/logs/", file=sys.stderr, flush=True)
    return supervisord.wait()


def default_workers() -> int:
    return max(2, os.cpu_count() or 2)
