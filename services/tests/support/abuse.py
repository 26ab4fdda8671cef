"""Helpers of the abuse, origin and exposure tests: other client addresses, raw sockets,
an nginx with chosen limits, and a worker's memory.

Every address in 127.0.0.0/8 is this machine, so a client can open its connection from
127.0.0.2, 127.0.0.3... and reach nginx on 127.0.0.1 as a distinct client address: that is
how one test plays several people (or one abuser) without leaving the box. nginx never
limits 127.0.0.1 itself (make run's own checks and benchmarks, nginx/render.py).
"""

from __future__ import annotations

import dataclasses
import socket
from typing import Any
from urllib.parse import urlsplit

import psutil
import requests
import websocket
from requests.adapters import HTTPAdapter

from talkrooms.ops import stack
from tests.support.processes import ChatWorker
from tests.support.stack import NginxServer


class LimitedNginx(NginxServer):
    """NginxServer rendered with chosen per-address limits (nginx/render.py options)."""

    def __init__(self, *args: Any, limits: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = dict(limits or {})

    def render(self) -> str:
        options = dataclasses.replace(self.options(), **self.limits)
        return str(stack.load_nginx_renderer().render(options))


class _SourceAdapter(HTTPAdapter):
    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def http_from(source: str) -> requests.Session:
    """A requests session whose connections leave from `source` (e.g. 127.0.0.2)."""
    session = requests.Session()
    adapter = _SourceAdapter(source)
    session.mount("http://", adapter)
    return session


def ws_connect(
    base_url: str,
    query: str = "EIO=4&transport=websocket",
    source: str | None = None,
    origin: str | None = None,
    cookie: str | None = None,
    timeout: float = 5.0,
) -> websocket.WebSocket:
    """A raw WebSocket to /socket.io/, opened from `source` when given.

    Raises websocket.WebSocketBadStatusException when the server answers the upgrade
    with an HTTP error (nginx's 429, Engine.IO's 400).
    """
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        if source:
            sock.bind((source, 0))
        sock.connect((host, port))
        url = f"ws://{host}:{port}/socket.io/?{query}"
        return websocket.create_connection(
            url,
            timeout=timeout,
            socket=sock,
            cookie=cookie,
            origin=origin,
            suppress_origin=origin is None,
            enable_multithread=True,
        )
    except BaseException:
        sock.close()
        raise


def worker_process(worker: ChatWorker) -> psutil.Process:
    """The gunicorn worker (the master's only child): the process that serves sockets."""
    children = psutil.Process(worker.pid).children()
    assert len(children) == 1, f"expected one gunicorn worker under {worker.pid}: {children}"
    return children[0]


def rss_kb(process: psutil.Process) -> int:
    """VmRSS of a process, in kB, from /proc/<pid>/status."""
    with open(f"/proc/{process.pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {process.pid}")
