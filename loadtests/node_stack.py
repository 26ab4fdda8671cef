"""Node's socket.io with its Redis adapter as the yardstick: redis-server, N processes
of loadtests/node_baseline/server.mjs and nginx with TalkRooms' own config
(nginx/render.py, the same template `talkrooms run` renders), on free loopback ports.

The generator reaches both stacks the same way: through nginx, on raw WebSockets. Session
routing by sid does not matter here (a WebSocket is one request); nginx's least-connections
pool spreads the handshakes over the processes as it does for TalkRooms' workers.

`make bench-node-deps` installs the Node packages (npm ci).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PACKAGE = HERE / "node_baseline"
SERVER = PACKAGE / "server.mjs"
# fanout_bench.server_pids counts processes whose command line holds this as workers.
SERVER_MARK = "node_baseline/server.mjs"

sys.path.insert(0, str(REPO / "nginx"))

import render as nginx_render  # noqa: E402  (nginx/render.py, outside any package)
from run_benchmarks import redis_server, wait_healthy  # noqa: E402


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM by PID, SIGKILL after 10 s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def node_stack(
    processes: int, ports: list[int], redis_port: int, public_port: int
) -> Iterator[str]:
    """Start the stack on the given loopback ports; yields nginx's URL; stops it all."""
    if not (PACKAGE / "node_modules" / "socket.io").exists():
        raise RuntimeError(f"{PACKAGE}/node_modules is missing: run `make bench-node-deps`")
    run_dir = Path(tempfile.mkdtemp(prefix="talkrooms-node-bench-"))
    logs = run_dir / "logs"
    logs.mkdir()
    started: list[subprocess.Popen[bytes]] = []
    finished = False
    try:
        started.append(redis_server(redis_port, run_dir, (logs / "redis.log").open("w")))
        for index, port in enumerate(ports[:processes], 1):
            env = os.environ | {
                "PORT": str(port),
                "REDIS_URL": f"redis://127.0.0.1:{redis_port}",
                "NODE_INDEX": str(index),
            }
            started.append(
                subprocess.Popen(
                    ["node", str(SERVER)],
                    cwd=PACKAGE,
                    env=env,
                    stdout=(logs / f"node-{index}.log").open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
        options = nginx_render.NginxOptions(
            listen=f"127.0.0.1:{public_port}",
            workers=nginx_render.upstreams([("127.0.0.1", p) for p in ports[:processes]]),
            static_root=str(run_dir),
            run_dir=str(run_dir),
            error_log=str(logs / "nginx-error.log"),
            access_log=str(logs / "nginx-access.log"),
            worker_processes=max(2, os.cpu_count() or 2),
            user=None if os.geteuid() else "root",
        )
        conf = run_dir / "nginx.conf"
        conf.write_text(nginx_render.render(options))
        started.append(
            subprocess.Popen(
                [
                    *("nginx", "-p", f"{run_dir}/", "-e", str(logs / "nginx-error.log")),
                    *("-c", str(conf)),
                ],
                stdout=(logs / "nginx.log").open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        url = f"http://127.0.0.1:{public_port}"
        wait_healthy(url, started, 30, str(logs))
        yield url
        finished = True
    finally:
        for process in reversed(started):
            _stop(process)
        if finished:
            shutil.rmtree(run_dir, ignore_errors=True)
