import type { Conversation } from '@talkrooms/client';

import { ChatService } from './ChatService';
import { FakeSocket, flushPromises } from '../../../test/FakeSocket';
import { ackMarkRead, answerJoin } from '../../../test/protocol2';

const KEY = 'key_ABCDEFGHIJKLMNOPQRSTUVWXYZ01';
const dm = (stem: string) => `dm:${stem.padEnd(20, '0')}`;

function conversation(stem: string, extra: Partial<Conversation> = {}): Conversation {
  return {
    room: dm(stem),
    with: { username: stem, displayName: stem.toUpperCase(), color: '#45B7D1' },
    createdAt: '2026-12-06T09:00:00Z',
    blocked: false,
    canWrite: true,
    ...extra,
  };
}

function setup(auth?: { token(): Promise<string | null>; refresh(): Promise<string | null> }) {
  const sockets: FakeSocket[] = [];
  const service = new ChatService({
    serverUrl: 'http://chat.test:5000',
    username: 'alice',
    room: 'general',
    clientKey: KEY,
    protocol: 2,
    socketFactory: (_url, options) => {
      const socket = new FakeSocket();
      socket.options = options as Record<string, unknown>;
      sockets.push(socket);
      return socket;
    },
    makeClientId: () => 'cid-1',
    ...(auth ? { auth } : {}),
  });
  service.start();
  ackMarkRead(sockets[0]);
  return { service, socket: sockets[0] };
}

// The core's ack and retry timers must not outlive a test.
beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

const names = (service: ChatService) => service.getState().conversations.map((c) => c.with.username);

describe('private conversations in the ChatService', () => {
  it('joins every listed conversation without showing it, so its unread count is known', async () => {
    const { service, socket } = setup();
    socket.serverConnect();
    answerJoin(socket, 'general');
    service.setConversations([conversation('bob'), conversation('carol')]);
    await flushPromises();
    expect(socket.sent('join_room').map((e) => e.payload.room)).toEqual(['general', dm('bob'), dm('carol')]);
    answerJoin(socket, dm('bob'), { unread: 3 });
    await flushPromises();
    expect(service.getState().room).toBe('general');
    expect(service.getState().rooms.find((r) => r.room === dm('bob'))?.unread).toBe(3);
    expect(service.getState().totalUnread).toBe(3);
  });

  it('puts a new conversation first and updates a known one where it is', async () => {
    const { service, socket } = setup();
    socket.serverConnect();
    answerJoin(socket, 'general');
    service.setConversations([conversation('bob'), conversation('carol')]);
    socket.fire('conversation', {
      room: dm('dave'),
      with: { username: 'dave', display_name: 'Dave', color: '#F7B731' },
      created_at: '2026-12-06T10:00:00Z',
      blocked: false,
      can_write: true,
    });
    socket.fire('conversation', {
      room: dm('carol'),
      with: { username: 'carol', display_name: 'CAROL', color: '#45B7D1' },
      created_at: '2026-12-06T09:00:00Z',
      blocked: true,
      can_write: false,
    });
    await flushPromises();
    expect(names(service)).toEqual(['dave', 'bob', 'carol']);
    expect(service.conversationOf(dm('carol'))).toMatchObject({ blocked: true, canWrite: false });
    // Each room is joined once, whatever the number of updates.
    expect(socket.sent('join_room').filter((e) => e.payload.room === dm('carol'))).toHaveLength(1);
  });

  it('shows a conversation opened here', async () => {
    const { service, socket } = setup();
    socket.serverConnect();
    answerJoin(socket, 'general');
    expect(service.openConversation(conversation('bob'))).toEqual({ ok: true, room: dm('bob') });
    expect(service.getState().room).toBe(dm('bob'));
    expect(names(service)).toEqual(['bob']);
  });

  it('signs the handshake in with the token of `auth`', async () => {
    const { socket } = setup({ token: async () => 'access-1', refresh: async () => 'access-2' });
    const auth = socket.options?.auth as (cb: (data: object) => void) => void;
    await expect(new Promise((resolve) => auth(resolve))).resolves.toEqual({ protocol: 2, token: 'access-1' });
  });
});
