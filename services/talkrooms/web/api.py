"""The JSON API of the seed: /api/health, /api/rooms, /api/stats, and /metrics; and the
versioned API's own document, /api/v1/openapi.json (generated from the routes that
decorate protocol.http_api.API_SPEC: accounts/routes.py today).

`/metrics` is this worker's own Prometheus registry plus the cluster collector
(ops/observability.py); nginx does not serve it on the public port (Prometheus scrapes each
worker's private port). /api/stats reports the same numbers: the cluster part from the
same Redis snapshot the collector uses, the `metrics` part from this worker's registry.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from talkrooms.ops.observability import EXTENSION, Observability
from talkrooms.protocol.http_api import API_PREFIX, API_SPEC
from talkrooms.storage.store import Store
from talkrooms.telemetry import metrics

api = Blueprint("api", __name__, url_prefix="/api")
api_v1 = Blueprint("api_v1", __name__, url_prefix=API_PREFIX)
metrics_page = Blueprint("metrics", __name__)

ROOMS_LIMIT_MAX = 200
PREFLIGHT_METHODS = "GET, POST, PUT, PATCH, DELETE"


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
        "route": state.settings.worker_route,
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
    """Rooms, users, connections, messages, Redis, cleanup job, this worker's metrics."""
    state = current_app.extensions["talkrooms"]
    ops: Observability = current_app.extensions[EXTENSION]
    try:
        snapshot = ops.snapshots.fresh()
    except RedisError as exc:
        return _unavailable(exc)
    body = {
        "rooms": {
            "active": snapshot.rooms_active,
            "with_users": snapshot.rooms_with_users,
        },
        "users": snapshot.users,
        "connections": snapshot.connections,
        "messages": {
            "stored_total": snapshot.messages_stored_total,
            "in_history": snapshot.messages_in_history,
        },
        "workers": {
            "count": len(snapshot.workers),
            "this": state.settings.instance_id,
            "list": snapshot.workers,
        },
        "redis": snapshot.redis,
        "cleanup": snapshot.cleanup.as_dict(ops.cleanup_interval_seconds),
        "metrics": metrics.worker_summary(),
        "uptime_seconds": round(time.time() - state.started_at, 1),
    }
    return jsonify(body), 200


@api.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Any:
    """Errors under /api are JSON; pages keep Flask's HTML error pages."""
    if request.path.startswith(API_PREFIX + "/"):
        # The versioned API's errors all carry a stable code (`not_found`, ...).
        code = (error.name or "error").lower().replace(" ", "_").replace("'", "")
        return jsonify({"error": error.description, "code": code}), error.code
    if request.path.startswith("/api/"):
        return jsonify({"error": error.name, "detail": error.description}), error.code
    return error


@metrics_page.get("/metrics")
def prometheus_metrics() -> Response:
    """This worker's metrics, then the cluster-wide ones read from Redis (cached)."""
    ops: Observability = current_app.extensions[EXTENSION]
    body = generate_latest() + generate_latest(ops.registry)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


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
        if request.method == "OPTIONS":
            # The preflight of a call with a Bearer token or a JSON body (the app's web
            # build on its own origin): say which methods and headers may follow. No
            # credentials: the app sends its tokens itself, never cookies.
            response.headers["Access-Control-Allow-Methods"] = PREFLIGHT_METHODS
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
    return response


@api_v1.get("/openapi.json")
def openapi() -> tuple[Response, int]:
    """The OpenAPI document of /api/v1, generated from the routes' declarations."""
    return jsonify(API_SPEC.spec), 200
