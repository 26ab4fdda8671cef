"""The JSON API of the seed: /api/health, /api/rooms, /api/stats, and /metrics.

`/metrics` is this worker's own Prometheus registry; nginx does not serve it on the
public port (Prometheus scrapes each worker's private port).
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from .store import Store

api = Blueprint("api", __name__, url_prefix="/api")
metrics_page = Blueprint("metrics", __name__)

ROOMS_LIMIT_MAX = 200


def _store() -> Store:
    return current_app.extensions["talkrooms"].store


def _unavailable(exc: Exception) -> tuple[Response, int]:
    return jsonify({"error": "Redis is unavailable", "detail": str(exc)}), 503


@api.get("/health")
def health() -> tuple[Response, int]:
    """200 with the Redis round trip in ms, 503 when Redis does not answer."""
    state = current_app.extensions["talkrooms"]
    body: dict[str, Any] = {
        "worker": state.settings.instance_id,
        "uptime_seconds": round(time.time() - state.started_at, 1),
        "connections": len(state.connections),
    }
    try:
        body["redis"] = {"ok": True, "ping_ms": round(_store().ping_ms(), 3)}
    except RedisError as exc:
        body["status"] = "unavailable"
        body["redis"] = {"ok": False, "error": str(exc)}
        return jsonify(body), 503
    body["status"] = "ok"
    return jsonify(body), 200


@api.get("/rooms")
def rooms() -> tuple[Response, int]:
    """Active rooms (activity within room retention), busiest first."""
    raw_limit = request.args.get("limit", "50")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= ROOMS_LIMIT_MAX:
        return jsonify({"error": f"limit must be an integer from 1 to {ROOMS_LIMIT_MAX}"}), 400
    try:
        active = _store().active_rooms(int(raw_limit))
    except RedisError as exc:
        return _unavailable(exc)
    return jsonify({"rooms": active, "count": len(active)}), 200


@api.get("/stats")
def stats() -> tuple[Response, int]:
    """Rooms, users, connections, messages stored, Redis memory/keys, uptime."""
    state = current_app.extensions["talkrooms"]
    store = _store()
    try:
        active = store.active_rooms(10_000)
        workers = store.live_workers()
        counters = store.counters()
        redis_info = store.redis_info()
    except RedisError as exc:
        return _unavailable(exc)
    body = {
        "rooms": {
            "active": len(active),
            "with_users": sum(1 for r in active if r["users"]),
        },
        "users": sum(r["users"] for r in active),
        "connections": sum(int(w.get("connections", 0)) for w in workers),
        "messages": {
            "stored_total": counters.get("messages_stored", 0),
            "in_history": sum(r["messages"] for r in active),
        },
        "workers": {
            "count": len(workers),
            "this": state.settings.instance_id,
            "list": workers,
        },
        "redis": redis_info,
        "uptime_seconds": round(time.time() - state.started_at, 1),
    }
    return jsonify(body), 200


@api.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Any:
    """Errors under /api are JSON; pages keep Flask's HTML error pages."""
    if request.path.startswith("/api/"):
        return jsonify({"error": error.name, "detail": error.description}), error.code
    return error


@metrics_page.get("/metrics")
def prometheus_metrics() -> Response:
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


@api.after_app_request
def cors_for_allowed_origins(response: Response) -> Response:
    """Let the origins in ALLOWED_ORIGINS (e.g. the app's web build) read /api/*."""
    origin = request.headers.get("Origin")
    if not origin or not request.path.startswith("/api/"):
        return response
    allowed = current_app.extensions["talkrooms"].settings.cors_origins
    if allowed == "*" or (isinstance(allowed, list) and origin in allowed):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response
