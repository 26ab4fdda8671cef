// The official socket.io-client (pinned in package.json) talking to TalkRooms, for
// tests/integration/test_conformance_js.py. One JSON line per step on stdout.
//
//   node client.mjs <url> <upgrade|polling|websocket|cookies> <room> <username>
//
// upgrade:   io(url) with default options: long-polling first, then the upgrade, and no
//            cookies sent back (Node has no cookie jar without withCredentials)
// polling:   transports ["polling"] only, no cookies: every request of a session is a new
//            HTTP request that nginx must route to the session's worker by its sid alone
// websocket: transports ["websocket"] only
// cookies:   like upgrade, with withCredentials (the cookie jar a browser has)
//
// Round 1: connect, join_room (ack), send_message (ack), receive its own new_message, then
// print `ready_for_server_close` and wait: the test restarts the worker holding the socket.
// The client must see the transport close, reconnect through nginx (to the other worker),
// and round 2 does it all again, finding round 1's message in room_joined's history; then
// `done` and exit 0. Exit 2 on timeout, 3 on error.
import { io } from "socket.io-client";

const [url, mode, room, username] = process.argv.slice(2);
const TIMEOUT_MS = Number(process.env.CONFORMANCE_TIMEOUT_MS || 60000);

function out(event, data = {}) {
  process.stdout.write(JSON.stringify({ event, t: Date.now(), ...data }) + "\n");
}

const TRANSPORTS = {
  upgrade: undefined,
  polling: ["polling"],
  websocket: ["websocket"],
  cookies: undefined,
};
if (!(mode in TRANSPORTS)) {
  out("error", { message: `unknown mode ${mode}` });
  process.exit(3);
}
const options = {
  reconnectionDelay: 200,
  reconnectionDelayMax: 1000,
  timeout: 5000,
  // Tags every request of this client in nginx's access log: the log also holds the end
  // of earlier tests' WebSockets, written when they close.
  query: { conformance: mode },
};
if (TRANSPORTS[mode]) options.transports = TRANSPORTS[mode];
if (mode === "cookies") options.withCredentials = true;
const socket = io(url, options);
const clientKey = `conformance-${mode}-0123456789`;
const waiting = new Map();
let round = 0;
let history = [];

socket.on("connected", (payload) => out("connected_event", { sid: payload.sid }));
socket.on("room_joined", (payload) => {
  history = payload.messages.map((message) => message.id);
});
socket.on("new_message", (message) => {
  out("new_message", { id: message.id, client_id: message.client_id ?? null });
  const resolve = waiting.get(message.client_id);
  if (resolve) resolve(message);
});
socket.on("disconnect", (reason) => out("disconnect", { reason }));
socket.on("connect_error", (error) => out("connect_error", { message: String(error.message) }));
socket.io.on("reconnect_attempt", (attempt) => out("reconnect_attempt", { attempt }));
// Each (re)connection opens a new Engine.IO session: which transport it starts on, and
// when it upgrades (often before the Socket.IO `connect` below).
socket.io.on("open", () => {
  const engine = socket.io.engine;
  out("engine_open", { transport: engine.transport.name });
  engine.on("upgrade", (transport) => out("upgrade", { name: transport.name }));
});

function ownMessage(clientId) {
  return new Promise((resolve, reject) => {
    waiting.set(clientId, resolve);
    setTimeout(() => reject(new Error(`no new_message for ${clientId}`)), 10000);
  });
}

function upgraded(engine) {
  if (engine.transport.name === "websocket") return Promise.resolve();
  return new Promise((resolve, reject) => {
    engine.once("upgrade", resolve);
    setTimeout(() => reject(new Error("no upgrade to websocket")), 10000);
  });
}

async function play() {
  round += 1;
  const engine = socket.io.engine;
  out("connect", { round, sid: socket.id, transport: engine.transport.name });
  const joined = await socket.timeout(5000).emitWithAck("join_room", {
    username,
    room,
    client_key: clientKey,
  });
  out("joined", { round, ok: joined.ok, error: joined.error ?? null, history });
  if (mode === "upgrade" || mode === "cookies") await upgraded(engine);
  out("transport", { round, now: engine.transport.name });
  const clientId = `${mode}-${round}`;
  const own = ownMessage(clientId);
  const ack = await socket.timeout(5000).emitWithAck("send_message", {
    message: `hello from round ${round}`,
    client_id: clientId,
  });
  out("sent", { round, ok: ack.ok, id: ack.message?.id ?? null, error: ack.error ?? null });
  const message = await own;
  out("received_own", { round, id: message.id });
  if (round === 1) {
    out("ready_for_server_close", { sid: socket.id });
  } else {
    out("done");
    socket.disconnect();
    process.exit(0);
  }
}

socket.on("connect", () => {
  play().catch((error) => {
    out("error", { message: String(error.message ?? error) });
    process.exit(3);
  });
});

setTimeout(() => {
  out("timeout");
  process.exit(2);
}, TIMEOUT_MS);
