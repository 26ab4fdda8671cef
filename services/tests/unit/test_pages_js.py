"""The web UI's pure JavaScript modules, run under Node and checked against the Python side.

validation.js and colors.js must agree with talkrooms.protocol (and with the reference
table of docs/protocol.md) on every input; timeline.js and session.js are driven through
reconnections and lost messages with a fake socket.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from talkrooms import protocol
from talkrooms.protocol import ProtocolError

JS = Path(__file__).resolve().parents[2] / "talkrooms" / "web" / "static" / "js"
PROTOCOL_DOC = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"

READ_INPUT = """
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
"""


def module_url(name: str) -> str:
    return (JS / name).as_uri()


def run_node(body: str, payload: Any = None) -> Any:
    """Run an ES module body under Node with `input` = payload; it prints JSON."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, "--input-type=module", "-e", READ_INPUT + body],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# -- validation: the same answer as the server for every input -------------------------

USERNAMES: list[Any] = [
    "alice",
    "  alice  ",
    "",
    "   ",
    "x" * 32,
    "x" * 33,
    "Élodie",
    "E\u0301lodie",  # decomposed: NFC makes it 6 characters
    "e\u0301" * 32,  # 64 code points before NFC, 32 after
    "李雷",
    "😀 emoji",
    "J. R. R-T_2",
    "...",
    "- _ .",
    "a\tb",
    "a\nb",
    "\x1calice\x1f",  # Python's strip() removes these, String.trim() does not
    "\x85bob\x85",
    "\ufeffalice",  # String.trim() removes U+FEFF, Python's strip() does not
    "\u00a0bob\u3000",
    "Zoë",
    "ｱﾘｽ",
    "a\u0308",
    "\u0308",
    "١٢٣",
    "Ⅻ",
    "x²",
    "a\u200db",
    "<b>",
    "ﬀ",
    "ǅ",
    "ʰa",
    42,
    None,
    ["alice"],
]

ROOMS: list[Any] = [
    "general",
    " General ",
    "TECH",
    "a" * 32,
    "a" * 33,
    "",
    "tech room",
    "tech-room_2",
    "é",
    "\u212a",  # KELVIN SIGN lower-cases to "k" in both languages
    "İ",
    "\u00a0room\u3000",
    "room\x1c",
    "\ufeffroom",
    "ROOM-1",
    "ﬀ",
    "room.1",
    42,
    None,
]

MESSAGES: list[tuple[Any, int]] = [
    ("hi", 2000),
    ("  hi  ", 2000),
    ("", 2000),
    ("   ", 2000),
    ("x" * 2000, 2000),
    ("x" * 2001, 2000),
    ("😀" * 2000, 2000),  # 2000 code points, 4000 UTF-16 units
    ("😀" * 2001, 2000),
    ("a\nb", 2000),
    ("\x1c12345\x1c", 5),
    ("123456", 5),
    (" 12345 ", 5),
    (7, 2000),
]


def python_result(validate: Any, value: Any, *args: Any) -> dict[str, Any]:
    try:
        return {"ok": True, "value": validate(value, *args)}
    except ProtocolError as error:
        return {"ok": False, "error": str(error)}


def test_validation_agrees_with_the_server_on_every_input() -> None:
    answers = run_node(
        f"""
        const v = await import({json.dumps(module_url("validation.js"))});
        console.log(JSON.stringify({{
          usernames: input.usernames.map((u) => v.validateUsername(u)),
          rooms: input.rooms.map((r) => v.validateRoom(r)),
          messages: input.messages.map(([m, max]) => v.validateMessage(m, max)),
          errors: [v.USERNAME_ERROR, v.ROOM_ERROR, v.messageError(2000)],
        }}));
        """,
        {"usernames": USERNAMES, "rooms": ROOMS, "messages": MESSAGES},
    )
    for value, answer in zip(USERNAMES, answers["usernames"], strict=True):
        assert answer == python_result(protocol.validate_username, value), repr(value)
    for value, answer in zip(ROOMS, answers["rooms"], strict=True):
        assert answer == python_result(protocol.validate_room, value), repr(value)
    for (value, limit), answer in zip(MESSAGES, answers["messages"], strict=True):
        expected = python_result(protocol.validate_message_text, value, limit)
        assert answer == expected, repr(value)
    assert answers["errors"] == [
        protocol.USERNAME_ERROR,
        protocol.ROOM_ERROR,
        python_result(protocol.validate_message_text, "", 2000)["error"],
    ]


def test_the_javascript_regexes_are_the_documented_ones() -> None:
    doc = PROTOCOL_DOC.read_text()
    # validation.js re-exports the client core's rules, built into the page's vendor folder.
    source = (JS.parent / "vendor" / "talkrooms-client" / "talkrooms-client.js").read_text()
    for pattern in re.findall(r"JS: `(/[^`]+/u)` plus `(/[^`]+/u)`", doc)[0]:
        assert pattern in source


# -- avatar colours: the documented table, in both languages ---------------------------


def documented_colours() -> list[tuple[str, str]]:
    table = PROTOCOL_DOC.read_text().split("| username | colour |", 1)[1]
    return re.findall(r"^\| `([^`]+)` \| `(#[0-9A-F]{6})` \|$", table, flags=re.M)


def test_avatar_colours_match_the_documented_table_and_the_server() -> None:
    table = documented_colours()
    assert len(table) >= 10
    extra = ["", "a", "Ａｌｉｃｅ", "🦊🦊", "x" * 32, "Ärger", "o\u0308"]
    names = [name for name, _ in table] + extra
    answers = run_node(
        f"""
        const c = await import({json.dumps(module_url("colors.js"))});
        console.log(JSON.stringify({{
          colours: input.map((name) => c.avatarColor(name)),
          palette: c.AVATAR_COLORS,
          initials: input.map((name) => c.avatarInitial(name)),
        }}));
        """,
        names,
    )
    assert tuple(answers["palette"]) == protocol.AVATAR_COLORS
    assert answers["colours"][: len(table)] == [colour for _, colour in table]
    assert answers["colours"] == [protocol.avatar_color(name) for name in names]
    assert answers["initials"][names.index("😀 emoji")] == "😀"


# -- links: only http(s), never javascript: --------------------------------------------


def test_only_http_links_become_links() -> None:
    texts = [
        "see https://example.org/a?b=1 now",
        "javascript:alert(1)",
        "go to http://example.org/z.",
        "(http://example.org/x)",
        "HTTPS://EXAMPLE.ORG",
        "data:text/html,<script>alert(1)</script>",
        "http://",
        "<a href='javascript:alert(1)'>http://evil.example</a>",
    ]
    parts = run_node(
        f"""
        const l = await import({json.dumps(module_url("linkify.js"))});
        console.log(JSON.stringify(input.map((text) => l.linkParts(text))));
        """,
        texts,
    )
    links = [[part.get("href") for part in result if "href" in part] for result in parts]
    assert links == [
        ["https://example.org/a?b=1"],
        [],
        ["http://example.org/z"],
        ["http://example.org/x"],
        ["https://example.org/"],
        [],
        [],
        ["http://evil.example/"],
    ]
    for text, result in zip(texts, parts, strict=True):
        assert "".join(part["text"] for part in result) == text


# -- the timeline: merge by id and client_id, holes ------------------------------------


def test_timeline_merges_by_id_and_client_id_and_tracks_holes() -> None:
    steps = run_node(
        f"""
        const {{ Timeline, formatId }} = await import({json.dumps(module_url("timeline.js"))});
        const msg = (n, extra = {{}}) => ({{ id: formatId(n), username: 'bob', message: `m${{n}}`,
          timestamp: '2026-11-25T14:03:07.412Z', room: 'r', type: 'message', ...extra }});
        const t = new Timeline();
        const out = [];
        const state = (label, changes = []) => out.push({{ label, keys: [...t.keys],
          lastId: t.lastId, gap: t.hasGap(),
          changes: changes.map((c) => [c.op, c.replaces ?? null]) }});
        state('history', t.addMessages([msg(2), msg(1), msg(3)]));
        t.begin();
        state('begun');
        state('pending', t.addPending({{ client_id: 'cid-a', message: 'mine', username: 'me' }}));
        state('jump', t.addMessages([msg(5)]));
        state('own arrives', t.addMessages([msg(4, {{ client_id: 'cid-a', username: 'me' }})]));
        state('duplicate', t.addMessages([msg(4, {{ client_id: 'cid-a' }}), msg(5)]));
        state('notice', t.addNotice('join', {{ name: 'carol' }}));
        state('junk', t.addMessages([{{ id: 'x' }}, null, {{ id: 7 }}]));
        state('far jump', t.addMessages([msg(9)]));
        t.acceptFetched(7);
        state('fetched to 7');
        t.skipHole();
        state('hole skipped');
        out.push({{ status: t.get(formatId(4)).status, messages: t.messages().map((m) => m.id) }});
        console.log(JSON.stringify(out));
        """,
    )
    by_label = {step["label"]: step for step in steps if "label" in step}
    ids = [f"{n:012d}" for n in range(10)]
    assert by_label["history"]["keys"] == ids[1:4]
    assert by_label["history"]["lastId"] is None
    assert by_label["begun"]["lastId"] == 3 and not by_label["begun"]["gap"]
    assert by_label["pending"]["keys"] == [*ids[1:4], "p00000001"]
    assert by_label["jump"]["gap"] and by_label["jump"]["lastId"] == 3
    own = by_label["own arrives"]
    assert own["keys"] == ids[1:6] and own["lastId"] == 5 and not own["gap"]
    assert own["changes"] == [["upsert", "p00000001"]]
    assert by_label["duplicate"]["changes"] == []
    assert by_label["notice"]["keys"] == [*ids[1:6], "000000000005~00000002"]
    assert by_label["junk"]["changes"] == []
    assert by_label["far jump"]["gap"] and by_label["far jump"]["lastId"] == 5
    assert by_label["fetched to 7"]["lastId"] == 7 and by_label["fetched to 7"]["gap"]
    assert by_label["hole skipped"]["lastId"] == 9 and not by_label["hole skipped"]["gap"]
    assert steps[-1] == {"status": "sent", "messages": [ids[n] for n in (1, 2, 3, 4, 5, 9)]}


# -- the session: reconnections, lost acks, lost broadcasts, refusals ------------------

FAKE_SERVER = """
const { ChatSession } = await import(SESSION_URL);
const { Timeline, formatId } = await import(TIMELINE_URL);

/** A room on a fake server: ids, client_id de-duplication, history pages of 2. */
class Room {
  constructor() {
    this.messages = []; this.byClientId = new Map(); this.refuse = new Set(); this.historySize = 3;
  }
  store(username, text, clientId) {
    if (clientId && this.byClientId.has(clientId)) {
      return { message: this.byClientId.get(clientId), duplicate: true };
    }
    const message = { id: formatId(this.messages.length + 1), username, message: text,
      timestamp: new Date().toISOString(), room: 'r', type: 'message' };
    if (clientId) { message.client_id = clientId; this.byClientId.set(clientId, message); }
    this.messages.push(message);
    return { message, duplicate: false };
  }
}

/** Just enough of socket.io-client's Socket; emitting while disconnected is a bug. */
class FakeSocket {
  constructor(room) { this.room = room; this.handlers = {}; this.connected = false; this.sent = [];
    this.waiting = []; this.swallowNextSend = false; }
  on(event, handler) { this.handlers[event] = handler; }
  fire(event, data) { this.handlers[event]?.(data); }
  timeout() { return { emit: (event, payload, ack) => this._emit(event, payload, ack) }; }
  emit(event, payload) { this._emit(event, payload, null); }
  disconnect() { this.connected = false; }
  open() { this.connected = true; this.fire('connect'); }
  drop() {
    this.connected = false;
    this.fire('disconnect', 'transport close');
    for (const ack of this.waiting.splice(0)) ack(new Error('socket has been disconnected'));
  }
  _emit(event, payload, ack) {
    if (!this.connected) throw new Error(`emitted ${event} while disconnected`);
    this.sent.push([event, payload]);
    const answer = this._answer(event, payload);
    if (!ack) return;
    if (answer === undefined) this.waiting.push(ack);
    else queueMicrotask(() => ack(null, answer));
  }
  _answer(event, payload) {
    if (event === 'join_room') {
      queueMicrotask(() => this.fire('room_joined', { room: 'r', username: payload.username,
        messages: this.room.messages.slice(this.room.messages.length - this.room.historySize) }));
      return { ok: true, room: 'r', username: payload.username };
    }
    if (event === 'get_history') {
      const since = Number(payload.since_id);
      const after = this.room.messages.filter((m) => Number(m.id) > since);
      return { ok: true, room: 'r', messages: after.slice(0, 2), has_more: after.length > 2 };
    }
    if (event === 'send_message') {
      if (this.room.refuse.has(payload.message)) {
        return { ok: false, code: 'rate_limited', error: 'Too many messages: at most 10 per 5 s' };
      }
      const { message, duplicate } = this.room.store('alice', payload.message, payload.client_id);
      if (!duplicate) queueMicrotask(() => this.fire('new_message', message));
      if (this.swallowNextSend) { this.swallowNextSend = false; return undefined; }  // ack lost
      return { ok: true, message, duplicate };
    }
    return undefined;
  }
}

const view = { states: [], apply() {}, setConnection(s) { this.states.push(s); }, setUsername() {},
  setUsers() {}, setTyping() {}, setSelfTyping() {}, showError(text) { this.error = text; },
  clearError() {}, setComposerEnabled() {} };
const room = new Room();
const socket = new FakeSocket(room);
const timeline = new Timeline();
const session = new ChatSession({ username: 'alice', room: 'r', clientKey: 'k'.repeat(32),
  messageMax: 2000, timeline, view, connect: () => socket });
const settle = async () => {
  for (let i = 0; i < 20; i += 1) await new Promise((r) => setTimeout(r, 0));
};
const shown = () => timeline.keys.map((k) => timeline.get(k)).filter((i) => i.kind !== 'notice')
  .map((i) => (i.id ? `${Number(i.id)}:${i.message}` : `pending:${i.message}:${i.status}`));
const sends = (text) => socket.sent.filter(([e, p]) => e === 'send_message' && p.message === text);
"""


def run_session(scenario: str) -> Any:
    prelude = FAKE_SERVER.replace("SESSION_URL", json.dumps(module_url("session.js"))).replace(
        "TIMELINE_URL", json.dumps(module_url("timeline.js"))
    )
    return run_node(prelude + scenario)


def test_session_fills_the_hole_and_resends_the_outbox_after_a_reconnection() -> None:
    result = run_session(
        """
        for (let n = 1; n <= 3; n += 1) room.store('bob', `m${n}`);
        session.start();
        socket.open();
        await settle();
        const before = shown();
        socket.drop();
        for (let n = 4; n <= 8; n += 1) room.store('bob', `m${n}`);
        session.send('typed offline');
        await settle();
        const offline = shown();
        socket.open();
        await settle();
        const history = socket.sent.filter(([e]) => e === 'get_history').map(([, p]) => p.since_id);
        console.log(JSON.stringify({ before, offline, after: shown(), history,
          sends: sends('typed offline').length, lastId: timeline.lastId, states: view.states,
          stored: room.messages.length }));
        """
    )
    assert result["before"] == ["1:m1", "2:m2", "3:m3"]
    assert result["offline"] == [*result["before"], "pending:typed offline:pending"]
    assert result["after"] == [*(f"{n}:m{n}" for n in range(1, 9)), "9:typed offline"]
    assert result["history"] == ["000000000003", "000000000005", "000000000007"]
    assert result["sends"] == 1 and result["stored"] == 9 and result["lastId"] == 9
    assert result["states"][-1] == "connected" and "reconnecting" in result["states"]


def test_session_resends_with_the_same_client_id_when_the_ack_was_lost() -> None:
    result = run_session(
        """
        session.start();
        socket.open();
        await settle();
        socket.swallowNextSend = true;
        socket.handlers['new_message'] = () => {};  // the echo is lost with the connection
        session.send('stored but never acknowledged');
        await settle();
        socket.drop();
        socket.handlers['new_message'] = (m) => session._onLiveMessage(m);
        room.historySize = 0;  // the rejoin's history does not show it: only the resend can
        socket.open();
        await settle();
        const attempts = sends('stored but never acknowledged').map(([, p]) => p.client_id);
        console.log(JSON.stringify({ shown: shown(), attempts, stored: room.messages.length,
          outbox: session.outbox.size }));
        """
    )
    assert result["shown"] == ["1:stored but never acknowledged"]
    assert len(result["attempts"]) == 2 and len(set(result["attempts"])) == 1
    assert result["stored"] == 1 and result["outbox"] == 0


def test_session_fetches_a_message_whose_broadcast_was_lost() -> None:
    result = run_session(
        """
        session.start();
        socket.open();
        await settle();
        room.store('bob', 'm1');
        socket.fire('new_message', room.messages[0]);
        room.store('bob', 'lost');  // stored, never broadcast
        room.store('bob', 'm3');
        socket.fire('new_message', room.messages[2]);
        await settle();
        console.log(JSON.stringify({ shown: shown(), lastId: timeline.lastId }));
        """
    )
    assert result == {"shown": ["1:m1", "2:lost", "3:m3"], "lastId": 3}


def test_session_shows_a_rate_limit_and_retries_on_request() -> None:
    result = run_session(
        """
        session.start();
        socket.open();
        await settle();
        room.refuse.add('too fast');
        session.send('too fast');
        await settle();
        const refused = shown();
        const item = timeline.get(timeline.keys.find((k) => timeline.get(k).kind === 'pending'));
        room.refuse.clear();
        session.retry(item.client_id);
        await settle();
        console.log(JSON.stringify({ refused, error: item.error, retryable: item.retryable,
          after: shown(), ids: sends('too fast').map(([, p]) => p.client_id) }));
        """
    )
    assert result["refused"] == ["pending:too fast:failed"]
    assert result["error"] == "Too many messages: at most 10 per 5 s" and result["retryable"]
    assert result["after"] == ["1:too fast"]
    assert len(result["ids"]) == 2 and len(set(result["ids"])) == 1


def test_session_refuses_invalid_messages_before_sending() -> None:
    result = run_session(
        """
        session.start();
        socket.open();
        await settle();
        const answers = ['   ', 'x'.repeat(2001)].map((text) => session.send(text));
        const sent = socket.sent.filter(([e]) => e === 'send_message').length;
        console.log(JSON.stringify({ answers, sent }));
        """
    )
    assert result["sent"] == 0
    assert [a["ok"] for a in result["answers"]] == [False, False]
    assert result["answers"][0]["error"] == "Message must be 1-2000 characters"
