"""Pre-encoded answers of the fast paths (messages, room events): acks and errors.

The fast paths bypass python-socketio's packet encoder; these build the same Socket.IO
packets by hand, wrapped in an Engine.IO MESSAGE packet.
"""

from __future__ import annotations

import orjson
from engineio import packet as eio_packet


def error_packet(ack_id: int | None, code: str, error: str) -> eio_packet.Packet:
    """A refusal: the ack `{ok: false, error, code}` when one was asked, else `error`."""
    if ack_id is not None:
        body = f"3{ack_id}" + orjson.dumps([{"ok": False, "error": error, "code": code}]).decode()
    else:
        body = "2" + orjson.dumps(["error", {"message": error, "code": code}]).decode()
    return eio_packet.Packet(eio_packet.MESSAGE, body)


def ok_packet(ack_id: int, fields_json: str) -> eio_packet.Packet:
    """An ack `{ok: true, ...}`; `fields_json` is the rest of the object, already encoded."""
    return eio_packet.Packet(eio_packet.MESSAGE, f'3{ack_id}[{{"ok":true,{fields_json}}}]')
