"""docker-compose.yml is valid and in step with `make run` (Docker cannot run here).

Debian's docker-compose 1.29 validates and normalises the file without an engine; its
YAML library (python3-yaml, a dependency of docker-compose) reads the result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from talkrooms.ops import redis_cluster, stack

COMPOSE = stack.REPO_ROOT / "docker-compose.yml"
WORKER_COMMAND = ["gunicorn", "-c", stack.GUNICORN_CONF, stack.WSGI_APP]
YAML_TO_JSON = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"


# Variables the compose file reads: the tests see its defaults unless they set them.
COMPOSE_VARIABLES = ("PORT", "LISTEN_HOST", "REDIS_URL", "RQ_REDIS_URL", "REDIS_WAIT_REPLICAS")
CLUSTER_NODES = [f"redis-node-{n}" for n in range(1, 7)]
# What a cluster node of `make run CLUSTER=1` is told, a compose node must be told too; but
# for its addresses and folders, its daemon mode, and its node timeout (5 s in compose,
# where containers restart slower than local processes).
_LOCAL_ONLY = {
    "--port",
    "--bind",
    "--dir",
    "--cluster-config-file",
    "--protected-mode",
    "--daemonize",
    "--cluster-node-timeout",
}
_NODE_ARGV = redis_cluster.cluster_node_argv("redis-server", 7000, Path("/data"))
SAME_AS_MAKE_RUN_CLUSTER = {
    option: value
    for option, value in zip(_NODE_ARGV[1::2], _NODE_ARGV[2::2], strict=True)
    if option not in _LOCAL_ONLY
}
CLUSTER_ENV = {
    "REDIS_URL": "redis+cluster://redis-node-1:6379,redis-node-2:6379,redis-node-3:6379/0",
    "RQ_REDIS_URL": "redis://redis:6379/0",
    "REDIS_WAIT_REPLICAS": "1",
}


def docker_compose(
    *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is not installed (make test installs it)"
    env = {k: v for k, v in os.environ.items() if k not in COMPOSE_VARIABLES}
    env.update(extra_env or {})
    return subprocess.run(
        [binary, "-f", str(COMPOSE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=stack.REPO_ROOT,
        env=env,
    )


def compose_config(*args: str, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """`docker-compose [args] config`: the file as docker-compose normalises it, parsed."""
    rendered = docker_compose(*args, "config", extra_env=extra_env)
    assert rendered.returncode == 0, rendered.stderr
    parsed = subprocess.run(
        ["/usr/bin/python3", "-c", YAML_TO_JSON],
        input=rendered.stdout,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return dict(json.loads(parsed.stdout))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The normalised compose file, every profile included."""
    return compose_config("--profile", "locust")


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """target -> source of a service's volumes ("source:target[:mode]" once normalised)."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_mode = volume.split(":")
        found[target] = source
    return found


def workers_of(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if name.startswith("worker-")}


def test_compose_file_is_valid():
    result = docker_compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_has_every_service_of_the_stack(compose):
    services = set(compose["services"])
    assert {"redis", "nginx", "rq-worker", "rq-scheduler", "prometheus", "grafana"} <= services
    assert {"locust-master", "locust-worker"} <= services
    assert len(workers_of(compose)) >= 2
    for name in ("locust-master", "locust-worker"):
        assert compose["services"][name]["profiles"] == ["locust"]


def test_workers_use_make_runs_entry_point_each_on_its_own_port(compose):
    ports = []
    for service in workers_of(compose).values():
        assert service["command"] == WORKER_COMMAND
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        ports.append(int(service["environment"]["SERVER_PORT"]))
    assert len(set(ports)) == len(ports)


def test_dockerfile_defaults_to_the_same_worker_entry_point():
    dockerfile = (stack.REPO_ROOT / "deploy" / "Dockerfile").read_text()
    assert f"CMD {json.dumps(WORKER_COMMAND)}" in dockerfile
    assert "COPY requirements.lock" in dockerfile


def test_rq_programs_run_the_same_commands_as_make_run(compose):
    for program in stack.OPTIONAL_PROGRAMS:
        assert compose["services"][program.name]["command"] == ["talkrooms", *program.args]


def test_redis_keeps_its_data_with_aof_in_a_volume(compose):
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "everysec"
    assert mounts(redis)["/data"] == "redis-data"


def test_nginx_mounts_the_config_rendered_from_the_same_template(compose):
    renderer = stack.load_nginx_renderer()
    workers = workers_of(compose)
    committed = renderer.COMPOSE_CONF.read_text()
    assert committed == renderer.render(renderer.compose_options(len(workers))), (
        "nginx/compose.conf is stale: python nginx/render.py compose > nginx/compose.conf"
    )
    nginx = compose["services"]["nginx"]
    nginx_mounts = mounts(nginx)
    assert nginx_mounts["/etc/talkrooms/nginx.conf"] == str(renderer.COMPOSE_CONF)
    assert nginx_mounts["/srv/talkrooms/static"] == str(stack.REPO_ROOT / stack.STATIC_ROOT)
    assert nginx["command"][:3] == ["nginx", "-c", "/etc/talkrooms/nginx.conf"]
    # The upstreams are exactly the compose workers, on the ports they listen on, and each
    # worker's session ids start with the route nginx maps to its upstream group.
    options = renderer.compose_options(len(workers))
    routes = {upstream.host: upstream.id for upstream in options.workers}
    for name, service in workers.items():
        assert f"server {name}:{service['environment']['SERVER_PORT']} " in committed
        route = service["environment"]["WORKER_ROUTE"]
        assert route == routes[name]
        assert f'"~^{route}\\." talkrooms_{route};' in committed


def test_only_nginx_and_the_dashboards_are_published(compose):
    published = {name for name, s in compose["services"].items() if s.get("ports")}
    assert published == {"nginx", "prometheus", "grafana", "locust-master"}
    for name in ("prometheus", "grafana", "locust-master"):
        for port in compose["services"][name]["ports"]:
            assert port.startswith("127.0.0.1:")
    assert compose["networks"]["backend"]["internal"] is True
    for name in ["redis", *workers_of(compose), "rq-worker", "rq-scheduler"]:
        assert list(compose["services"][name]["networks"]) == ["backend"]


def test_monitoring_mounts_the_operations_config(compose):
    prometheus = mounts(compose["services"]["prometheus"])
    assert prometheus["/etc/prometheus/prometheus.yml"] == str(
        stack.REPO_ROOT / "deploy/prometheus/prometheus.yml"
    )
    grafana = mounts(compose["services"]["grafana"])
    assert grafana["/etc/grafana/provisioning"] == str(
        stack.REPO_ROOT / "deploy/grafana/provisioning"
    )


def test_workers_start_after_the_same_migration_as_make_run(compose):
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["talkrooms", "db", "upgrade"]
    url = migrate["environment"]["DATABASE_URL"]
    for service in workers_of(compose).values():
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["environment"]["DATABASE_URL"] == url
        assert mounts(service)["/app/run"] == mounts(migrate)["/app/run"]


# -- profile `cluster` ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster_compose() -> dict[str, Any]:
    """The file with the `cluster` profile and the chat pointed at the cluster."""
    return compose_config("--profile", "cluster", extra_env=CLUSTER_ENV)


def test_only_the_cluster_services_are_in_the_cluster_profile(compose):
    """docker-compose 1.29 lists every service whatever the profile: the profiles say it."""
    profiled = {name for name, s in compose["services"].items() if s.get("profiles")}
    default = set(compose["services"]) - profiled
    assert {"redis", "migrate", "worker-1", "worker-2", "nginx", "rq-worker"} <= default
    in_cluster = {
        name for name, s in compose["services"].items() if s.get("profiles") == ["cluster"]
    }
    assert in_cluster == {*CLUSTER_NODES, "redis-cluster-form"}
    # Unset, the chat stays on the plain Redis (the default profile as before).
    for name in [*workers_of(compose), "rq-worker"]:
        environment = compose["services"][name]["environment"]
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert environment["RQ_REDIS_URL"] == ""
        assert environment["REDIS_WAIT_REPLICAS"] == "0"


def test_cluster_profile_is_valid_with_six_aof_nodes(cluster_compose):
    result = docker_compose("--profile", "cluster", "config", "-q", extra_env=CLUSTER_ENV)
    assert result.returncode == 0, result.stderr
    volumes = set()
    for name in CLUSTER_NODES:
        node = cluster_compose["services"][name]
        assert node["image"] == "redis:7.0-alpine"
        assert node["profiles"] == ["cluster"]
        command = node["command"]
        assert command[command.index("--cluster-enabled") + 1] == "yes"
        assert command[command.index("--appendonly") + 1] == "yes"
        for option, value in SAME_AS_MAKE_RUN_CLUSTER.items():
            assert command[command.index(option) + 1] == value, option
        assert command[command.index("--dir") + 1] == "/data"
        assert list(node["networks"]) == ["backend"]
        assert not node.get("ports")
        volumes.add(mounts(node)["/data"])
    assert volumes == set(CLUSTER_NODES)


def test_cluster_profile_forms_the_cluster_once_after_the_nodes(cluster_compose):
    form = cluster_compose["services"]["redis-cluster-form"]
    assert form["profiles"] == ["cluster"]
    assert form["restart"] == "no"
    for name in CLUSTER_NODES:
        assert form["depends_on"][name]["condition"] == "service_healthy"
    script = form["command"][0]
    assert "--cluster create" in script
    assert "--cluster-replicas 1 --cluster-yes" in script
    # Idempotent: a cluster that owns every slot already is left as it is.
    assert "cluster_slots_assigned:16384" in script and "exit 0" in script
    for name in CLUSTER_NODES:
        assert name in script


def test_chat_services_take_the_cluster_from_the_environment(cluster_compose):
    app_services = [*workers_of(cluster_compose), "migrate", "rq-worker", "rq-scheduler"]
    for name in app_services:
        environment = cluster_compose["services"][name]["environment"]
        for key, value in CLUSTER_ENV.items():
            assert environment[key] == value, (name, key)
