"""Engine.IO transport hardening: frames that cannot be decoded never reach the library.

python-engineio decodes each WebSocket frame outside its error handling: an empty frame,
or one whose first character is not a packet type, raises and closes the connection
(the library's "unknown receive error" path). Such frames are dropped here instead —
ignored, as the protocol allows for garbage — and the connection carries on.
"""

from __future__ import annotations

import logging
from typing import Any

from . import metrics

log = logging.getLogger("talkrooms.transport")

# Engine.IO v4 packet types a client may send as text: 0 open … 6 noop.
_TEXT_PACKET_TYPES = frozenset("0123456")


def valid_frame(data: Any) -> bool:
    """A frame python-engineio can decode: binary, or text starting with a packet type."""
    if isinstance(data, bytes | bytearray):
        return True
    return isinstance(data, str) and data[:1] in _TEXT_PACKET_TYPES


def install_frame_guard(eio_server: Any) -> None:
    """Wrap this server's WebSocket class so that `wait()` skips undecodable frames."""
    drivers = dict(eio_server._async)
    base = drivers["websocket"]

    class GuardedWebSocket(base):  # type: ignore[misc, valid-type]
        def wait(self) -> Any:
            while True:
                data = super().wait()
                if data is None or valid_frame(data):
                    return data
                metrics.MESSAGES_REJECTED.labels(reason="malformed").inc()
                log.info("undecodable frame dropped", extra={"frame": repr(data)[:80]})

    drivers["websocket"] = GuardedWebSocket
    eio_server._async = drivers
