import AsyncStorage from '@react-native-async-storage/async-storage';
import { act, fireEvent, screen, waitFor } from '@testing-library/react-native';

import { STORAGE_KEYS } from '../config/storage';
import { setLanguage } from '../i18n';
import type { ChatScreenProps } from '../navigation/types';
import { AccountClientFactoryContext } from '../services/accounts/AccountContext';
import { conversationJson, fakeAccountClients, fakeApi, secureStoreMap, tokens, type FakeApi } from '../../test/accounts';
import { flushPromises, type FakeSocket } from '../../test/FakeSocket';
import { ackMarkRead, answerJoin, roomMessage, type RoomOnServer } from '../../test/protocol2';
import { fakeChatServices, renderWithServices } from '../../test/render';
import { ChatScreen } from './ChatScreen';

const SERVER = 'http://chat.test:5000';
const KEY = 'device_key_0123456789abcdefghij';
const DM_BOB = `dm:${'bob'.padEnd(20, '0')}`;
const DM_CAROL = `dm:${'carol'.padEnd(20, '1')}`;
const navigation = { goBack: jest.fn(), canGoBack: jest.fn(() => true), replace: jest.fn() };

const BOB_PROFILE = { username: 'bob', display_name: 'Bob Builder', bio: 'Fixes things', color: '#45B7D1', created_at: '2026-12-01T10:00:00Z' };

/** The chat of alice in #general: signed in (the default) or a guest. */
async function openChat({ api = fakeApi(), signedIn = true }: { api?: FakeApi; signedIn?: boolean } = {}) {
  if (!api.routes['POST /api/v1/auth/login']) api.routes['POST /api/v1/auth/login'] = [200, tokens('alice')];
  if (!api.routes['GET /api/v1/conversations']) api.routes['GET /api/v1/conversations'] = [200, { conversations: [] }];
  const accounts = fakeAccountClients(api);
  if (signedIn) await accounts.factory(SERVER).login('alice', 'correct horse battery');
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
  return { api, socket, services };
}

async function join(socket: FakeSocket, rooms: Record<string, RoomOnServer>) {
  await act(async () => {
    if (!socket.connected) socket.serverConnect();
    for (const [room, state] of Object.entries(rooms)) answerJoin(socket, room, state);
    await flushPromises();
  });
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

beforeEach(async () => {
  await AsyncStorage.clear();
  await AsyncStorage.setItem(STORAGE_KEYS.clientKey, KEY);
  secureStoreMap().clear();
  setLanguage('en');
});

afterEach(async () => {
  await act(() => new Promise<void>((resolve) => setTimeout(resolve, 80)));
});

describe('ChatScreen, signed in', () => {
  it('signs the connection in with the account’s access token', async () => {
    const { socket } = await openChat();
    const auth = socket.options?.auth as (cb: (data: object) => void) => void;
    expect(typeof auth).toBe('function');
    const sent = await new Promise<object>((resolve) => auth(resolve));
    expect(sent).toEqual({ protocol: 2, token: 'access-alice-1' });
  });

  it('lists the private conversations by the other person’s name, with their unread counts', async () => {
    const api = fakeApi({
      'GET /api/v1/conversations': [
        200,
        { conversations: [conversationJson(DM_BOB, 'bob', 'Bob Builder'), conversationJson(DM_CAROL, 'carol', 'Carol')] },
      ],
    });
    const { socket } = await openChat({ api });
    await settle();
    await join(socket, {
      general: {},
      [DM_BOB]: { messages: [roomMessage(DM_BOB, 1, 'bob', 'psst'), roomMessage(DM_BOB, 2, 'bob', 'you there?')], unread: 2 },
      [DM_CAROL]: {},
    });
    await press('chat-rooms-toggle');
    expect(screen.getByTestId('conversation-bob')).toHaveTextContent(/Bob Builder2$/);
    expect(screen.getByTestId('conversation-unread-bob')).toHaveTextContent('2');
    expect(screen.getByTestId('conversation-carol')).toHaveTextContent(/Carol$/);
    expect(screen.queryByTestId('conversation-unread-carol')).toBeNull();
    // Not among the rooms by their ids.
    expect(screen.queryByTestId(`room-${DM_BOB}`)).toBeNull();

    await press('conversation-bob');
    expect(screen.getByTestId('chat-header-room')).toHaveTextContent('Bob Builder');
    expect(screen.getByText('you there?')).toBeTruthy();
  });

  it('adds a conversation opened elsewhere (the `conversation` event) and joins it', async () => {
    const { socket } = await openChat();
    await settle();
    await join(socket, { general: {} });
    await act(async () => {
      socket.fire('conversation', conversationJson(DM_CAROL, 'carol', 'Carol'));
      await flushPromises();
    });
    expect(socket.sent('join_room').map((e) => e.payload.room)).toContain(DM_CAROL);
    await join(socket, { [DM_CAROL]: { messages: [roomMessage(DM_CAROL, 1, 'carol', 'hello')], unread: 1 } });
    await press('chat-rooms-toggle');
    expect(screen.getByTestId('conversation-unread-carol')).toHaveTextContent('1');
  });

  it('opens a profile from the user list: “Message” opens the conversation, “Block” blocks', async () => {
    const api = fakeApi({
      'GET /api/v1/profiles/bob': [200, BOB_PROFILE],
      'GET /api/v1/blocks': [200, { blocked: [] }],
      'POST /api/v1/conversations': [201, conversationJson(DM_BOB, 'bob', 'Bob Builder')],
      'PUT /api/v1/blocks/bob': [200, { ok: true }],
      'DELETE /api/v1/blocks/bob': [200, { ok: true }],
    });
    const { socket } = await openChat({ api });
    await settle();
    await act(async () => {
      socket.serverConnect();
      answerJoin(socket, 'general', {});
      socket.fire('room_users', {
        room: 'general',
        count: 2,
        users: [
          { username: 'alice', color: '#FF6B6B', display_name: 'Alice', account: true },
          { username: 'bob', color: '#45B7D1', display_name: 'Bob Builder', account: true },
        ],
      });
      await flushPromises();
    });
    await press('chat-users-toggle');
    expect(screen.getByTestId('chat-user-bob')).toHaveTextContent(/Bob Builder \(@bob\)$/);
    await press('chat-user-bob');
    expect(screen.getByTestId('profile-display-name')).toHaveTextContent('Bob Builder');
    expect(screen.getByTestId('profile-username')).toHaveTextContent('@bob');
    expect(screen.getByTestId('profile-bio')).toHaveTextContent('Fixes things');

    await press('profile-block');
    expect(api.calls('PUT', '/api/v1/blocks/bob')).toHaveLength(1);
    expect(screen.getByTestId('profile-block')).toHaveTextContent('Unblock');
    await press('profile-block');
    expect(api.calls('DELETE', '/api/v1/blocks/bob')).toHaveLength(1);
    expect(screen.getByTestId('profile-block')).toHaveTextContent('Block');

    await press('profile-message');
    expect(api.calls('POST', '/api/v1/conversations')[0].body).toEqual({ username: 'bob' });
    expect(screen.queryByTestId('profile-sheet')).toBeNull();
    expect(screen.getByTestId('chat-header-room')).toHaveTextContent('Bob Builder');
    expect(socket.last('join_room').payload.room).toBe(DM_BOB);
  });

  it('opens a profile from a message’s author, and says a guest has none', async () => {
    const api = fakeApi({ 'GET /api/v1/profiles/dave': [404, { error: 'No such account', code: 'not_found' }] });
    const { socket } = await openChat({ api });
    await settle();
    await join(socket, { general: { messages: [roomMessage('general', 1, 'dave', 'hi all')] } });
    await press('message-author-000000000001');
    expect(screen.getByTestId('profile-guest')).toHaveTextContent('dave is a guest: guests have no profile.');
    expect(screen.queryByTestId('profile-message')).toBeNull();
  });

  it('starts a new conversation by username, and shows why one cannot be opened', async () => {
    const api = fakeApi({
      'POST /api/v1/conversations': (request) =>
        request.body.username === 'carol'
          ? [201, conversationJson(DM_CAROL, 'carol', 'Carol')]
          : [403, { error: 'This person does not accept your messages', code: 'blocked' }],
    });
    const { socket } = await openChat({ api });
    await settle();
    await join(socket, { general: {} });
    await press('chat-rooms-toggle');
    await press('rooms-new-message');
    fireEvent.changeText(screen.getByTestId('new-message-username'), 'mallory');
    await press('new-message-start');
    expect(screen.getByTestId('new-message-error')).toHaveTextContent('This person does not accept your messages');

    fireEvent.changeText(screen.getByTestId('new-message-username'), 'carol');
    await press('new-message-start');
    expect(screen.queryByTestId('chat-rooms-panel')).toBeNull();
    expect(screen.getByTestId('chat-header-room')).toHaveTextContent('Carol');
  });

  it('shows a send refused because of a block, and a conversation that cannot be written to', async () => {
    const api = fakeApi({
      'GET /api/v1/conversations': [200, { conversations: [conversationJson(DM_BOB, 'bob', 'Bob Builder')] }],
    });
    const { socket } = await openChat({ api });
    await settle();
    await join(socket, { general: {}, [DM_BOB]: {} });
    await press('chat-rooms-toggle');
    await press('conversation-bob');
    fireEvent.changeText(screen.getByTestId('chat-input'), 'are you there?');
    await press('chat-send');
    const sent = socket.last('send_message');
    expect(sent.payload).toMatchObject({ room: DM_BOB, message: 'are you there?' });
    await act(async () => {
      sent.ack!({ ok: false, error: 'You cannot write in this conversation', code: 'blocked' });
      await flushPromises();
    });
    expect(screen.getByTestId('chat-error')).toHaveTextContent('You cannot write in this conversation');

    // The block is known to both: the conversation becomes read-only.
    await act(async () => {
      socket.fire('conversation', conversationJson(DM_BOB, 'bob', 'Bob Builder', { can_write: false }));
      await flushPromises();
    });
    expect(screen.getByTestId('chat-read-only')).toBeTruthy();
    fireEvent.changeText(screen.getByTestId('chat-input'), 'again');
    expect(screen.getByTestId('chat-send')).toBeDisabled();
  });

  it('edits its own profile: display name, bio and a colour of the table', async () => {
    const mine = { username: 'alice', display_name: 'alice', bio: '', color: '#FF6B6B', created_at: '2026-12-01T10:00:00Z', email: null };
    const api = fakeApi({
      'GET /api/v1/profile': [200, mine],
      'PATCH /api/v1/profile': (request) => [
        200,
        { ...mine, display_name: request.body.display_name, bio: request.body.bio, color: request.body.color },
      ],
    });
    const { socket } = await openChat({ api });
    await settle();
    await join(socket, { general: { users: ['alice'] } });
    await press('chat-users-toggle');
    await press('chat-user-alice');
    await press('profile-edit');
    fireEvent.changeText(screen.getByTestId('profile-edit-display-name'), 'Alice A.');
    fireEvent.changeText(screen.getByTestId('profile-edit-bio'), 'Hello there');
    await press('profile-color-#A55EEA');
    expect(screen.getByTestId('profile-color-#A55EEA')).toBeChecked();
    await press('profile-save');
    expect(api.calls('PATCH', '/api/v1/profile')[0].body).toEqual({
      display_name: 'Alice A.',
      bio: 'Hello there',
      color: '#A55EEA',
    });
    expect(screen.getByTestId('profile-display-name')).toHaveTextContent('Alice A.');
    expect(screen.getByTestId('profile-notice')).toHaveTextContent('Profile saved.');
  });
});

describe('ChatScreen, as a guest', () => {
  it('says private messages need an account (new message, and Message on a profile)', async () => {
    const api = fakeApi({ 'GET /api/v1/profiles/bob': [200, BOB_PROFILE] });
    const { socket } = await openChat({ api, signedIn: false });
    expect(socket.options?.auth).toEqual({ protocol: 2 });
    await join(socket, { general: { users: ['alice', 'bob'] } });
    expect(api.calls('GET', '/api/v1/conversations')).toHaveLength(0);

    await press('chat-rooms-toggle');
    await press('rooms-new-message');
    expect(screen.getByTestId('new-message-error')).toHaveTextContent('Private messages need an account: sign up or log in.');
    expect(screen.queryByTestId('new-message-username')).toBeNull();
    await press('chat-rooms-toggle');

    await press('chat-users-toggle');
    await press('chat-user-bob');
    expect(screen.getByTestId('profile-display-name')).toHaveTextContent('Bob Builder');
    expect(screen.queryByTestId('profile-block')).toBeNull();
    await press('profile-message');
    expect(screen.getByTestId('profile-notice')).toHaveTextContent('Private messages need an account: sign up or log in.');
    expect(api.calls('POST', '/api/v1/conversations')).toHaveLength(0);
  });

  it('shows the server’s account_required refusal in French', async () => {
    setLanguage('fr');
    const { socket } = await openChat({ signedIn: false });
    await join(socket, { general: {} });
    await act(async () => {
      socket.fire('error', { message: 'Private messages need an account', code: 'account_required', room: 'general' });
      await flushPromises();
    });
    expect(screen.getByTestId('chat-error')).toHaveTextContent(
      'Les messages privés demandent un compte : inscrivez-vous ou connectez-vous.',
    );
    setLanguage('en');
  });
});

