"""Engine.IO session ids that name their worker, so nginx can route by `sid`.

Every request of a long-polling session after the handshake carries `?sid=…`; a client
that sends no cookies back (Node's socket.io-client without `withCredentials`,
python-socketio's client, bots) is still routed to the worker that holds its session when
the sid itself starts with that worker's route: `w2.Qm9…`. The part after the dot is
python-engineio's own random id, so ids stay as unguessable as before. nginx maps
`$arg_sid` by the prefix (nginx/talkrooms.conf.j2); a sid naming no known route falls back
to the cookie and then to the pool, where the worker answers 400 "Invalid session" and
the client starts a new session.
"""

from __future__ import annotations

from typing import Any

# Not in base64url's alphabet, so the route ends exactly here; unreserved in URLs.
ROUTE_SEPARATOR = "."


def routed_id(route: str, library_id: str) -> str:
    """`route.library_id`, or the library's id alone when no route is configured."""
    return f"{route}{ROUTE_SEPARATOR}{library_id}" if route else library_id


def route_of(sid: str) -> str | None:
    """The route a session id names, or None for an unrouted id."""
    route, separator, _rest = sid.partition(ROUTE_SEPARATOR)
    return route if separator else None


def install_routed_ids(eio_server: Any, route: str) -> None:
    """Make this Engine.IO server's new session ids start with `route`."""
    if not route:
        return
    library_generate = eio_server.generate_id

    def generate_id() -> str:
        return routed_id(route, library_generate())

    eio_server.generate_id = generate_id
