/**
 * The Chat screen with the moderation routes on the fake fetch, as the moderation tests play
 * it: alice signed in (or a guest) in #general, bob's message in the list, and helpers to
 * press, type and push server events inside act().
 */
import { act, fireEvent, screen, waitFor } from '@testing-library/react-native';

import type { ChatScreenProps } from '../app/navigation/types';
import { ChatScreen } from '../app/screens/ChatScreen';
import { AccountClientFactoryContext } from '../app/services/accounts/AccountContext';
import { setModerationFetch } from '../app/services/moderation/api';
import { fakeAccountClients, fakeApi, tokens, type FakeApi } from './accounts';
import { flushPromises, type FakeSocket } from './FakeSocket';
import { ackMarkRead, answerJoin, roomMessage, type RoomOnServer } from './protocol2';
import { fakeChatServices, renderWithServices } from './render';

export const SERVER = 'http://chat.test:5000';
export const BOB_SAYS = roomMessage('general', 1, 'bob', 'buy cheap pills');
const USERS = [
  { username: 'alice', color: '#FF6B6B', account: true },
  { username: 'bob', color: '#45B7D1', account: true },
  { username: 'carol', color: '#45B7D1', account: true },
];
const BOB_PROFILE = { username: 'bob', display_name: 'Bob', bio: '', color: '#45B7D1', created_at: '2026-12-01T10:00:00Z' };

/** `GET /roles` of #general (carol owns it); `you` is alice's role. */
export function rolesJson(you: string | null, moderators: string[] = []) {
  return {
    room: 'general',
    owner: { username: 'carol', display_name: 'Carol' },
    moderators: moderators.map((m) => ({ username: m, display_name: m })),
    you,
  };
}

export interface OpenChat {
  /** alice's role (signed in); `guest: true` opens the chat as a guest instead. */
  you?: string | null;
  guest?: boolean;
  api?: FakeApi;
  /** What room_joined carries beyond bob's message (settings…). */
  join?: RoomOnServer;
}

/** alice in #general with bob's message: signed in with role `you`, or a guest. */
export async function openChat({ you = 'moderator', guest = false, api = fakeApi(), join = {} }: OpenChat = {}) {
  api.routes['POST /api/v1/auth/login'] = [200, tokens('alice')];
  api.routes['GET /api/v1/conversations'] = [200, { conversations: [] }];
  if (!api.routes['GET /api/v1/rooms/general/roles']) {
    api.routes['GET /api/v1/rooms/general/roles'] = [200, rolesJson(you, you === 'moderator' ? ['alice'] : [])];
  }
  api.routes['GET /api/v1/profiles/bob'] = [200, BOB_PROFILE];
  api.routes['GET /api/v1/blocks'] = [200, { blocked: [] }];
  setModerationFetch(api.fetch as unknown as typeof fetch);
  const accounts = fakeAccountClients(api);
  if (!guest) await accounts.factory(SERVER).login('alice', 'correct horse battery');
  const services = fakeChatServices({ protocol: 2 });
  const props = {
    navigation: { goBack: jest.fn(), canGoBack: jest.fn(() => true), replace: jest.fn() },
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
    answerJoin(socket, 'general', { messages: [BOB_SAYS], ...join });
    socket.fire('room_users', { room: 'general', count: 3, users: USERS });
    await flushPromises();
  });
  await settle();
  return { api, socket, service: services.services[0] };
}

export async function settle() {
  await act(async () => {
    for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setTimeout(resolve, 0));
  });
}

export async function press(testID: string) {
  await act(async () => {
    fireEvent.press(screen.getByTestId(testID));
  });
  await settle();
}

export async function type(testID: string, text: string) {
  await act(async () => {
    fireEvent.changeText(screen.getByTestId(testID), text);
  });
}

export async function fire(socket: FakeSocket, event: string, payload: unknown) {
  await act(async () => {
    socket.fire(event, payload);
    await flushPromises();
  });
  await settle();
}

export async function longPress(testID: string) {
  await act(async () => {
    fireEvent(screen.getByTestId(testID), 'longPress');
  });
}
