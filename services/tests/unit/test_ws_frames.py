"""The C-speed unmasking and UTF-8 check give gevent-websocket's own answers."""

from __future__ import annotations

import itertools
import os
import random

import pytest
from geventwebsocket import websocket as gws
from geventwebsocket.utf8validator import Utf8Validator

from talkrooms.realtime.ws_frames import IncrementalUtf8Validator, unmask

LIBRARY_MASK = gws.Header.__dict__["mask_payload"]
if LIBRARY_MASK.__module__ != gws.__name__:  # installed by an earlier test's app
    pytest.skip("gevent-websocket already patched in this process", allow_module_level=True)


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 125, 126, 1000, 70_000])
def test_unmask_matches_the_library(size: int):
    payload = os.urandom(size)
    header = gws.Header(fin=True, opcode=1, length=size)
    header.mask = os.urandom(4)
    assert unmask(header, payload) == LIBRARY_MASK(header, payload)
    assert bytes(unmask(header, unmask(header, payload))) == payload


SAMPLES = [
    "plain ascii",
    "accents éèà, cyrillic Жж, emoji 👍🏽, CJK 漢字",
    "",
]
INVALID = [b"\xff", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"a\x80b", b"\xc0\xaf"]


def frames_of(data: bytes, cuts: list[int]) -> list[bytes]:
    points = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points)]


def verdicts(validator: object, frames: list[bytes]) -> list[bool]:
    validator.reset()  # type: ignore[attr-defined]
    return [validator.validate(frame)[0] for frame in frames]  # type: ignore[attr-defined]


def test_utf8_verdicts_match_the_library_frame_by_frame():
    chooser = random.Random(7)
    for text in SAMPLES:
        data = text.encode()
        for _ in range(30):  # a message cut into frames anywhere, mid-character too
            cuts = [chooser.randrange(len(data) + 1) for _ in range(chooser.randrange(4))]
            frames = frames_of(data, cuts)
            assert verdicts(IncrementalUtf8Validator(), frames) == verdicts(Utf8Validator(), frames)
    for data in INVALID:
        assert IncrementalUtf8Validator().validate(data)[0] is False
        assert Utf8Validator().validate(data)[0] is False


def test_a_message_ending_inside_a_character_is_not_on_a_boundary():
    validator = IncrementalUtf8Validator()
    valid, on_boundary, _, seen = validator.validate("é".encode()[:1])
    assert valid and not on_boundary and seen == 1
    valid, on_boundary, _, seen = validator.validate("é".encode()[1:])
    assert valid and on_boundary and seen == 2
