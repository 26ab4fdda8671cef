"""Processes of the operations tests: `talkrooms rq-worker|scheduler` and Prometheus.

Like support/processes.py, each class owns one OS process and stops it by PID.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from tests.support.processes import VENV_BIN, ManagedProcess, free_port, wait_until


def ops_environment(redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of an ops command: our Redis, quick cadences for tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")}
    env.update(
        REDIS_URL=redis_url,
        LOG_LEVEL="INFO",
        HEARTBEAT_INTERVAL_SECONDS="1",
        WORKER_DEAD_AFTER_SECONDS="3",
        METRICS_CACHE_SECONDS="0",
    )
    env.update(extra)
    return env


class TalkroomsCommand(ManagedProcess):
    """`<venv>/bin/talkrooms <command>`, exactly as supervisord starts it."""

    def __init__(
        self, work_dir: Path, command: str, redis_url: str, env: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{command}-{free_port()}", work_dir)
        self.command = command
        self.env = ops_environment(redis_url, **dict(env or {}))

    def start(self) -> TalkroomsCommand:
        self.spawn([str(VENV_BIN / "talkrooms"), self.command], env=self.env)
        return self


class RQWorkerProcess(TalkroomsCommand):
    """`talkrooms rq-worker` with its metrics endpoint on a free loopback port."""

    def __init__(
        self, work_dir: Path, redis_url: str, env: Mapping[str, str] | None = None
    ) -> None:
        self.metrics_port = free_port()
        merged = {"RQ_METRICS_PORT": str(self.metrics_port), **dict(env or {})}
        super().__init__(work_dir, "rq-worker", redis_url, merged)

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def start(self) -> RQWorkerProcess:
        super().start()
        try:
            wait_until(
                lambda: requests.get(self.metrics_url, timeout=2).status_code == 200,
                20,
                "the RQ worker's metrics endpoint",
            )
        except TimeoutError:
            raise TimeoutError(f"rq-worker did not start:\n{self.log_tail()}") from None
        return self


class PrometheusServer(ManagedProcess):
    """Debian's prometheus on a free loopback port, its TSDB under the test's folder."""

    def __init__(self, work_dir: Path, config: Path) -> None:
        self.port = free_port()
        super().__init__(f"prometheus-{self.port}", work_dir)
        self.config = config
        self.data_dir = work_dir / f"prometheus-data-{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PrometheusServer:
        binary = shutil.which("prometheus")
        if binary is None:
            raise RuntimeError("prometheus is not installed (make test installs it)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.spawn(
            [
                binary,
                f"--config.file={self.config}",
                f"--storage.tsdb.path={self.data_dir}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ]
        )
        try:
            wait_until(
                lambda: requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200,
                30,
                "prometheus ready",
            )
        except TimeoutError:
            raise TimeoutError(f"prometheus did not start:\n{self.log_tail()}") from None
        return self

    def api(self, path: str, **params: Any) -> dict[str, Any]:
        response = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body: dict[str, Any] = response.json()
        return body

    def query(self, expr: str) -> dict[str, Any]:
        return self.api("query", query=expr)
