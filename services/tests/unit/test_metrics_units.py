"""Metrics helpers, the Prometheus config renderer and the Grafana files: no servers."""

from __future__ import annotations

import gc
import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY

from talkrooms.chat.message_path import iso_now
from talkrooms.ops import prometheus_config
from talkrooms.settings import Settings
from talkrooms.storage.job_status import JobStatus
from talkrooms.storage.store import Keys, Store
from talkrooms.telemetry import gc_pauses, metrics

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "talkrooms.json"


def dashboard_targets() -> list[tuple[str, str]]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [(panel["title"], target["expr"]) for panel in panels for target in panel["targets"]]


def test_bucket_quantile_interpolates_like_promql():
    buckets = [(0.1, 0.0), (0.2, 50.0), (0.4, 100.0), (float("inf"), 100.0)]
    assert metrics.bucket_quantile(0.5, buckets) == pytest.approx(0.2)
    assert metrics.bucket_quantile(0.75, buckets) == pytest.approx(0.3)
    assert metrics.bucket_quantile(0.99, [(0.1, 0.0), (float("inf"), 0.0)]) is None
    # Past the last finite bucket PromQL answers that bucket's upper bound.
    assert metrics.bucket_quantile(0.99, [(0.1, 1.0), (float("inf"), 10.0)]) == 0.1


def test_fanout_observer_times_remote_messages_delivered_here():
    manager = SimpleNamespace(rooms={"/": {"room:a": {"sid1": "e1", "sid2": "e2"}}})
    observe = metrics.FanoutObserver(manager)
    sent = time.time() - 0.25
    text = '\\"timestamp\\":\\"1999-01-01T00:00:00.000Z\\" tricky'
    packet = (
        '2["new_message",{"id":"000000000001","username":"a","message":'
        + json.dumps(text)
        + f',"timestamp":"{iso_now(sent)}","room":"a","type":"message"}}]'
    )
    before = metrics.histogram_summary(metrics.FANOUT_LATENCY)
    deliveries = metrics._samples(metrics.DELIVERIES_LOCAL, "_total")[()]
    observe("room:a", packet)
    observe("room:nobody-here", packet)
    after = metrics.histogram_summary(metrics.FANOUT_LATENCY)
    assert after["count"] == before["count"] + 1
    assert metrics._samples(metrics.DELIVERIES_LOCAL, "_total")[()] == deliveries + 2
    # About 0.25 s: the message's own timestamp, not the decoy inside its text.
    assert 0.2 <= after["sum_seconds"] - before["sum_seconds"] < 5


def test_worker_summary_reports_every_fixed_label():
    summary = metrics.worker_summary()
    assert set(summary["messages"]["rejected_total"]) == set(metrics.REJECT_REASONS)
    assert set(summary["redis_errors_total"]) == set(metrics.REDIS_OPERATIONS)
    assert set(summary["rate_limit_hits_total"]) == set(metrics.RATE_LIMIT_KINDS)
    assert {"count", "p50_seconds", "p99_seconds"} <= set(summary["ack_latency"])


def test_job_status_reads_a_partial_record():
    status = JobStatus.from_hash({"runs_success": "3", "last_status": "ok", "key_cursor": "17"})
    assert status.runs_success == 3 and status.runs_failure == 0
    assert status.complete_walk is False
    section = status.as_dict(3600)
    assert section["runs"] == {"success": 3, "failure": 0, "skipped": 0}
    assert section["last_run_at"] is None


def test_key_parsing_and_retention_cover_every_key_kind():
    keys = Keys("tr")
    assert keys.parse_room_key("tr:room:{a:b-c}:messages") == ("a:b-c", "messages")
    assert keys.parse_room_key("tr:rooms") is None
    worker = "host-1-5001-42-abc"
    assert keys.parse_worker_conns_key(f"tr:worker:{{{worker}}}:conns") == worker
    assert keys.parse_worker_conns_key("tr:worker:{x}:info") is None
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    store = Store(settings, client=None)  # type: ignore[arg-type]
    assert store.retention_for("tr:stats") is None
    assert store.retention_for("tr:room:{a}:conns") == settings.user_ttl_seconds
    assert store.retention_for("tr:room:{a}:seq") == settings.message_ttl_seconds
    assert store.retention_for("tr:room:{a}:typing") == 30
    assert store.retention_for("tr:rooms") == settings.room_ttl_seconds
    assert store.retention_for("tr:worker:{w}:conns") == settings.user_ttl_seconds
    # The accounts' names are kept on purpose (workers rebuild them from the database).
    assert store.retention_for("tr:accounts:names") is None
    for part in ("events", "evcount", "reactions", "read"):
        assert store.retention_for(f"tr:room:{{a}}:{part}") == settings.message_ttl_seconds


def test_checked_in_prometheus_config_is_the_rendered_one():
    deployed = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
    assert deployed == prometheus_config.render_compose()


def test_prometheus_targets_are_the_compose_services():
    compose = (REPO / "docker-compose.yml").read_text()
    services = dict(re.findall(r"\n  (worker-\d+):\n(.*?)(?=\n  \S|\Z)", compose, re.S))
    ports = {
        name: re.search(r'SERVER_PORT: "(\d+)"', body).group(1)  # type: ignore[union-attr]
        for name, body in services.items()
    }
    assert ports, "no worker services in docker-compose.yml"
    expected = tuple(f"{name}:{port}" for name, port in sorted(ports.items()))
    assert expected == prometheus_config.COMPOSE_WORKERS
    rq_block = re.search(r"\n  rq-worker:\n(.*?)(?=\n  \S|\Z)", compose, re.S)
    assert rq_block is not None and "RQ_METRICS_HOST: 0.0.0.0" in rq_block.group(1)
    default_port = Settings(_env_file=None).rq_metrics_port  # type: ignore[call-arg]
    assert (f"rq-worker:{default_port}",) == prometheus_config.COMPOSE_RQ_WORKERS


def test_local_config_points_at_loopback_ports_and_the_repo_rules(tmp_path):
    path = prometheus_config.write_local(
        tmp_path / "p.yml", [5001, 5002], [9191], scrape_interval="1s"
    )
    text = path.read_text()
    assert '["127.0.0.1:5001", "127.0.0.1:5002"]' in text
    assert '["127.0.0.1:9191"]' in text
    assert str(prometheus_config.RULES_DIR / "*.yml") in text


def test_dashboard_uses_the_provisioned_datasource_and_bounded_labels():
    datasource = (
        DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
    ).read_text()
    uid = re.search(r"uid: (\S+)", datasource)
    assert uid is not None
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == uid.group(1), panel["title"]
        assert panel["targets"], panel["title"]
    exprs = " ".join(expr for _, expr in dashboard_targets())
    for needed in (
        "talkrooms_connections_current",
        "talkrooms_messages_received_total",
        "talkrooms_ack_latency_seconds_bucket",
        "talkrooms_rooms_active",
        "talkrooms_users_current",
        "talkrooms_redis_used_memory_bytes",
        "talkrooms_cleanup_runs_total",
        "talkrooms_redis_errors_total",
    ):
        assert needed in exprs, needed
    # Grouping only by labels from fixed sets: never a room or a user.
    for grouping in re.findall(r"by \(([^)]*)\)", exprs):
        assert set(grouping.replace(" ", "").split(",")) <= {
            "le",
            "reason",
            "operation",
            "kind",
            "outcome",
        }, grouping


def test_dashboard_provider_path_matches_the_compose_mount_convention():
    provider = (DEPLOY / "grafana" / "provisioning" / "dashboards" / "talkrooms.yml").read_text()
    assert "path: /var/lib/grafana/dashboards" in provider


def test_every_garbage_collection_is_timed_by_generation():
    def count(generation: str) -> float:
        return (
            REGISTRY.get_sample_value(
                "talkrooms_gc_pause_seconds_count", {"generation": generation}
            )
            or 0.0
        )

    gc_pauses.watch()
    gc_pauses.watch()  # twice: still one callback
    before = count("2")
    gc.collect()
    assert count("2") == before + 1
    assert gc.callbacks.count(gc_pauses._on_collection) == 1


def test_start_up_objects_are_frozen_out_of_full_collections():
    app_state = [{"kept": n} for n in range(1000)]
    try:
        frozen = gc_pauses.freeze_startup_objects()
        assert frozen >= len(app_state) and gc.get_freeze_count() == frozen
        # A full collection no longer walks them.
        assert all(o is not app_state for o in gc.get_objects())
    finally:
        gc.unfreeze()
