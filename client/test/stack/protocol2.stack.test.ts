/**
 * Protocol 2 with the real socket.io-client against a running TalkRooms (TALKROOMS_URL):
 * several rooms on one connection, edits, deletions, reactions, replies and unread counts,
 * and the catch-up of all of them after a dropped connection, compared with a client that
 * stayed and one that joins afterwards.
 */
import { roomView } from '../support/views.js';

import { URL, client, dropConnection, joined, open, roomName, until, type Client } from './stack.js';

jest.setTimeout(60000);

if (!URL) {
  test.skip('TALKROOMS_URL is not set: no server to test against', () => undefined);
}
const describeStack = URL ? describe : describe.skip;

const P2 = { protocol: 2 as const };

const state = roomView;
const texts = (c: Client, room: string) => state(c.session, room).map((m) => m.text);

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.session.leave()));
});

describeStack('protocol 2 against a real stack', () => {
  test('two rooms on one connection, unread counts, edits, reactions and a reply', async () => {
    const [general, random] = [roomName(), roomName()];
    const alice = client('alice', general, { ...P2, rooms: [random] });
    const bob = client('bob', random, P2);
    await joined(alice);
    await joined(bob);
    expect(alice.session.rooms.map((r) => [r.room, r.active])).toEqual([
      [general, true],
      [random, false],
    ]);

    bob.session.send('hello @alice');
    await until([alice], 'the unread message in the other room', () => alice.session.roomState(random)!.unread === 1);
    expect(alice.session.rooms.find((r) => r.room === random)).toMatchObject({ unread: 1, mentions: 1 });
    const [hello] = alice.session.roomState(random)!.timeline.messages();
    expect(hello.mentionsMe).toBe(true);

    expect(alice.session.setActiveRoom(random)).toBe(true);
    alice.session.markRead();
    expect(await alice.session.react(hello.id, '👍')).toMatchObject({ ok: true });
    const reply = alice.session.send('hi bob', { replyTo: hello.id });
    expect(reply.ok).toBe(true);
    await until([bob], 'the reaction and the reply', () => {
      const messages = bob.session.timeline.messages();
      return messages[0]?.reactions?.[0]?.count === 1 && messages.length === 2;
    });
    expect(bob.session.timeline.messages()[1].quote).toMatchObject({ id: hello.id, username: 'bob', excerpt: 'hello @alice' });

    expect(await bob.session.edit(hello.id, 'hello again @alice')).toMatchObject({ ok: true });
    await until([alice], 'the edit', () => alice.session.timeline.message(hello.id)?.message === 'hello again @alice');
    expect(alice.session.timeline.message(hello.id)?.edited_at).toEqual(expect.any(String));
    expect(await alice.session.edit(hello.id, 'not mine')).toMatchObject({ ok: false, code: 'forbidden' });
    expect(alice.session.rooms.find((r) => r.room === random)).toMatchObject({ unread: 0 });
    // One connection all along: each room was joined once.
    expect(alice.outgoing.filter(([event]) => event === 'join_room')).toHaveLength(2);
  });

  test('after a dropped connection it catches up edits, deletions and reactions exactly', async () => {
    const room = roomName();
    const alice = client('alice', room, P2);
    const bob = client('bob', room, P2);
    await joined(alice);
    await joined(bob);
    for (const text of ['one', 'two', 'three']) bob.session.send(text);
    await until([alice, bob], 'three messages on both sides', () => texts(alice, room).length === 3 && bob.session.outbox.size === 0);
    const [one, two, three] = bob.session.timeline.messages().map((m) => m.id);

    dropConnection(alice);
    await until([alice], 'the drop', () => !alice.session.isJoined);
    expect(await bob.session.edit(one, 'one (edited)')).toMatchObject({ ok: true });
    expect(await bob.session.react(one, '🎉')).toMatchObject({ ok: true });
    expect(await bob.session.react(two, '👍')).toMatchObject({ ok: true });
    expect(await bob.session.deleteMessage(three)).toMatchObject({ ok: true });
    expect(await bob.session.react(two, '👍')).toMatchObject({ ok: true }); // taken back
    bob.session.send('four');
    await until([bob], "bob's message", () => bob.session.outbox.size === 0);

    await until([alice], 'the rejoin and the catch-up', () => alice.session.isJoined && texts(alice, room).length === 4);
    await until([alice], 'the same state as bob', () => JSON.stringify(state(alice.session, room)) === JSON.stringify(state(bob.session, room)));
    expect(state(alice.session, room).map((m) => [m.text, m.deleted, m.reactions])).toEqual([
      ['one (edited)', false, ['🎉1:bob']],
      ['two', false, []],
      ['', true, []],
      ['four', false, []],
    ]);
    const history = alice.outgoing.filter(([event]) => event === 'get_history');
    expect(history.length).toBeGreaterThanOrEqual(1);

    const carol = client('carol', room, P2);
    await joined(carol);
    expect(state(carol.session, room)).toEqual(state(alice.session, room));
  });
});
