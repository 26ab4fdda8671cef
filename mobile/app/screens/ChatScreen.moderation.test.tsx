import AsyncStorage from '@react-native-async-storage/async-storage';
import { act, fireEvent, screen, waitFor } from '@testing-library/react-native';

import { STORAGE_KEYS } from '../config/storage';
import { setLanguage } from '../i18n';
import type { ChatScreenProps } from '../navigation/types';
import { AccountClientFactoryContext } from '../services/accounts/AccountContext';
import { setModerationFetch } from '../services/moderation/api';
import { fakeAccountClients, fakeApi, secureStoreMap, tokens, type FakeApi } from '../../test/accounts';
import { flushPromises, type FakeSocket } from '../../test/FakeSocket';
import { ackMarkRead, answerJoin, deleteEvent, roomMessage } from '../../test/protocol2';
import { fakeChatServices, renderWithServices } from '../../test/render';
import { ChatScreen } from './ChatScreen';

const SERVER = 'http://chat.test:5000';
const KEY = 'device_key_0123456789abcdefghij';
const navigation = { goBack: jest.fn(), canGoBack: jest.fn(() => true), replace: jest.fn() };
const BOB_PROFILE = { username: 'bob', display_name: 'Bob', bio: '', color: '#45B7D1', created_at: '2026-12-01T10:00:00Z' };
const USERS = [
  { username: 'alice', color: '#FF6B6B', account: true },
  { username: 'bob', color: '#45B7D1', account: true },
  { username: 'carol', color: '#45B7D1', account: true },
];
const BOB_SAYS = roomMessage('general', 1, 'bob', 'buy cheap pills');

function roles(you: string | null, moderators: string[] = []) {
  return {
    room: 'general',
    owner: { username: 'carol', display_name: 'Carol' },
    moderators: moderators.map((m) => ({ username: m, display_name: m })),
    you,
  };
}

/** alice, signed in, in #general with bob's message; `you` is her role there. */
async function openChat({ you = 'moderator' as string | null, api = fakeApi() }: { you?: string | null; api?: FakeApi } = {}) {
  api.routes['POST /api/v1/auth/login'] = [200, tokens('alice')];
  api.routes['GET /api/v1/conversations'] = [200, { conversations: [] }];
  if (!api.routes['GET /api/v1/rooms/general/roles']) api.routes['GET /api/v1/rooms/general/roles'] = [200, roles(you, you === 'moderator' ? ['alice'] : [])];
  api.routes['GET /api/v1/profiles/bob'] = [200, BOB_PROFILE];
  api.routes['GET /api/v1/blocks'] = [200, { blocked: [] }];
  setModerationFetch(api.fetch as unknown as typeof fetch);
  const accounts = fakeAccountClients(api);
  await accounts.factory(SERVER).login('alice', 'correct horse battery');
  const services = fakeChatServices({ protocol: 2 });
  const props = {
    navigation,
    route: { key: 'Chat-1', name: 'Chat', params: { username: 'alice', room: 'general', serverUrl: SERVER } },
  } as unknown as ChatScreenProps;
  renderWithServices(
    <AccountClientFactoryContext.Provider value={accounts.factory}>
      <ChatScreen {...props} />
    </AccountClientFactoryContext.Provider>,
    services.factory,
  );
  await waitFor(() => expect(services.sockets).toHaveLength(1));
  const socket = services.sockets[0];
  ackMarkRead(socket);
  await settle();
  await act(async () => {
    socket.serverConnect();
    answerJoin(socket, 'general', { messages: [BOB_SAYS] });
    socket.fire('room_users', { room: 'general', count: 3, users: USERS });
    await flushPromises();
  });
  await settle();
  return { api, socket };
}

async function settle() {
  await act(async () => {
    for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setTimeout(resolve, 0));
  });
}

async function press(testID: string) {
  await act(async () => {
    fireEvent.press(screen.getByTestId(testID));
  });
  await settle();
}

async function type(testID: string, text: string) {
  await act(async () => {
    fireEvent.changeText(screen.getByTestId(testID), text);
  });
}

async function fire(socket: FakeSocket, event: string, payload: unknown) {
  await act(async () => {
    socket.fire(event, payload);
    await flushPromises();
  });
  await settle();
}

async function longPress(testID: string) {
  await act(async () => {
    fireEvent(screen.getByTestId(testID), 'longPress');
  });
}

beforeEach(async () => {
  await AsyncStorage.clear();
  await AsyncStorage.setItem(STORAGE_KEYS.clientKey, KEY);
  secureStoreMap().clear();
  setLanguage('en');
});

afterEach(async () => {
  setModerationFetch(undefined);
  await act(() => new Promise<void>((resolve) => setTimeout(resolve, 80)));
});

describe('ChatScreen, moderation', () => {
  it('shows no staff controls to a member', async () => {
    const { api } = await openChat({ you: null });
    expect(api.calls('GET', '/api/v1/rooms/general/roles')).toHaveLength(1);
    expect(api.calls('GET', '/api/v1/rooms/general/roles')[0].headers.Authorization).toBe('Bearer access-alice-1');
    expect(screen.queryByTestId('chat-moderation')).toBeNull();
    await longPress('message-bubble-000000000001');
    expect(screen.queryByTestId('message-menu-remove')).toBeNull();
    await press('message-menu-close');
    await press('chat-users-toggle');
    // The owner's badge is for everyone to see.
    expect(screen.getByTestId('chat-user-role-carol')).toHaveTextContent('owner');
    await press('chat-user-bob');
    expect(screen.getByTestId('profile-display-name')).toHaveTextContent('Bob');
    expect(screen.queryByTestId('staff-actions')).toBeNull();
  });

  it('gives a moderator the controls and the badges', async () => {
    await openChat();
    expect(screen.getByTestId('chat-moderation')).toBeTruthy();
    await press('chat-users-toggle');
    expect(screen.getByTestId('chat-user-role-alice')).toHaveTextContent('moderator');
    expect(screen.getByTestId('chat-user-role-carol')).toHaveTextContent('owner');
    expect(screen.queryByTestId('chat-user-role-bob')).toBeNull();
    await press('chat-user-bob');
    expect(screen.getByTestId('staff-actions')).toBeTruthy();
    expect(screen.getByTestId('staff-kick')).toBeTruthy();
    // Naming moderators is the owner's.
    expect(screen.queryByTestId('staff-moderator')).toBeNull();
  });

  it('removes a message with a reason; everyone reads “Removed by a moderator”', async () => {
    const api = fakeApi({ 'POST /api/v1/rooms/general/messages/000000000001/remove': [200, { ok: true, removed: true, by: 'alice' }] });
    const { socket } = await openChat({ api });
    await longPress('message-bubble-000000000001');
    await press('message-menu-remove');
    await type('message-menu-remove-reason', 'spam');
    await press('message-menu-remove-confirm');
    const calls = api.calls('POST', '/api/v1/rooms/general/messages/000000000001/remove');
    expect(calls).toHaveLength(1);
    expect(calls[0].body).toEqual({ reason: 'spam' });
    expect(calls[0].headers.Authorization).toBe('Bearer access-alice-1');
    expect(screen.queryByTestId('message-menu')).toBeNull();

    const event = deleteEvent(BOB_SAYS, 1);
    await fire(socket, 'room_event', { ...event, message: { ...(event as { message: object }).message, removed: true } });
    expect(screen.getByTestId('message-removed-000000000001')).toHaveTextContent('Removed by a moderator');
    expect(screen.queryByText('buy cheap pills')).toBeNull();
  });

  it('reads a removal kept in history as removed by a moderator (in French here)', async () => {
    setLanguage('fr');
    const { socket } = await openChat({ you: null });
    const removed = roomMessage('general', 2, 'bob', '', { deleted: true, deleted_at: '2026-12-06T12:00:00Z', removed: true } as object);
    const deleted = roomMessage('general', 3, 'bob', '', { deleted: true, deleted_at: '2026-12-06T12:00:00Z' });
    await act(async () => {
      socket.drop();
      socket.serverConnect();
      answerJoin(socket, 'general', { messages: [BOB_SAYS, removed, deleted] });
      await flushPromises();
    });
    await settle();
    expect(screen.getByTestId('message-deleted-000000000003')).toBeTruthy();
    expect(screen.getByTestId('message-removed-000000000002')).toHaveTextContent('Retiré par un modérateur');
  });

  it('shows the server’s refusal of a removal', async () => {
    const api = fakeApi({
      'POST /api/v1/rooms/general/messages/000000000001/remove': [403, { error: 'Moderators only', code: 'forbidden' }],
    });
    await openChat({ api });
    await longPress('message-bubble-000000000001');
    await press('message-menu-remove');
    await press('message-menu-remove-confirm');
    expect(screen.getByTestId('chat-error')).toHaveTextContent('Moderators only');
  });

  it('mutes for an hour with a reason, and bans until lifted', async () => {
    const api = fakeApi({
      'POST /api/v1/rooms/general/sanctions': (request) => [
        200,
        { ok: true, sanction: 5, room: 'general', action: request.body.action, username: 'bob', reason: '', until: null, by: 'alice' },
      ],
    });
    await openChat({ api });
    await press('chat-users-toggle');
    await press('chat-user-bob');
    await press('staff-mute');
    await press('staff-duration-60');
    await type('staff-reason', 'calm down');
    expect(screen.getByTestId('staff-confirm')).toHaveTextContent('Mute bob');
    await press('staff-confirm');
    expect(api.calls('POST', '/api/v1/rooms/general/sanctions')[0].body).toEqual({
      action: 'mute',
      username: 'bob',
      minutes: 60,
      reason: 'calm down',
    });
    expect(screen.getByTestId('profile-notice')).toHaveTextContent(/bob was sanctioned/);

    await press('staff-ban');
    await press('staff-duration-permanent');
    await press('staff-confirm');
    expect(api.calls('POST', '/api/v1/rooms/general/sanctions')[1].body).toEqual({ action: 'ban', username: 'bob' });

    await press('staff-kick');
    expect(screen.queryByTestId('staff-duration-60')).toBeNull();
    await press('staff-confirm');
    expect(api.calls('POST', '/api/v1/rooms/general/sanctions')[2].body).toEqual({ action: 'kick', username: 'bob' });
  });

  it('shows a refused sanction in the server’s words', async () => {
    const api = fakeApi({ 'POST /api/v1/rooms/general/sanctions': [403, { error: 'Nobody sanctions an equal', code: 'forbidden' }] });
    await openChat({ api });
    await press('chat-users-toggle');
    await press('chat-user-bob');
    await press('staff-kick');
    await press('staff-confirm');
    expect(screen.getByTestId('staff-error')).toHaveTextContent('Nobody sanctions an equal');
  });

  it('lets the owner name a moderator, and reads the roles again', async () => {
    const api = fakeApi({ 'PUT /api/v1/rooms/general/moderators/bob': [200, { ok: true }] });
    api.routes['GET /api/v1/rooms/general/roles'] = [200, { ...roles('owner'), owner: { username: 'alice', display_name: 'Alice' } }];
    await openChat({ api });
    await press('chat-users-toggle');
    await press('chat-user-bob');
    expect(screen.getByTestId('staff-moderator')).toHaveTextContent('Make moderator');
    api.routes['GET /api/v1/rooms/general/roles'] = [
      200,
      { ...roles('owner', ['bob']), owner: { username: 'alice', display_name: 'Alice' } },
    ];
    await press('staff-moderator');
    expect(api.calls('PUT', '/api/v1/rooms/general/moderators/bob')).toHaveLength(1);
    expect(api.calls('GET', '/api/v1/rooms/general/roles')).toHaveLength(2);
    expect(screen.getByTestId('staff-moderator')).toHaveTextContent('Remove as moderator');
  });

  it('lists the sanctions in force and the audit log, and lifts one', async () => {
    const api = fakeApi();
    let sanctions = [
      { id: 5, action: 'mute', username: 'bob', guest: false, until: '2026-12-06T23:59:00Z', reason: 'flood', at: '2026-12-06T12:00:00Z' },
      { id: 6, action: 'ban', username: 'mallory', guest: true, until: null, reason: '', at: '2026-12-06T12:01:00Z' },
    ];
    api.routes['GET /api/v1/rooms/general/sanctions'] = () => [200, { room: 'general', sanctions }];
    api.routes['DELETE /api/v1/rooms/general/sanctions/5'] = () => {
      sanctions = sanctions.filter((s) => s.id !== 5);
      return [200, { ok: true }];
    };
    api.routes['GET /api/v1/rooms/general/audit'] = [
      200,
      {
        room: 'general',
        entries: [
          { id: 9, actor: 'alice', action: 'ban', target: 'mallory', reason: '', details: {}, at: '2026-12-06T12:01:00Z' },
          { id: 8, actor: 'alice', action: 'mute', target: 'bob', reason: 'flood', details: {}, at: '2026-12-06T12:00:00Z' },
        ],
      },
    ];
    await openChat({ api });
    await press('chat-moderation');
    expect(screen.getByTestId('moderation-sheet')).toBeTruthy();
    expect(screen.getByTestId('sanction-5')).toHaveTextContent(/bob: muted, until/);
    expect(screen.getByTestId('sanction-6')).toHaveTextContent(/^mallory \(guest\): banned, until lifted/);
    expect(screen.getByTestId('audit-9')).toHaveTextContent(/^alice banned mallory/);
    expect(screen.getByTestId('audit-8')).toHaveTextContent(/alice muted bob.*flood/);
    expect(screen.getByTestId('sanction-lift-5').props.accessibilityLabel).toBe('Lift: bob, muted');

    await press('sanction-lift-5');
    expect(api.calls('DELETE', '/api/v1/rooms/general/sanctions/5')).toHaveLength(1);
    expect(screen.queryByTestId('sanction-5')).toBeNull();
    expect(screen.getByTestId('sanction-6')).toBeTruthy();
    expect(api.calls('GET', '/api/v1/rooms/general/audit')[0].headers.Authorization).toBe('Bearer access-alice-1');
  });

  it('tells the room what a moderator did, in English and in French', async () => {
    const { socket } = await openChat({ you: null });
    await fire(socket, 'moderation', { room: 'general', action: 'kick', username: 'bob', reason: 'spam', until: null, by: 'carol' });
    expect(screen.getByText(/bob was kicked by carol\. Reason: spam/)).toBeTruthy();
    await fire(socket, 'moderation', { room: 'general', action: 'ban', username: 'dave', reason: '', until: null, by: 'carol' });
    expect(screen.getByText(/dave was banned by carol until lifted/)).toBeTruthy();
    await act(async () => setLanguage('fr'));
    await fire(socket, 'moderation', { room: 'general', action: 'unmute', username: 'erin', reason: '', until: null, by: 'carol' });
    expect(screen.getByText(/erin peut de nouveau écrire \(carol\)/)).toBeTruthy();
  });

  it('tells a banned person until when, and does not join the room again', async () => {
    const { socket } = await openChat({ you: null });
    await fire(socket, 'sanctioned', { room: 'general', action: 'ban', username: 'alice', reason: 'trolling', until: null, by: 'carol' });
    expect(screen.getByTestId('chat-sanction-text')).toHaveTextContent(
      'You are banned from #general by carol until lifted. Reason: trolling',
    );
    expect(screen.queryByTestId('chat-sanction-rejoin')).toBeNull();
    expect(screen.getByTestId('chat-send').props.accessibilityState.disabled).toBe(true);
    const joins = socket.sent('join_room').length;
    await act(async () => {
      socket.drop();
      socket.serverConnect();
      await flushPromises();
    });
    await settle();
    expect(socket.sent('join_room')).toHaveLength(joins);
    await press('chat-sanction-dismiss');
    expect(screen.queryByTestId('chat-sanction')).toBeNull();
  });

  it('tells a kicked person they may come back, and joins again on request', async () => {
    const { socket } = await openChat({ you: null });
    await fire(socket, 'sanctioned', { room: 'general', action: 'kick', username: 'alice', reason: '', until: null, by: 'carol' });
    expect(screen.getByTestId('chat-sanction-text')).toHaveTextContent('You were removed from #general by carol. You may join it again.');
    const joins = socket.sent('join_room').length;
    await press('chat-sanction-rejoin');
    expect(socket.sent('join_room')).toHaveLength(joins + 1);
    expect(socket.last('join_room').payload.room).toBe('general');
    expect(screen.queryByTestId('chat-sanction')).toBeNull();
  });

  it('tells a muted person so, and shows the server’s refusal of a send', async () => {
    const { socket } = await openChat({ you: null });
    await fire(socket, 'moderation', { room: 'general', action: 'mute', username: 'alice', reason: '', until: null, by: 'carol' });
    expect(screen.getByTestId('chat-sanction-text')).toHaveTextContent(/You are muted in #general by carol/);
    socket.respond = (emitted) => {
      if (emitted.event === 'send_message') emitted.ack?.({ ok: false, code: 'muted', error: 'You are muted in this room until 12:40' });
    };
    await type('chat-input', 'hello?');
    await press('chat-send');
    await settle();
    expect(screen.getAllByText(/You are muted in this room until 12:40/).length).toBeGreaterThan(0);
  });
});
