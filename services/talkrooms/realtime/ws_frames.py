"""gevent-websocket's two per-byte Python loops on every frame a client sends, done by C.

A client's frame is masked (RFC 6455: four key bytes XORed over the payload) and, for
text, checked to be UTF-8. gevent-websocket 0.10 does both in Python, byte by byte: the
XOR in `Header.mask_payload` and a UTF-8 state machine in `Utf8Validator.validate`, which
runs twice over a one-frame message (per frame, then over the whole message). Profiled
under the fan-out load (BENCHMARKS.md section 14) they took about 6 % of a worker's CPU.

Here the XOR is one operation on Python integers, and the check is CPython's incremental
UTF-8 decoder: the same answers (a frame may end inside a character; the message may
not: gevent-websocket's final decode of the whole message still refuses it). Written
against gevent-websocket 0.10.1, pinned in requirements.lock.
"""

from __future__ import annotations

import codecs
from typing import Any

from geventwebsocket import websocket as gws


def unmask(header: Any, payload: bytes | bytearray) -> bytearray:
    """The payload XORed with the frame's 4-byte mask key, repeated (RFC 6455 5.3)."""
    size = len(payload)
    if not size:
        return bytearray()
    key = (bytes(header.mask) * (size // 4 + 1))[:size]
    mixed = int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")
    return bytearray(mixed.to_bytes(size, "little"))


class IncrementalUtf8Validator:
    """gevent-websocket's Utf8Validator interface on CPython's UTF-8 decoder.

    `validate` returns (valid, ends on a character boundary, index in this payload, index
    in the message so far); gevent-websocket reads the first and the last.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._seen = 0

    def reset(self) -> None:
        self._decoder.reset()
        self._seen = 0

    def validate(self, payload: bytes | bytearray) -> tuple[bool, bool, int, int]:
        try:
            self._decoder.decode(bytes(payload), final=False)
        except UnicodeDecodeError as exc:
            return False, False, exc.start, self._seen + exc.start
        self._seen += len(payload)
        pending, _ = self._decoder.getstate()
        return True, not pending, len(payload), self._seen


_installed = False


def install_fast_frames() -> None:
    """Swap gevent-websocket's per-byte loops for the ones above (once per process)."""
    global _installed
    if _installed:
        return
    gws.Header.mask_payload = unmask
    gws.Header.unmask_payload = unmask
    gws.Utf8Validator = IncrementalUtf8Validator
    _installed = True
