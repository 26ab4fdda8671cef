"""app.socket_io_first: Engine.IO's requests go straight to its server, the rest to Flask."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIO
from werkzeug.test import EnvironBuilder

from talkrooms.app import socket_io_first


class Answer:
    """start_response that keeps the status."""

    status = ""

    def __call__(self, status: str, headers: Any, exc_info: Any = None) -> None:
        self.status = status


@pytest.fixture
def app() -> Flask:
    app = Flask("entry-test")
    app.add_url_rule("/hello", "hello", lambda: "hello")
    SocketIO(app, async_mode="threading")
    return app


def environ(path: str) -> dict[str, Any]:
    return EnvironBuilder(path=path).get_environ()


def test_engine_io_requests_reach_its_server_with_their_own_environ(app: Flask) -> None:
    eio = app.extensions["socketio"].server.eio
    received: list[dict[str, Any]] = []

    def recording(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        received.append(environ)
        start_response("200 OK", [])
        return [b"engine.io"]

    eio.handle_request = recording  # the server's own needs the worker's pinger
    entry = socket_io_first(app.wsgi_app, eio)
    request = environ("/socket.io/")
    request["QUERY_STRING"] = "EIO=4&transport=polling"

    assert b"".join(entry(request, Answer())) == b"engine.io"
    assert len(received) == 1 and received[0] is request  # not a copy
    assert request["flask.app"] is app


def test_other_paths_reach_flask(app: Flask) -> None:
    eio = app.extensions["socketio"].server.eio
    entry = socket_io_first(app.wsgi_app, eio)
    answer = Answer()

    assert b"".join(entry(environ("/hello"), answer)) == b"hello"
    assert answer.status.startswith("200")
    b"".join(entry(environ("/socket.iox"), answer))
    assert answer.status.startswith("404")


def test_a_plain_wsgi_app_is_left_as_it_is() -> None:
    def plain(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        return []

    assert socket_io_first(plain, object()) is plain
