"""The JSON API: health, active rooms, stats, and JSON errors."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.integration


def test_health_reports_the_redis_round_trip(chat_worker):
    response = requests.get(f"{chat_worker.url}/api/health", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["redis"]["ok"] is True
    assert body["redis"]["ping_ms"] >= 0


def test_rooms_lists_users_and_message_counts(chat_worker, connect, room_name):
    alice, bob = connect(), connect()
    alice.join("alice", room_name)
    bob.join("bob", room_name)
    alice.send("one")
    alice.send("two")
    rooms = requests.get(f"{chat_worker.url}/api/rooms", timeout=5).json()
    entry = next(r for r in rooms["rooms"] if r["room"] == room_name)
    assert entry["users"] == 2 and entry["messages"] == 2
    assert entry["last_activity"].endswith("Z")
    assert rooms["count"] == len(rooms["rooms"])


def test_rooms_limit_is_validated(chat_worker):
    response = requests.get(f"{chat_worker.url}/api/rooms?limit=abc", timeout=5)
    assert response.status_code == 400
    assert "limit" in response.json()["error"]


def test_stats_reports_the_service(chat_worker, connect, room_name):
    alice = connect()
    alice.join("alice", room_name)
    alice.send("counted")
    body = requests.get(f"{chat_worker.url}/api/stats", timeout=5).json()
    assert body["rooms"]["active"] >= 1 and body["users"] >= 1
    assert body["messages"]["stored_total"] >= 1
    assert body["redis"]["used_memory_bytes"] > 0 and body["redis"]["keys"] > 0
    assert body["workers"]["count"] >= 1 and body["uptime_seconds"] >= 0
    assert "connections" in body
    # This worker's joined connections, counted when asked: alice's, and one more joined.
    bob = connect()
    joined = body["metrics"]["joined_connections"]
    assert joined >= 1
    bob.join("bob", room_name)
    body = requests.get(f"{chat_worker.url}/api/stats", timeout=5).json()
    assert body["metrics"]["joined_connections"] == joined + 1
    assert bob.call("leave_room", {"room": room_name})["ok"]
    body = requests.get(f"{chat_worker.url}/api/stats", timeout=5).json()
    assert body["metrics"]["joined_connections"] == joined


def test_unknown_api_routes_answer_json(chat_worker):
    response = requests.get(f"{chat_worker.url}/api/nope", timeout=5)
    assert response.status_code == 404
    assert response.json()["error"] == "Not Found"
    response = requests.post(f"{chat_worker.url}/api/health", timeout=5)
    assert response.status_code == 405 and "error" in response.json()


def test_metrics_are_served_by_the_worker(chat_worker):
    text = requests.get(f"{chat_worker.url}/metrics", timeout=5).text
    assert "talkrooms_messages_received_total" in text
