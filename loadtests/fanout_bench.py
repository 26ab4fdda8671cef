"""Fan-out throughput benchmark: the highest message rate held at p99 <= 250 ms, no loss.

    .venv/bin/python loadtests/fanout_bench.py --url http://127.0.0.1:5000 \
        --rooms 20 --members 10 --rates 1000,2000,3000 --step-seconds 15

Every client joins a room, then the clients together send `rate` messages per second
(evenly spread, each with a client_id). Each receiver records when every delivery arrived;
after each step the generator drains and counts, per room, every acknowledged message x
every member (a missing delivery is lost), and the fan-out latency of each delivery from
its send time. `--action edit` or `react` does the same with protocol 2 events instead:
each client edits its own message, or toggles a reaction on it, `rate` times per second
in all, and every acknowledged event must reach every member.

The generator runs in `--processes` processes (rooms never straddle two), each an asyncio
loop of raw Socket.IO connections (wsclient.py). CPU time of the generator and of the
server processes (chat workers, nginx, redis-server: found in /proc) is measured over each
step, so every figure comes with the cost that produced it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wsclient import SocketIOConnection, connect

MESSAGE_PACKET = '42["new_message",{"id":"'
EVENT_PACKET = '42["room_event",{"id":"'
ID_START = len(MESSAGE_PACKET)
EVENT_ID_START = len(EVENT_PACKET)
ACTIONS = ("message", "edit", "react")
TICK_SECONDS = 0.005
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class StepResult:
    """What one shard measured during one rate step."""

    sent: int = 0
    acked: int = 0
    refused: int = 0
    expected: int = 0
    delivered: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    ack_ms: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0


class Room:
    def __init__(self, name: str) -> None:
        self.name = name
        self.members: list[SocketIOConnection] = []
        self.received: dict[str, int] = {}  # message or event id -> deliveries seen
        self.arrivals: dict[str, list[float]] = {}  # id -> when each delivery arrived
        self.sent_at: dict[str, float] = {}  # acked id -> when it was sent
        self.acked: set[str] = set()
        self.targets: list[str] = []  # protocol 2 actions: each member's own message


class Shard:
    """One generator process: its rooms, its clients, its measurements."""

    def __init__(self, url: str, rooms: list[str], members: int, action: str = "message") -> None:
        self.url = url
        self.action = action
        self.rooms = [Room(name) for name in rooms]
        self.members = members
        self.step_start = float("inf")
        self.result = StepResult()

    def _receiver(self, room: Room):
        """The packet handler of one member: count the delivery, time it if it is ours."""

        def on_event(packet: str) -> None:
            if packet.startswith(MESSAGE_PACKET):
                delivery_id = packet[ID_START : ID_START + 12]
            elif packet.startswith(EVENT_PACKET):
                delivery_id = packet[EVENT_ID_START : EVENT_ID_START + 25]
            else:
                return
            room.received[delivery_id] = room.received.get(delivery_id, 0) + 1
            now = time.time()
            if now >= self.step_start:
                room.arrivals.setdefault(delivery_id, []).append(now)

        return on_event

    async def open(self) -> None:
        events = self.action != "message"
        for room in self.rooms:
            for index in range(self.members):
                client = await connect(
                    self.url, self._receiver(room), auth={"protocol": 2} if events else None
                )
                room.members.append(client)
                join = {"username": f"b{index}-{uuid.uuid4().hex[:6]}", "room": room.name}
                if events:
                    join["client_key"] = uuid.uuid4().hex
                ack = await client.call("join_room", join)
                if not ack.get("ok"):
                    raise RuntimeError(f"join refused: {ack}")
                if events:
                    seed = await client.call(
                        "send_message", {"room": room.name, "message": f"{self.action} me"}
                    )
                    room.targets.append(seed["message"]["id"])

    def _action(self, room: Room, member: int, now: float) -> tuple[str, dict[str, Any]]:
        """The event and payload one send of this step's action."""
        if self.action == "edit":
            target = room.targets[member]
            return "edit_message", {"room": room.name, "id": target, "message": f"t={now:.6f}"}
        if self.action == "react":
            return "react", {"room": room.name, "id": room.targets[member], "emoji": "👍"}
        return "send_message", {"message": f"t={now:.6f} x", "client_id": uuid.uuid4().hex}

    async def step(self, rate: float, seconds: float) -> StepResult:
        self.result = StepResult()
        for room in self.rooms:
            room.received.clear()
            room.arrivals.clear()
            room.sent_at.clear()
            room.acked.clear()
        senders = [
            (room, index, client)
            for room in self.rooms
            for index, client in enumerate(room.members)
        ]
        pending: list[asyncio.Future[Any]] = []
        cpu_start = time.process_time()
        self.step_start = time.time()
        started = time.monotonic()
        budget = 0.0
        turn = 0
        loop = asyncio.get_running_loop()
        while (elapsed := time.monotonic() - started) < seconds:
            due = rate * elapsed - budget
            while due >= 1:
                room, member, client = senders[turn % len(senders)]
                turn += 1
                now = time.time()
                future = client.emit_with_ack(*self._action(room, member, now))
                future.add_done_callback(self._on_ack(room, now))
                pending.append(future)
                budget += 1
                due -= 1
            await asyncio.sleep(TICK_SECONDS)
        self.result.sent = len(pending)
        await asyncio.wait(pending, timeout=10) if pending else None
        await self._drain(loop)
        self.step_start = float("inf")
        for room in self.rooms:
            members = len(room.members)
            self.result.expected += members * len(room.acked)
            self.result.delivered += sum(min(room.received.get(i, 0), members) for i in room.acked)
            for delivery_id in room.acked:
                sent = room.sent_at[delivery_id]
                self.result.latencies_ms.extend(
                    (arrived - sent) * 1000 for arrived in room.arrivals.get(delivery_id, ())
                )
        self.result.cpu_seconds = time.process_time() - cpu_start
        return self.result

    def _on_ack(self, room: Room, sent: float):
        def done(future: asyncio.Future[Any]) -> None:
            if future.cancelled() or future.exception() is not None:
                self.result.refused += 1
                return
            ack = future.result()[0]
            if ack.get("ok") and (ack.get("message") or ack.get("event")):
                self.result.acked += 1
                acked_id = (ack.get("message") or ack["event"])["id"]
                room.acked.add(acked_id)
                room.sent_at[acked_id] = sent
                self.result.ack_ms.append((time.time() - sent) * 1000)
            else:
                self.result.refused += 1

        return done

    async def _drain(self, loop: asyncio.AbstractEventLoop, timeout: float = 5.0) -> None:
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if all(
                room.received.get(i, 0) >= len(room.members)
                for room in self.rooms
                for i in room.acked
            ):
                return
            await asyncio.sleep(0.05)

    def close(self) -> None:
        for room in self.rooms:
            for client in room.members:
                client.close()


def shard_main(url: str, rooms: list[str], members: int, action: str, pipe: Any) -> None:
    """A generator process: open connections, then run the steps the parent asks for."""

    async def main() -> None:
        shard = Shard(url, rooms, members, action)
        await shard.open()
        pipe.send("ready")
        while True:
            command = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
            if command[0] == "stop":
                break
            result = await shard.step(command[1], command[2])
            pipe.send(asdict(result))
        shard.close()

    asyncio.run(main())


def server_pids() -> dict[str, list[int]]:
    """Chat workers (or the Node yardstick's processes), nginx and redis-server processes
    on this machine, from /proc."""
    groups: dict[str, list[int]] = {"workers": [], "nginx": [], "redis": []}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # TalkRooms' workers, or the Node yardstick's processes (loadtests/node_stack.py).
        if "talkrooms.wsgi" in cmdline or "node_baseline/server.mjs" in cmdline:
            groups["workers"].append(int(entry.name))
        elif cmdline.startswith("nginx"):
            groups["nginx"].append(int(entry.name))
        elif "redis-server" in cmdline:
            groups["redis"].append(int(entry.name))
    return groups


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) of each process still running."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime, in ticks
    return found


def cpu_seconds(pids: list[int]) -> float:
    return sum(cpu_by_pid(pids).values())


def cpu_spent(before: dict[int, float], pids: list[int]) -> float:
    """CPU seconds spent since `before` by the processes alive at both readings: one that
    exits during a step (another program's, on a shared box) must not subtract its past."""
    after = cpu_by_pid(pids)
    return sum(after[pid] - before[pid] for pid in after if pid in before)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarise(
    rate: float, seconds: float, shards: list[dict[str, Any]], server_cpu: dict[str, float]
) -> dict[str, Any]:
    latencies = [x for s in shards for x in s["latencies_ms"]]
    acks = [x for s in shards for x in s["ack_ms"]]
    expected = sum(s["expected"] for s in shards)
    delivered = sum(s["delivered"] for s in shards)
    acked = sum(s["acked"] for s in shards)
    worker_cpu = server_cpu.get("workers", 0.0)
    return {
        "target_msg_s": rate,
        "sent_msg_s": round(sum(s["sent"] for s in shards) / seconds, 1),
        "acked": acked,
        "refused": sum(s["refused"] for s in shards),
        "deliveries_s": round(delivered / seconds, 1),
        "lost": expected - delivered,
        "lost_pct": round(100 * (expected - delivered) / expected, 4) if expected else 0.0,
        "fanout_p50_ms": round(percentile(latencies, 0.50), 1),
        "fanout_p99_ms": round(percentile(latencies, 0.99), 1),
        "fanout_max_ms": round(max(latencies), 1) if latencies else None,
        "ack_p50_ms": round(percentile(acks, 0.50), 1),
        "ack_p99_ms": round(percentile(acks, 0.99), 1),
        "generator_cpu_pct": round(100 * sum(s["cpu_seconds"] for s in shards) / seconds, 1),
        "server_cpu_pct": {k: round(100 * v / seconds, 1) for k, v in server_cpu.items()},
        "worker_us_per_msg": round(1e6 * worker_cpu / acked, 1) if acked else None,
        "worker_us_per_delivery": round(1e6 * worker_cpu / delivered, 1) if delivered else None,
        "mean_fanout_ms": round(statistics.fmean(latencies), 1) if latencies else None,
    }


def held(step: dict[str, Any], p99_limit: float, loss_limit_pct: float) -> bool:
    return (
        step["fanout_p99_ms"] <= p99_limit
        and step["lost_pct"] <= loss_limit_pct
        and step["refused"] == 0
        and step["sent_msg_s"] >= 0.95 * step["target_msg_s"]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--rates", default="500,1000,2000,3000,4000,5000,6000,8000")
    parser.add_argument("--step-seconds", type=float, default=15)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--p99-limit-ms", type=float, default=250)
    parser.add_argument("--loss-limit-pct", type=float, default=0.1)
    parser.add_argument(
        "--keep-going", action="store_true", help="run every rate even after one fails"
    )
    parser.add_argument("--json", type=Path, help="write every step's figures here")
    parser.add_argument(
        "--action", choices=ACTIONS, default="message", help="what each send is (see above)"
    )
    args = parser.parse_args(argv)

    run = uuid.uuid4().hex[:6]
    rooms = [f"bench-{run}-{i}" for i in range(args.rooms)]
    processes = max(1, min(args.processes, args.rooms))
    pipes, children = [], []
    for index in range(processes):
        parent_end, child_end = mp.Pipe()
        child = mp.Process(
            target=shard_main,
            args=(args.url, rooms[index::processes], args.members, args.action, child_end),
            daemon=True,
        )
        child.start()
        pipes.append(parent_end)
        children.append(child)
    for pipe in pipes:
        if pipe.recv() != "ready":
            raise RuntimeError("a generator process failed to start")
    print(
        f"{args.rooms} rooms x {args.members} members = {args.rooms * args.members} "
        f"WebSocket clients via {args.url}, {processes} generator processes, "
        f"action {args.action}",
        flush=True,
    )

    steps = []
    best = None
    for rate in (float(r) for r in args.rates.split(",")):
        groups = server_pids()
        before = {name: cpu_by_pid(pids) for name, pids in groups.items()}
        for pipe in pipes:
            pipe.send(("step", rate / processes, args.step_seconds))
        shards = [pipe.recv() for pipe in pipes]
        server_cpu = {name: cpu_spent(before[name], pids) for name, pids in groups.items()}
        step = summarise(rate, args.step_seconds, shards, server_cpu)
        step["held"] = held(step, args.p99_limit_ms, args.loss_limit_pct)
        steps.append(step)
        print(json.dumps(step), flush=True)
        if step["held"]:
            best = step
        elif not args.keep_going:
            break
    for pipe in pipes:
        pipe.send(("stop",))
    for child in children:
        child.join(timeout=10)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"args": vars(args) | {"json": str(args.json)}, "steps": steps, "best": best},
                indent=2,
            )
        )
    if best:
        print(
            f"highest rate held: {best['target_msg_s']:.0f} msg/s = "
            f"{best['deliveries_s']:.0f} deliveries/s, p99 {best['fanout_p99_ms']} ms, "
            f"lost {best['lost']}",
            flush=True,
        )
    else:
        print("no rate held", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
