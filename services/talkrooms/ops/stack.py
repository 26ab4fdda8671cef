"""`make run`: the whole local stack under supervisord, a kept process manager.

The plan (ports, counts, which programs) is plain data; rendering turns it into
run/supervisord.conf (from deploy/supervisord.conf.j2) and run/nginx/nginx.conf (from
nginx/talkrooms.conf.j2), so tests check exactly what `make run` starts without starting
it. `run` starts supervisord in the foreground, waits until every worker and nginx
answer /api/health, prints the URL, and stops everything on Ctrl-C (supervisord stops each
program with its whole process group on SIGINT/SIGTERM).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2

from talkrooms.ops import redis_cluster
from talkrooms.storage import database

REPO_ROOT = Path(__file__).resolve().parents[3]
RUN_DIR = REPO_ROOT / "run"
VENV_BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"

# The entry points docker-compose.yml uses too (a test keeps the two in step).
GUNICORN_CONF = "deploy/gunicorn.conf.py"
WSGI_APP = "talkrooms.wsgi:app"
SUPERVISORD_TEMPLATE = "deploy/supervisord.conf.j2"
NGINX_RENDERER = "nginx/render.py"
STATIC_ROOT = "services/talkrooms/web/static"

HEALTH_TIMEOUT_SECONDS = 60.0

# `make run CLUSTER=1`: 3 primaries and a replica of each, the smallest cluster that fails
# over. Their ports follow Redis' (nodes on +1..+6, cluster bus on +7..+12): picked, not
# port + 10000, which may fall in the ephemeral range where any outgoing socket can hold it.
CLUSTER_NODES = 6
CLUSTER_REPLICAS = 1
# Longer than the tests' 2 s: a busy laptop (a build, a browser) can stall a node that long,
# and a failover it did not need is only noise here.
CLUSTER_NODE_TIMEOUT_MS = 5000
CLUSTER_FORM_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class OptionalProgram:
    """A program that joins the stack once the module it runs exists."""

    name: str
    module: str
    args: tuple[str, ...]

    def available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None


# The hook for programs other work brings: add a line here and nothing else changes.
# Each runs `<venv>/bin/talkrooms <args>`; docker-compose.yml has the same commands.
OPTIONAL_PROGRAMS: tuple[OptionalProgram, ...] = (
    OptionalProgram("rq-worker", "talkrooms.jobs.tasks", ("rq-worker",)),
    OptionalProgram("rq-scheduler", "talkrooms.jobs.tasks", ("scheduler",)),
)


@dataclass(frozen=True)
class Program:
    """One supervisord program."""

    name: str
    argv: tuple[str, ...]
    priority: int
    environment: Mapping[str, str] = field(default_factory=dict)
    stop_wait_seconds: int = 10
    # A job that runs once at start (forming the cluster): never restarted, exit 0 is done.
    one_shot: bool = False

    @property
    def command(self) -> str:
        # supervisord splits `command` with shlex and expands %(...)s: escape both.
        return shlex.join(self.argv).replace("%", "%%")

    @property
    def environment_line(self) -> str:
        return ",".join(
            f'{key}="{value.replace("%", "%%")}"' for key, value in self.environment.items()
        )


@dataclass(frozen=True)
class StackPlan:
    """What `make run` starts: nginx on the public port, the rest on loopback."""

    public_host: str
    public_port: int
    worker_ports: tuple[int, ...]
    redis_port: int
    run_dir: Path
    optional_programs: tuple[OptionalProgram, ...]
    open_files: int
    nginx_processes: int
    database_url: str = ""
    # `make run CLUSTER=1`: the chat's Redis Cluster (node and bus ports, same order).
    cluster_ports: tuple[int, ...] = ()
    cluster_bus_ports: tuple[int, ...] = ()

    @property
    def effective_database_url(self) -> str:
        """DATABASE_URL when given, else SQLite in the run folder (nothing to install)."""
        return self.database_url or f"sqlite:///{self.run_dir / 'talkrooms.db'}"

    @property
    def redis_url(self) -> str:
        """The plain Redis: the chat's, or only RQ's when the chat is on a cluster."""
        return f"redis://{LOOPBACK}:{self.redis_port}/0"

    @property
    def cluster(self) -> bool:
        return bool(self.cluster_ports)

    @property
    def chat_redis_url(self) -> str:
        """REDIS_URL of the workers: the cluster (every node a seed) or the plain Redis."""
        return redis_cluster.cluster_url(self.cluster_ports) if self.cluster else self.redis_url

    def redis_environment(self) -> dict[str, str]:
        """The Redis settings of every app process (workers and RQ programs)."""
        if not self.cluster:
            return {"REDIS_URL": self.redis_url}
        # RQ needs a plain Redis; acks wait for a replica, so a failover loses no ack.
        return {
            "REDIS_URL": self.chat_redis_url,
            "RQ_REDIS_URL": self.redis_url,
            "REDIS_WAIT_REPLICAS": str(CLUSTER_REPLICAS),
        }

    def cluster_dir(self, port: int) -> Path:
        """One node's nodes.conf and AOF: kept, so the next `make run` reuses the cluster."""
        return self.run_dir / "redis-cluster" / str(port)

    @property
    def upload_dir(self) -> Path:
        """Shared files on local disk (the workers write, nginx sends, cleanup removes)."""
        return self.run_dir / "uploads"

    @property
    def url(self) -> str:
        return f"http://localhost:{self.public_port}"

    @property
    def check_host(self) -> str:
        """Where this machine reaches nginx (0.0.0.0 is not an address to connect to)."""
        return LOOPBACK if self.public_host in ("0.0.0.0", "::", "*") else self.public_host

    def health_urls(self) -> list[str]:
        workers = [f"http://{LOOPBACK}:{port}/api/health" for port in self.worker_ports]
        return [*workers, f"http://{self.check_host}:{self.public_port}/api/health"]


def default_workers() -> int:
    """One worker per CPU core, at least two (one process holds one core under gevent)."""
    return max(2, os.cpu_count() or 2)


def open_files_limit() -> int:
    """The most open files a process may have here, at most 20,000 (nginx's ceiling)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        return 20_000
    return min(hard, 20_000)


def plan(
    public_port: int = 5000,
    workers: int | None = None,
    redis_port: int = 6379,
    worker_base_port: int | None = None,
    public_host: str = LOOPBACK,
    run_dir: Path = RUN_DIR,
    optional_programs: tuple[OptionalProgram, ...] | None = None,
    database_url: str | None = None,
    cluster: bool = False,
    cluster_base_port: int | None = None,
) -> StackPlan:
    """Workers on consecutive ports after the base (default: the public port); with
    `cluster`, 6 nodes on cluster_base_port+1..+6 (default: the Redis port) and their
    cluster bus on +7..+12."""
    count = workers or default_workers()
    if count < 1:
        raise ValueError("WORKERS must be at least 1")
    base = public_port if worker_base_port is None else worker_base_port
    ports = tuple(base + i for i in range(1, count + 1))
    if public_port in ports or redis_port in ports or redis_port == public_port:
        raise ValueError(f"ports overlap: public {public_port}, redis {redis_port}, {ports}")
    nodes, buses = cluster_ports(redis_port, cluster_base_port) if cluster else ((), ())
    if {public_port, redis_port, *ports} & {*nodes, *buses}:
        raise ValueError(f"cluster ports {nodes} / {buses} overlap the stack's {ports}")
    if optional_programs is None:
        optional_programs = tuple(p for p in OPTIONAL_PROGRAMS if p.available())
    return StackPlan(
        public_host=public_host,
        public_port=public_port,
        worker_ports=ports,
        redis_port=redis_port,
        run_dir=run_dir,
        optional_programs=optional_programs,
        open_files=open_files_limit(),
        nginx_processes=max(2, os.cpu_count() or 2),
        database_url=database_url or "",
        cluster_ports=nodes,
        cluster_bus_ports=buses,
    )


def cluster_ports(redis_port: int, base: int | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The nodes' ports (base+1..+6) and their cluster bus ports (base+7..+12)."""
    first = (redis_port if base is None else base) + 1
    nodes = tuple(range(first, first + CLUSTER_NODES))
    buses = tuple(range(first + CLUSTER_NODES, first + 2 * CLUSTER_NODES))
    if buses[-1] > 65535:
        raise ValueError(f"cluster ports past 65535 from base {first - 1}")
    return nodes, buses


# -- programs and config files -------------------------------------------------------------


def _binary(name: str) -> str:
    """Debian puts nginx in /usr/sbin, which a non-root PATH may lack."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin") or name


def nginx_paths(stack: StackPlan) -> tuple[Path, Path]:
    """nginx's own folder (pid, temp files) and its rendered config."""
    folder = stack.run_dir / "nginx"
    return folder, folder / "nginx.conf"


def cluster_programs(stack: StackPlan) -> list[Program]:
    """The cluster's nodes, then the one-shot that forms it (or waits for the formed one).

    supervisord does not wait for one priority before starting the next, so the form step
    waits for the nodes itself, and the workers wait for the formed cluster (wsgi.py).
    """
    found = [
        Program(
            f"redis-node-{port}",
            tuple(
                redis_cluster.cluster_node_argv(
                    _binary("redis-server"),
                    port,
                    stack.cluster_dir(port),
                    CLUSTER_NODE_TIMEOUT_MS,
                    bus_port=bus,
                )
            ),
            priority=11,
        )
        for port, bus in zip(stack.cluster_ports, stack.cluster_bus_ports, strict=True)
    ]
    found.append(
        Program(
            "redis-cluster-form",
            (
                str(VENV_BIN / "talkrooms"),
                "redis-cluster-form",
                *("--ports", ",".join(str(port) for port in stack.cluster_ports)),
                *("--replicas", str(CLUSTER_REPLICAS)),
                *("--timeout", str(CLUSTER_FORM_TIMEOUT_SECONDS)),
                *("--redis-cli", _binary("redis-cli")),
            ),
            priority=15,
            one_shot=True,
        )
    )
    return found


def programs(stack: StackPlan) -> list[Program]:
    """Every supervisord program, in start order."""
    logs = stack.run_dir / "logs"
    found: list[Program] = [
        Program(
            "redis",
            (
                _binary("redis-server"),
                *("--port", str(stack.redis_port), "--bind", LOOPBACK),
                *("--dir", str(stack.run_dir / "redis"), "--protected-mode", "yes"),
                # AOF, fsync once a second: a restart keeps the history.
                *("--appendonly", "yes", "--appendfsync", "everysec", "--save", ""),
                *("--daemonize", "no"),
            ),
            priority=10,
        )
    ]
    if stack.cluster:
        found += cluster_programs(stack)
    for upstream in worker_upstreams(stack):
        found.append(
            Program(
                f"worker-{upstream.port}",
                (str(VENV_BIN / "gunicorn"), "-c", str(REPO_ROOT / GUNICORN_CONF), WSGI_APP),
                priority=20,
                environment={
                    "SERVER_PORT": str(upstream.port),
                    "SERVER_HOST": LOOPBACK,
                    **stack.redis_environment(),
                    "DATABASE_URL": stack.effective_database_url,
                    "WORKER_ROUTE": upstream.id,
                    "UPLOAD_DIR": str(stack.upload_dir),
                    "FILES_ACCEL_PREFIX": files_location(),
                },
                stop_wait_seconds=15,
            )
        )
    nginx_dir, nginx_conf = nginx_paths(stack)
    found.append(
        Program(
            "nginx",
            (
                _binary("nginx"),
                *("-p", f"{nginx_dir}/", "-e", str(logs / "nginx-error.log")),
                *("-c", str(nginx_conf)),
            ),
            priority=30,
        )
    )
    for optional in stack.optional_programs:
        found.append(
            Program(
                optional.name,
                (str(VENV_BIN / "talkrooms"), *optional.args),
                priority=40,
                environment={
                    **stack.redis_environment(),
                    "DATABASE_URL": stack.effective_database_url,
                    "UPLOAD_DIR": str(stack.upload_dir),
                },
            )
        )
    return found


def render_supervisord(stack: StackPlan) -> str:
    """run/supervisord.conf for this plan."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(REPO_ROOT),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    all_programs = programs(stack)
    return env.get_template(SUPERVISORD_TEMPLATE).render(
        run_dir=stack.run_dir,
        logs=stack.run_dir / "logs",
        directory=REPO_ROOT,
        minfds=stack.open_files,
        programs=[
            {
                "name": p.name,
                "command": p.command,
                "environment": p.environment_line,
                "priority": p.priority,
                "stop_wait_seconds": p.stop_wait_seconds,
                "one_shot": p.one_shot,
            }
            for p in all_programs
        ],
        worker_names=[p.name for p in all_programs if p.name.startswith("worker-")],
        cluster_node_names=[p.name for p in all_programs if p.name.startswith("redis-node-")],
    )


def load_nginx_renderer() -> ModuleType:
    """nginx/render.py lives with the nginx template, outside this package."""
    name = "talkrooms_nginx_render"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / NGINX_RENDERER)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {NGINX_RENDERER}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def current_user() -> str:
    """Who runs `make run`: nginx's workers run as them too (not nobody, who may not read
    a checkout under /root)."""
    return pwd.getpwuid(os.getuid()).pw_name


def worker_upstreams(stack: StackPlan) -> tuple[Any, ...]:
    """The workers as nginx lists them; each runs with WORKER_ROUTE = its upstream id."""
    return tuple(load_nginx_renderer().upstreams([(LOOPBACK, p) for p in stack.worker_ports]))


def nginx_options(stack: StackPlan) -> Any:
    """The renderer's NginxOptions for this plan: loopback workers, files under run/."""
    renderer = load_nginx_renderer()
    nginx_dir, _conf = nginx_paths(stack)
    return renderer.NginxOptions(
        listen=f"{stack.public_host}:{stack.public_port}",
        workers=worker_upstreams(stack),
        static_root=str(REPO_ROOT / STATIC_ROOT),
        upload_root=str(stack.upload_dir),
        run_dir=str(nginx_dir),
        error_log=str(stack.run_dir / "logs" / "nginx-error.log"),
        access_log=str(stack.run_dir / "logs" / "nginx-access.log"),
        worker_processes=stack.nginx_processes,
        rlimit_nofile=stack.open_files,
        user=current_user(),
    )


def files_location() -> str:
    """nginx's internal location of shared files: the workers' FILES_ACCEL_PREFIX."""
    return str(load_nginx_renderer().FILES_LOCATION)


def render_nginx(stack: StackPlan) -> str:
    """run/nginx/nginx.conf for this plan."""
    return str(load_nginx_renderer().render(nginx_options(stack)))


def write_files(stack: StackPlan) -> Path:
    """Create the run folders and both configs; returns the supervisord config path."""
    for folder in ("logs", "redis", "nginx", "uploads"):
        (stack.run_dir / folder).mkdir(parents=True, exist_ok=True)
    for port in stack.cluster_ports:
        stack.cluster_dir(port).mkdir(parents=True, exist_ok=True)
    _nginx_dir, nginx_conf = nginx_paths(stack)
    nginx_conf.write_text(render_nginx(stack))
    conf = stack.run_dir / "supervisord.conf"
    conf.write_text(render_supervisord(stack))
    return conf


# -- running -------------------------------------------------------------------------------


def busy_ports(stack: StackPlan) -> list[int]:
    """Ports of the plan that something already listens on (a clear error beats a crash loop)."""
    wanted = [(stack.public_host, stack.public_port), (LOOPBACK, stack.redis_port)]
    wanted += [(LOOPBACK, port) for port in stack.worker_ports]
    wanted += [(LOOPBACK, port) for port in (*stack.cluster_ports, *stack.cluster_bus_ports)]
    busy = []
    for host, port in wanted:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                busy.append(port)
    return busy


def already_running(stack: StackPlan) -> bool:
    """A supervisord of an earlier `make run` still answers on run/supervisor.sock."""
    sock_path = stack.run_dir / "supervisor.sock"
    if not sock_path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(sock_path))
        except OSError:
            return False
    return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_healthy(urls: list[str], timeout: float, alive: Callable[[], bool]) -> list[str]:
    """Poll until every URL answers 200; returns those that did not (empty: all healthy)."""
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending and alive() and time.monotonic() < deadline:
        pending = [url for url in pending if not _answers(url)]
        if pending:
            time.sleep(0.2)
    return pending


def lan_address() -> str | None:
    """This machine's address on its default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            return str(probe.getsockname()[0])
        except OSError:
            return None


def banner(stack: StackPlan) -> str:
    ports = stack.worker_ports
    lines = [
        "",
        f"  TalkRooms is up: {stack.url}",
        f"  {len(ports)} chat workers on {LOOPBACK}:{ports[0]}-{ports[-1]}, "
        f"Redis on {LOOPBACK}:{stack.redis_port}, nginx on {stack.public_host}:{stack.public_port}",
    ]
    if stack.cluster:
        nodes = stack.cluster_ports
        lines.append(
            f"  Redis Cluster (3 primaries, 3 replicas) on {LOOPBACK}:{nodes[0]}-{nodes[-1]}"
            f" for the chat; Redis on {stack.redis_port} keeps RQ's queues"
        )
    if stack.check_host != stack.public_host:
        address = lan_address()
        if address:
            lines.append(f"  on the LAN: http://{address}:{stack.public_port}")
    lines += [f"  logs: {stack.run_dir / 'logs'}   status: make status   stop: Ctrl-C", ""]
    return "\n".join(lines)


def cluster_in_sync(stack: StackPlan) -> bool:
    """Every node agrees and every replica is in sync: acks wait for a replica (WAIT)."""
    return redis_cluster.wait_ready(
        stack.cluster_ports, CLUSTER_REPLICAS, CLUSTER_FORM_TIMEOUT_SECONDS
    )


def migrate(stack: StackPlan) -> None:
    """`talkrooms db upgrade` for the stack's database."""
    database.upgrade(stack.effective_database_url)


def run(stack: StackPlan) -> int:
    """Start the stack in the foreground; returns supervisord's exit code."""
    if already_running(stack):
        print("TalkRooms is already running (make status / make stop).", file=sys.stderr)
        return 1
    busy = busy_ports(stack)
    if busy:
        print(f"Ports already in use: {busy}; free them or set PORT=.", file=sys.stderr)
        return 1
    conf = write_files(stack)
    # Migrate before any worker starts (docker-compose's `migrate` service does the same).
    try:
        migrate(stack)
    except Exception as exc:
        print(f"Database migration failed: {exc}", file=sys.stderr)
        return 1
    supervisord = subprocess.Popen([str(VENV_BIN / "supervisord"), "-c", str(conf)])

    def forward(signum: int, _frame: object) -> None:
        if supervisord.poll() is None:
            supervisord.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    unhealthy = wait_healthy(
        stack.health_urls(), HEALTH_TIMEOUT_SECONDS, lambda: supervisord.poll() is None
    )
    if not unhealthy and stack.cluster and not cluster_in_sync(stack):
        unhealthy = [f"the Redis Cluster on {list(stack.cluster_ports)}"]
    if supervisord.poll() is None:
        if unhealthy:
            print(
                f"Not healthy after {HEALTH_TIMEOUT_SECONDS:.0f} s: {', '.join(unhealthy)}; "
                f"see {stack.run_dir / 'logs'}",
                file=sys.stderr,
                flush=True,
            )
        else:
            print(banner(stack), flush=True)
    return supervisord.wait()
