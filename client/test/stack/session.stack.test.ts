/**
 * The client core with the real socket.io-client against a running TalkRooms (nginx and
 * several workers): TALKROOMS_URL names it. services/tests/integration/
 * test_client_core_js.py starts a stack and runs this suite; by hand:
 *   TALKROOMS_URL=http://127.0.0.1:5000 npm run test:stack
 */
import { io } from 'socket.io-client';

import { URL, WAIT_MS, client, dropConnection, joined, open, roomName, until, type Client } from './stack.js';

jest.setTimeout(60000);

if (!URL) {
  test.skip('TALKROOMS_URL is not set: no server to test against', () => undefined);
}
const describeStack = URL ? describe : describe.skip;

const texts = (c: Client) => c.session.timeline.messages().map((m) => m.message);
const ids = (c: Client) => c.session.timeline.messages().map((m) => Number(m.id));

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.session.leave()));
});

describeStack('the client core against a real stack', () => {
  test('joins and sends a message that is acknowledged and shown once', async () => {
    const alice = client('alice', roomName());
    await joined(alice);
    const sent = alice.session.send('  hello from the core  ');
    expect(sent.ok).toBe(true);
    await until([alice], 'the ack', () => alice.session.outbox.size === 0 && texts(alice).length === 1);
    const [message] = alice.session.timeline.messages();
    expect(message).toMatchObject({ message: 'hello from the core', username: 'alice', status: 'sent' });
    expect(message.client_id).toBe(sent.ok ? sent.clientId : '');
    expect(message.id).toMatch(/^\d{12}$/);
  });

  test('two clients see each other, and who is online', async () => {
    const room = roomName();
    const alice = client('alice', room);
    const bob = client('bob', room);
    await joined(alice);
    await joined(bob);
    await until([alice], 'bob online', () => alice.session.users.map((u) => u.username).join() === 'alice,bob');
    alice.session.send('hi bob');
    bob.session.send('hi alice');
    const both = (c: Client) => texts(c).length === 2;
    await until([alice, bob], 'both messages on both sides', () => both(alice) && both(bob));
    expect(texts(alice).sort()).toEqual(['hi alice', 'hi bob']);
    expect(texts(bob)).toEqual(texts(alice));
    expect(alice.session.timeline.list().some((i) => i.kind === 'notice' && i.variant === 'join')).toBe(true);
  });

  test('after a dropped connection it rejoins and fills the gap with no duplicate', async () => {
    const room = roomName();
    const alice = client('alice', room);
    const bob = client('bob', room);
    await joined(alice);
    await joined(bob);
    bob.session.send('before');
    await until([alice], 'the first message', () => texts(alice).length === 1);

    dropConnection(alice);
    await until([alice], 'the drop', () => !alice.session.isJoined);
    for (const text of ['while away 1', 'while away 2', 'while away 3']) bob.session.send(text);
    await until([bob], "bob's acks", () => bob.session.outbox.size === 0);

    await until([alice], 'the rejoin and the fill', () => alice.session.isJoined && texts(alice).length === 4);
    await until([alice], 'the fill to end', () => !alice.session.timeline.hasGap());
    expect(texts(alice)).toEqual(['before', 'while away 1', 'while away 2', 'while away 3']);
    const list = ids(alice);
    expect(new Set(list).size).toBe(list.length);
    expect(list).toEqual(list.map((_, i) => list[0] + i));
    const fills = alice.outgoing.filter(([event]) => event === 'get_history');
    expect(fills.length).toBeGreaterThanOrEqual(1);
    expect(fills[0][1]).toMatchObject({ room, since_id: String(list[0]).padStart(12, '0') });
  });

  test('messages typed while disconnected go out once after the reconnection', async () => {
    const room = roomName();
    const alice = client('alice', room);
    const bob = client('bob', room);
    await joined(alice);
    await joined(bob);
    dropConnection(alice);
    await until([alice], 'the drop', () => !alice.session.isJoined);
    alice.session.send('typed offline 1');
    alice.session.send('typed offline 2');
    expect(alice.session.timeline.list().filter((i) => i.kind === 'pending')).toHaveLength(2);
    await until([alice, bob], 'both delivered', () => alice.session.outbox.size === 0 && texts(bob).length === 2);
    expect(texts(bob)).toEqual(['typed offline 1', 'typed offline 2']);
    expect(texts(alice)).toEqual(['typed offline 1', 'typed offline 2']);
    const sends = alice.outgoing.filter(([event]) => event === 'send_message');
    expect(sends).toHaveLength(2);
  });

  test('a message whose ack was lost goes again after the reconnection and is stored once', async () => {
    const room = roomName();
    // Fault injection between the core and the real socket: the first send_message ack is
    // lost, and alice never sees her message live or in history: only the re-send can tell.
    let hidden = '';
    let swallowed = 0;
    let sends = 0;
    const acks: Array<{ ok: boolean; duplicate?: boolean; message?: { id: string } }> = [];
    const hide = (messages: unknown) =>
      Array.isArray(messages) ? messages.filter((m: { client_id?: string }) => !hidden || m?.client_id !== hidden) : messages;
    const alice = client('alice', room, {
      connect: (url, socketOptions) => {
        const socket = io(url, socketOptions);
        const wrapped = new Map<unknown, (...args: any[]) => void>();
        const faulty = {
          get connected() {
            return socket.connected;
          },
          on(event: string, listener: (...args: any[]) => void) {
            let inner = listener;
            if (event === 'room_joined') inner = (p: any) => listener({ ...p, messages: hide(p?.messages) });
            if (event === 'new_message') inner = (m: any) => (hidden && m?.client_id === hidden ? undefined : listener(m));
            wrapped.set(listener, inner);
            return socket.on(event, inner);
          },
          off(event: string, listener: (...args: any[]) => void) {
            return socket.off(event, wrapped.get(listener) ?? listener);
          },
          emit: (event: string, ...args: any[]) => socket.emit(event, ...args),
          timeout: (ms: number) => ({
            emit(event: string, payload: any, callback: (err: unknown, ack: any) => void) {
              if (event === 'send_message') sends += 1;
              socket.timeout(ms).emit(event, payload, (err: unknown, ack: any) => {
                if (event === 'send_message') {
                  if (!err) acks.push(ack);
                  // The first attempt's answer never reaches the core (lost, or cut by the drop).
                  if (swallowed === 0) {
                    swallowed += 1;
                    return;
                  }
                }
                if (event === 'get_history' && ack?.ok) ack = { ...ack, messages: hide(ack.messages) };
                callback(err, ack);
              });
            },
          }),
          connect: () => socket.connect(),
          disconnect: () => socket.disconnect(),
          io: socket.io,
        };
        return faulty;
      },
    });
    const bob = client('bob', room);
    await joined(alice);
    await joined(bob);
    const sent = alice.session.send('stored, ack lost');
    hidden = sent.ok ? sent.clientId : '';
    await until([bob], 'the message stored', () => texts(bob).length === 1);
    expect(alice.session.outbox.size).toBe(1);

    dropConnection(alice);
    await until([alice], 'the re-send acknowledged', () => alice.session.outbox.size === 0, WAIT_MS);
    // Sent twice with one client_id; the server stored it once and said so.
    expect(sends).toBe(2);
    const last = acks[acks.length - 1];
    expect([last.ok, last.duplicate]).toEqual([true, true]);
    expect(last.message?.id).toBe(bob.session.timeline.messages()[0].id);
    expect(alice.session.timeline.messages().map((m) => m.message)).toEqual(['stored, ack lost']);
    expect(alice.session.timeline.list().filter((i) => i.kind === 'pending')).toEqual([]);
    expect(texts(bob)).toEqual(['stored, ack lost']);
  });

  test('typing shows on the other side and stops when the message is sent', async () => {
    const room = roomName();
    const alice = client('alice', room);
    const bob = client('bob', room);
    await joined(alice);
    await joined(bob);
    alice.session.typing(true);
    await until([bob], 'alice typing', () => bob.session.typingNames.join() === 'alice');
    alice.session.send('done typing');
    await until([bob], 'alice stopped', () => bob.session.typingNames.length === 0 && texts(bob).length === 1);
    expect(alice.session.typingNames).toEqual([]);
  });
});
