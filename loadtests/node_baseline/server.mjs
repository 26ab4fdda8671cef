// The yardstick of issue 22: Node's socket.io with its Redis adapter, one process of
// several behind nginx, speaking the part of TalkRooms' protocol 1 that
// loadtests/fanout_bench.py uses. It does what a plain Node chat does and nothing more:
// join a room, broadcast each message to the room through the adapter, acknowledge it.
// No history, no de-duplication, no presence, no moderation, no metrics: the least work
// a chat can do per message, so the ratio TalkRooms reaches against it is a floor.
//
//   PORT=5101 REDIS_URL=redis://127.0.0.1:6379 NODE_INDEX=1 node server.mjs
//
// Started by loadtests/node_stack.py; `GET /api/health` answers 200 once Redis is there.
// As socket.io's documentation advises for production, ws runs with its native helpers
// (bufferutil, utf-8-validate: prebuilt binaries, in package.json).
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";

const port = Number(process.env.PORT || 5100);
const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
// fanout_bench reads a message's id as the 12 characters after `"id":"`: two for the
// process, ten for its counter, so ids never collide between processes.
const idPrefix = String(process.env.NODE_INDEX || 0).padStart(2, "0").slice(-2);
const MAX_NAME = 32;
const MAX_ROOM = 64;
const MAX_MESSAGE = 1000;

let counter = 0;
function nextId() {
  counter += 1;
  return idPrefix + String(counter).padStart(10, "0");
}

function text(value, limit) {
  return typeof value === "string" && value.trim() && value.length <= limit ? value.trim() : null;
}

const http = createServer((request, response) => {
  if (request.url === "/api/health") {
    response.writeHead(200, { "content-type": "application/json" });
    response.end('{"status":"ok"}');
    return;
  }
  response.writeHead(404, { "content-type": "application/json" });
  response.end('{"error":"not found"}');
});

const publisher = createClient({ url: redisUrl });
const subscriber = publisher.duplicate();
await Promise.all([publisher.connect(), subscriber.connect()]);

const io = new Server(http, { adapter: createAdapter(publisher, subscriber) });

io.on("connection", (socket) => {
  socket.on("join_room", (data, ack) => {
    const username = text(data?.username, MAX_NAME);
    const room = text(data?.room, MAX_ROOM);
    if (!username || !room) {
      ack?.({ ok: false, code: "invalid", error: "username and room are required" });
      return;
    }
    if (socket.data.room) socket.leave(socket.data.room);
    socket.data.username = username;
    socket.data.room = room;
    socket.join(room);
    ack?.({ ok: true, room, username });
  });

  socket.on("send_message", (data, ack) => {
    const room = socket.data.room;
    const body = text(data?.message, MAX_MESSAGE);
    if (!room) {
      ack?.({ ok: false, code: "not_joined", error: "join a room first" });
      return;
    }
    if (!body) {
      ack?.({ ok: false, code: "invalid", error: "a message is 1 to 1000 characters" });
      return;
    }
    const message = {
      id: nextId(),
      room,
      username: socket.data.username,
      message: body,
      client_id: typeof data.client_id === "string" ? data.client_id : null,
      timestamp: Date.now() / 1000,
    };
    io.to(room).emit("new_message", message);
    ack?.({ ok: true, message });
  });
});

http.listen(port, "127.0.0.1", () => {
  process.stdout.write(`node baseline ${idPrefix} on 127.0.0.1:${port}\n`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    io.close();
    Promise.allSettled([publisher.quit(), subscriber.quit()]).then(() => process.exit(0));
  });
}
