"""A real Prometheus scraping real workers and the RQ worker after some chat traffic.

promtool checks the deployed config and rules; then Debian's prometheus, with a config
rendered by talkrooms.prometheus_config for this test's ports (1 s scrapes), must find
every target up, parse every PromQL expression of the dashboard and the rules, evaluate
every rule without error, and return data for every dashboard query.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from rq import Queue
from rq.job import Job, JobStatus

from talkrooms.jobs import tasks as jobs
from talkrooms.ops import prometheus_config
from tests.support.client import ChatClient
from tests.support.ops import PrometheusServer, RQWorkerProcess
from tests.support.processes import ChatWorker, RedisServer, wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
RULES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "talkrooms.json"
# Grafana's macros, as Grafana would expand them for a short range.
GRAFANA_MACROS = {"$__rate_interval": "15s", "$__interval": "1s", "$__range": "5m"}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        raise RuntimeError("promtool is not installed (make test installs prometheus)")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)


def dashboard_queries() -> list[tuple[str, str]]:
    queries = []
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for macro, value in GRAFANA_MACROS.items():
                expr = expr.replace(macro, value)
            queries.append((f"{panel['title']} / {target['refId']}", expr))
    return queries


def test_promtool_accepts_the_deployed_config_and_rules(tmp_path):
    done = promtool("check", "config", str(PROMETHEUS_DIR / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert RULES, "no rule files"
    done = promtool("check", "rules", *map(str, RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    local = prometheus_config.write_local(tmp_path / "local.yml", [5001, 5002], [9191])
    done = promtool("check", "config", str(local))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def stack(work_dir: Path) -> Iterator[dict[str, Any]]:
    """Redis, two chat workers, the RQ worker and Prometheus scraping them every second."""
    folder = work_dir / f"prom-{uuid.uuid4().hex[:6]}"
    started: list[Any] = []
    try:
        redis_server = RedisServer(folder).start()
        started.append(redis_server)
        env = {"METRICS_CACHE_SECONDS": "0.5"}
        workers = [ChatWorker(folder, redis_server.url, env=env) for _ in range(2)]
        for worker in workers:
            started.append(worker)
            worker.start()
        rq_worker = RQWorkerProcess(folder, redis_server.url, env=env).start()
        started.append(rq_worker)
        config = prometheus_config.write_local(
            folder / "prometheus.yml",
            [w.port for w in workers],
            [rq_worker.metrics_port],
            scrape_interval="1s",
        )
        prometheus = PrometheusServer(folder, config).start()
        started.append(prometheus)
        yield {"redis": redis_server, "workers": workers, "rq": rq_worker, "prom": prometheus}
    finally:
        for process in reversed(started):
            process.stop()


def chat_traffic(workers: list[ChatWorker]) -> None:
    """Two people on two workers: local and cross-worker messages, one refusal."""
    alice = ChatClient(workers[0].url).connect()
    bob = ChatClient(workers[1].url).connect()
    try:
        assert alice.join("alice", "metrics")["ok"] and bob.join("bob", "metrics")["ok"]
        for index in range(10):
            assert alice.send(f"from alice {index}")["ok"] is True
            assert bob.send(f"from bob {index}")["ok"] is True
        bob.wait_count("new_message", 20, timeout=10)
        alice.wait_count("new_message", 20, timeout=10)
        assert alice.send("   ")["code"] == "invalid"
    finally:
        alice.close()
        bob.close()


def run_cleanup_job(redis_server: RedisServer) -> None:
    client = redis_server.client()
    job = Queue("talkrooms", connection=client).enqueue(jobs.cleanup_rooms)
    wait_until(
        lambda: Job.fetch(job.id, connection=client).get_status() == JobStatus.FINISHED,
        20,
        "the cleanup job on the RQ worker",
    )


def test_prometheus_scrapes_every_target_and_every_panel_has_data(stack):
    prom: PrometheusServer = stack["prom"]
    chat_traffic(stack["workers"])
    run_cleanup_job(stack["redis"])

    def all_targets_up() -> bool:
        targets = prom.api("targets")["data"]["activeTargets"]
        return len(targets) == 3 and all(t["health"] == "up" for t in targets)

    wait_until(all_targets_up, 30, "3 scrape targets up")
    queries = dashboard_queries()
    for name, expr in queries:
        assert prom.query(expr)["status"] == "success", (name, expr)

    empty: list[str] = []

    def every_panel_has_data() -> bool:
        empty[:] = [name for name, expr in queries if not prom.query(expr)["data"]["result"]]
        return not empty

    try:
        wait_until(every_panel_has_data, 40, "data for every dashboard query", every=0.5)
    except TimeoutError:
        raise AssertionError(f"dashboard queries without data: {empty}") from None

    # The numbers agree with the JSON API once Prometheus has scraped after the traffic.
    stats = requests.get(f"{stack['workers'][0].url}/api/stats", timeout=5).json()
    assert stats["messages"]["stored_total"] == 20
    expected = {
        "max(talkrooms_cluster_messages_stored_total)": stats["messages"]["stored_total"],
        "sum(talkrooms_messages_received_total)": 21,
        # Each worker relayed the other's 10 messages to its own socket: 20 fan-out timings.
        "sum(talkrooms_fanout_latency_seconds_count)": 20,
        'max(talkrooms_cleanup_runs_total{outcome="success"})': 1,
    }
    seen: dict[str, float | None] = {}

    def numbers_agree() -> bool:
        for expr in expected:
            result = prom.query(expr)["data"]["result"]
            seen[expr] = float(result[0]["value"][1]) if result else None
        return seen == expected

    try:
        wait_until(numbers_agree, 20, "Prometheus agreeing with /api/stats", every=0.5)
    except TimeoutError:
        raise AssertionError(f"expected {expected}, Prometheus says {seen}") from None


def test_every_alert_rule_parses_and_evaluates(stack):
    prom: PrometheusServer = stack["prom"]

    def rules_evaluated() -> list[dict[str, Any]] | None:
        groups = prom.api("rules")["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        # An unevaluated rule carries Go's zero time.
        if rules and not any(rule["lastEvaluation"].startswith("0001") for rule in rules):
            return rules
        return None

    wait_until(lambda: rules_evaluated() is not None, 20, "rules evaluated once")
    rules = rules_evaluated() or []
    assert {rule["name"] for rule in rules} >= {
        "TalkroomsWorkerDown",
        "TalkroomsRedisDown",
        "TalkroomsAckLatencyHigh",
        "TalkroomsCleanupFailing",
    }
    for rule in rules:
        assert rule["health"] == "ok", (rule["name"], rule.get("lastError"))
        assert prom.query(rule["query"])["status"] == "success", rule["name"]
    # With everything up and healthy, nothing fires.
    firing = [r["name"] for r in rules if r["state"] == "firing"]
    assert firing == []
