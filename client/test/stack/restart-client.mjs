// The client core (dist/) with the real socket.io-client across a restart of the worker
// holding its socket, driven by services/tests/integration/test_client_core_js.py:
//   node test/stack/restart-client.mjs URL ROOM
// prints JSON lines; after `ready` (with the Engine.IO sid) it waits for a stdin line with
// the number of messages others sent meanwhile, then for every message once, and prints
// `done` with what the timeline holds. Exits 0 when the checks it can make pass.
import { createInterface } from 'node:readline';

import { io } from 'socket.io-client';

import { ChatSession } from '../../dist/index.js';

const [url, room] = process.argv.slice(2);
const LIMIT_MS = Number(process.env.CORE_RESTART_TIMEOUT_MS ?? 60000);
const out = (event, data = {}) => process.stdout.write(`${JSON.stringify({ event, ...data })}\n`);

let socket = null;
const alice = new ChatSession({
  url,
  username: 'alice',
  room,
  clientKey: 'core-restart-key-0123456789',
  connect: (u, options) => (socket = io(u, options)),
});
const states = [];
alice.on('connection', (state) => {
  states.push(state);
  out('connection', { state });
});
let typedWhileAway = false;
alice.on('connection', (state) => {
  // Typed while the worker restarts: it must go out once after the rejoin.
  if (state === 'reconnecting' && !typedWhileAway) {
    typedWhileAway = true;
    alice.send('typed while away');
  }
});

const texts = () => alice.timeline.messages().map((m) => m.message);

/** Resolves once check() holds, re-checked on every session event; exits on timeout. */
function until(what, check) {
  return new Promise((resolve) => {
    const offs = [];
    const timer = setTimeout(() => {
      out('timeout', { waiting_for: what, texts: texts(), states });
      process.exit(2);
    }, LIMIT_MS);
    const test = () => {
      if (!check()) return;
      clearTimeout(timer);
      for (const off of offs) off();
      resolve();
    };
    for (const event of ['timeline', 'connection', 'message']) offs.push(alice.on(event, test));
    test();
  });
}

alice.start();
await until('the join', () => alice.isJoined);
alice.send('before the restart');
await until('the first ack', () => alice.outbox.size === 0);
out('ready', { sid: socket.id });

const lines = createInterface({ input: process.stdin });
const first = await lines[Symbol.asyncIterator]().next();
const othersSent = Number(first.value);
out('restarted', { others_sent: othersSent });

await until('the reconnection', () => states.includes('reconnecting') && alice.isJoined);
alice.send('after the restart');
const expected = 3 + othersSent;
await until('every message', () => alice.outbox.size === 0 && !alice.timeline.hasGap() && texts().length >= expected);
const ids = alice.timeline.messages().map((m) => Number(m.id));
out('done', { texts: texts(), ids, states, pending: alice.timeline.list().filter((i) => i.kind === 'pending').length });
await alice.leave();
lines.close();
process.exit(0);
