"""What `make run` would start, checked without starting it: plan, supervisord, nginx.

nginx itself (`nginx -t`) and supervisord's own parser judge the rendered files.
"""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from supervisor.options import ServerOptions

from talkrooms.cli import build_parser
from talkrooms.ops import stack
from tests.support.processes import free_port

JOBS = stack.OptionalProgram("rq-worker", "talkrooms.jobs.tasks", ("rq-worker",))
SCHEDULER = stack.OptionalProgram("rq-scheduler", "talkrooms.jobs.tasks", ("scheduler",))


def make_plan(tmp_path: Path, workers: int, **kwargs: object) -> stack.StackPlan:
    return stack.plan(
        public_port=5000,
        workers=workers,
        redis_port=6379,
        run_dir=tmp_path / "run",
        **kwargs,  # type: ignore[arg-type]
    )


def supervisord_sections(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return parser


def directives(nginx_conf: str) -> str:
    """The config without its comments (which may name what it avoids, like ip_hash)."""
    return re.sub(r"(?m)^\s*#.*\n|\s+#.*$", "", nginx_conf)


def nginx_test(conf: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    assert binary, "nginx is not installed (make test installs it)"
    return subprocess.run(
        [binary, "-t", "-p", f"{prefix}/", "-e", str(prefix / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=20,
    )


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_plan_puts_workers_after_the_public_port_and_nginx_in_front(tmp_path, workers):
    plan = make_plan(tmp_path, workers)
    assert plan.worker_ports == tuple(5001 + i for i in range(workers))
    assert plan.public_host == "127.0.0.1"
    assert plan.url == "http://localhost:5000"
    assert plan.health_urls()[-1] == "http://127.0.0.1:5000/api/health"
    assert len(plan.health_urls()) == workers + 1


def test_default_worker_count_is_the_cores_and_at_least_two(tmp_path):
    plan = stack.plan(run_dir=tmp_path)
    assert len(plan.worker_ports) == stack.default_workers() >= 2


def test_a_worker_base_port_moves_the_workers(tmp_path):
    plan = make_plan(tmp_path, 3, worker_base_port=7000)
    assert plan.worker_ports == (7001, 7002, 7003)


def test_overlapping_ports_are_refused(tmp_path):
    with pytest.raises(ValueError):
        stack.plan(public_port=5000, workers=2, redis_port=5002, run_dir=tmp_path)


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_supervisord_runs_redis_with_aof_each_worker_on_its_port_and_nginx(tmp_path, workers):
    plan = make_plan(tmp_path, workers, optional_programs=())
    conf = supervisord_sections(stack.render_supervisord(plan))

    redis = shlex.split(conf.get("program:redis", "command"))
    assert redis[redis.index("--appendonly") + 1] == "yes"
    assert redis[redis.index("--appendfsync") + 1] == "everysec"
    assert redis[redis.index("--dir") + 1] == str(tmp_path / "run" / "redis")
    assert redis[redis.index("--bind") + 1] == "127.0.0.1"

    worker_sections = [s for s in conf.sections() if s.startswith("program:worker-")]
    assert len(worker_sections) == workers
    for port in plan.worker_ports:
        section = f"program:worker-{port}"
        command = shlex.split(conf.get(section, "command"))
        assert command[-3:] == ["-c", str(stack.REPO_ROOT / stack.GUNICORN_CONF), stack.WSGI_APP]
        environment = conf.get(section, "environment")
        assert f'SERVER_PORT="{port}"' in environment
        assert 'SERVER_HOST="127.0.0.1"' in environment
        assert 'REDIS_URL="redis://127.0.0.1:6379/0"' in environment
        assert conf.get(section, "stopasgroup") == "true"
    assert conf.get("group:workers", "programs").split(",") == [
        f"worker-{port}" for port in plan.worker_ports
    ]

    nginx = shlex.split(conf.get("program:nginx", "command"))
    assert nginx[nginx.index("-c") + 1] == str(tmp_path / "run" / "nginx" / "nginx.conf")
    assert not any(s.startswith("program:rq") for s in conf.sections())
    assert int(conf.get("supervisord", "minfds")) <= 20_000


def test_supervisord_itself_accepts_the_rendered_config(tmp_path):
    plan = make_plan(tmp_path, 2, optional_programs=(JOBS, SCHEDULER))
    path = stack.write_files(plan)
    options = ServerOptions()
    options.realize(args=["-c", str(path)])
    names = sorted(group.name for group in options.process_group_configs)
    assert names == ["nginx", "redis", "rq-scheduler", "rq-worker", "workers"]


def test_rq_programs_join_only_when_talkrooms_jobs_exists(tmp_path, monkeypatch):
    monkeypatch.setattr(stack.OptionalProgram, "available", lambda self: False)
    assert stack.plan(workers=2, run_dir=tmp_path).optional_programs == ()

    monkeypatch.setattr(stack.OptionalProgram, "available", lambda self: True)
    plan = stack.plan(workers=2, run_dir=tmp_path)
    conf = supervisord_sections(stack.render_supervisord(plan))
    worker = shlex.split(conf.get("program:rq-worker", "command"))
    scheduler = shlex.split(conf.get("program:rq-scheduler", "command"))
    assert worker == [str(stack.VENV_BIN / "talkrooms"), "rq-worker"]
    assert scheduler == [str(stack.VENV_BIN / "talkrooms"), "scheduler"]
    assert 'REDIS_URL="redis://127.0.0.1:6379/0"' in conf.get("program:rq-worker", "environment")


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_nginx_accepts_the_rendered_config(tmp_path, workers):
    plan = make_plan(tmp_path, workers, optional_programs=())
    stack.write_files(plan)
    nginx_dir, conf = stack.nginx_paths(plan)
    result = nginx_test(conf, nginx_dir)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_nginx_config_pins_each_worker_by_cookie_and_spreads_first_requests(tmp_path, workers):
    text = directives(stack.render_nginx(make_plan(tmp_path, workers)))
    pool = re.search(r"upstream talkrooms_pool \{(.*?)\}", text, re.S)
    assert pool is not None
    assert "least_conn;" in pool.group(1)
    assert "ip_hash" not in text
    for index, port in enumerate(range(5001, 5001 + workers), 1):
        assert pool.group(1).count(f"server 127.0.0.1:{port} max_fails=0;") == 1
        assert f"w{index} talkrooms_w{index};" in text
        group = re.search(rf"upstream talkrooms_w{index} \{{(.*?)\}}", text, re.S)
        assert group is not None
        assert f"server 127.0.0.1:{port} max_fails=0;" in group.group(1)
        assert group.group(1).count(" backup;") == workers - 1
        assert f'"talkrooms_worker=w{index}; Path=/; HttpOnly; SameSite=Lax"' in text
    assert "add_header Set-Cookie $talkrooms_worker_cookie;" in text


def test_nginx_config_has_the_proxy_essentials(tmp_path):
    text = directives(stack.render_nginx(make_plan(tmp_path, 2)))
    assert "listen 127.0.0.1:5000 " in text
    assert "proxy_set_header Host $http_host;" in text
    assert "proxy_set_header X-Real-IP $remote_addr;" in text
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    read_timeout = re.search(r"proxy_read_timeout (\d+)s;", text)
    assert read_timeout is not None and int(read_timeout.group(1)) > 25 + 20
    connections = re.search(r"worker_connections (\d+);", text)
    assert connections is not None and int(connections.group(1)) > 768
    processes = re.search(r"worker_processes (\d+);", text)
    assert processes is not None and int(processes.group(1)) >= 2
    nofile = re.search(r"worker_rlimit_nofile (\d+);", text)
    assert nofile is not None and int(nofile.group(1)) <= 20_000
    assert f"alias {stack.REPO_ROOT / stack.STATIC_ROOT}/;" in text
    assert re.search(r"location \^~ /metrics \{\s*return 404;", text)
    assert "/etc/nginx" not in text
    assert "client_max_body_size 65536;" in text


def test_listen_host_opens_nginx_to_the_lan(tmp_path):
    plan = make_plan(tmp_path, 2, public_host="0.0.0.0")
    assert "listen 0.0.0.0:5000 " in stack.render_nginx(plan)
    assert plan.health_urls()[-1] == "http://127.0.0.1:5000/api/health"
    # Workers and Redis stay on loopback whatever nginx listens on.
    conf = stack.render_supervisord(plan)
    assert "0.0.0.0" not in conf


def test_renderer_refuses_an_open_file_limit_nginx_cannot_get():
    renderer = stack.load_nginx_renderer()
    options = renderer.compose_options()
    with pytest.raises(ValueError):
        renderer.render(renderer.NginxOptions(**{**options.__dict__, "rlimit_nofile": 20_001}))
    with pytest.raises(ValueError):
        renderer.render(renderer.NginxOptions(**{**options.__dict__, "worker_processes": 1}))


# -- make run CLUSTER=1 ----------------------------------------------------------------------

CLUSTER_URL = (
    "redis+cluster://127.0.0.1:6380,127.0.0.1:6381,127.0.0.1:6382,"
    "127.0.0.1:6383,127.0.0.1:6384,127.0.0.1:6385/0"
)


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_cluster_plan_has_six_nodes_with_distinct_ports_and_bus_ports(tmp_path):
    plan = make_plan(tmp_path, 2, cluster=True)
    assert plan.cluster_ports == (6380, 6381, 6382, 6383, 6384, 6385)
    assert plan.cluster_bus_ports == (6386, 6387, 6388, 6389, 6390, 6391)
    assert plan.chat_redis_url == CLUSTER_URL
    assert plan.redis_url == "redis://127.0.0.1:6379/0"
    conf = supervisord_sections(stack.render_supervisord(plan))
    nodes = [s for s in conf.sections() if s.startswith("program:redis-node-")]
    assert len(nodes) == 6
    seen: set[int] = set()
    for port, bus in zip(plan.cluster_ports, plan.cluster_bus_ports, strict=True):
        section = f"program:redis-node-{port}"
        argv = shlex.split(conf.get(section, "command"))
        assert option(argv, "--port") == str(port)
        assert option(argv, "--cluster-port") == str(bus)
        assert option(argv, "--cluster-enabled") == "yes"
        assert option(argv, "--appendonly") == "yes"
        assert option(argv, "--bind") == "127.0.0.1"
        assert option(argv, "--dir") == str(tmp_path / "run" / "redis-cluster" / str(port))
        assert int(conf.get(section, "priority")) < 20
        seen |= {port, bus}
    assert len(seen) == 12 and seen.isdisjoint({5000, 6379, *plan.worker_ports})
    assert conf.get("group:redis-cluster", "programs").split(",") == [
        f"redis-node-{port}" for port in plan.cluster_ports
    ]
    assert int(conf.get("group:redis-cluster", "priority")) < 20
    # The plain Redis stays, for RQ.
    assert option(shlex.split(conf.get("program:redis", "command")), "--port") == "6379"


def test_cluster_plan_forms_the_cluster_once_before_the_workers(tmp_path):
    plan = make_plan(tmp_path, 2, cluster=True)
    conf = supervisord_sections(stack.render_supervisord(plan))
    section = "program:redis-cluster-form"
    argv = shlex.split(conf.get(section, "command"))
    assert argv[:2] == [str(stack.VENV_BIN / "talkrooms"), "redis-cluster-form"]
    assert option(argv, "--ports") == "6380,6381,6382,6383,6384,6385"
    assert option(argv, "--replicas") == "1"
    assert conf.get(section, "autorestart") == "false"
    assert conf.get(section, "startsecs") == "0"
    assert conf.get(section, "exitcodes") == "0"
    assert int(conf.get(section, "priority")) < 20
    # The command line knows the subcommand the program runs.
    parsed = build_parser().parse_args(argv[1:])
    assert parsed.ports == "6380,6381,6382,6383,6384,6385" and parsed.replicas == 1


def test_cluster_plan_gives_workers_and_rq_the_cluster_rq_redis_and_wait(tmp_path):
    plan = make_plan(tmp_path, 2, cluster=True, optional_programs=(JOBS, SCHEDULER))
    conf = supervisord_sections(stack.render_supervisord(plan))
    names = [f"worker-{port}" for port in plan.worker_ports] + ["rq-worker", "rq-scheduler"]
    for name in names:
        environment = conf.get(f"program:{name}", "environment")
        assert f'REDIS_URL="{CLUSTER_URL}"' in environment
        assert 'RQ_REDIS_URL="redis://127.0.0.1:6379/0"' in environment
        assert 'REDIS_WAIT_REPLICAS="1"' in environment
    assert "6380-6385" in stack.banner(plan)


def test_supervisord_itself_accepts_the_cluster_config(tmp_path):
    plan = make_plan(tmp_path, 2, cluster=True, optional_programs=(JOBS, SCHEDULER))
    path = stack.write_files(plan)
    options = ServerOptions()
    options.realize(args=["-c", str(path)])
    groups = {group.name: group for group in options.process_group_configs}
    assert sorted(groups) == [
        "nginx",
        "redis",
        "redis-cluster",
        "redis-cluster-form",
        "rq-scheduler",
        "rq-worker",
        "workers",
    ]
    assert groups["redis-cluster"].priority < groups["redis-cluster-form"].priority
    assert groups["redis-cluster-form"].priority < groups["workers"].priority
    form = groups["redis-cluster-form"].process_configs[0]
    assert form.autorestart is False and form.startsecs == 0 and form.exitcodes == [0]
    for port in plan.cluster_ports:
        assert (tmp_path / "run" / "redis-cluster" / str(port)).is_dir()


def test_non_cluster_plan_is_unchanged(tmp_path):
    plan = make_plan(tmp_path, 2, optional_programs=(JOBS,))
    assert plan.cluster_ports == () and plan.cluster_bus_ports == ()
    assert plan.chat_redis_url == plan.redis_url
    text = stack.render_supervisord(plan)
    assert "redis-node" not in text and "redis-cluster" not in text
    assert "RQ_REDIS_URL" not in text and "REDIS_WAIT_REPLICAS" not in text
    assert "exitcodes" not in text and "autorestart=false" not in text
    assert "Cluster" not in stack.banner(plan)


def test_cluster_ports_move_with_a_base_and_may_not_overlap(tmp_path):
    plan = make_plan(tmp_path, 2, cluster=True, cluster_base_port=7000)
    assert plan.cluster_ports == (7001, 7002, 7003, 7004, 7005, 7006)
    assert plan.cluster_bus_ports == (7007, 7008, 7009, 7010, 7011, 7012)
    with pytest.raises(ValueError):
        make_plan(tmp_path, 2, cluster=True, cluster_base_port=4995)  # nodes on 4996-5001
    with pytest.raises(ValueError):
        make_plan(tmp_path, 2, cluster=True, cluster_base_port=65530)


def test_busy_ports_covers_the_cluster_and_bus_ports(tmp_path):
    plan = stack.plan(
        public_port=free_port(),
        workers=1,
        redis_port=free_port(),
        worker_base_port=free_port(span=2),
        run_dir=tmp_path,
        cluster=True,
        cluster_base_port=free_port(span=13),
    )
    assert stack.busy_ports(plan) == []
    with socket.socket() as held:
        held.bind(("127.0.0.1", plan.cluster_bus_ports[-1]))
        held.listen()
        assert plan.cluster_bus_ports[-1] in stack.busy_ports(plan)
