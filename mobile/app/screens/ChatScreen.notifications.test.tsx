import AsyncStorage from '@react-native-async-storage/async-storage';
import { act, fireEvent, screen, waitFor } from '@testing-library/react-native';

import { STORAGE_KEYS } from '../config/storage';
import { setLanguage } from '../i18n';
import type { ChatScreenProps } from '../navigation/types';
import { AccountClientFactoryContext } from '../services/accounts/AccountContext';
import { setNotificationsFetch, unregisterPushDevice } from '../services/notifications/push';
import { fakeAccountClients, fakeApi, secureStoreMap, tokens } from '../../test/accounts';
import { flushPromises } from '../../test/FakeSocket';
import { ackMarkRead, answerJoin } from '../../test/protocol2';
import { fakeChatServices, renderWithServices } from '../../test/render';
import { ChatScreen } from './ChatScreen';

const SERVER = 'http://chat.test:5000';
const KEY = 'device_key_0123456789abcdefghij';
const navigation = { goBack: jest.fn(), canGoBack: jest.fn(() => true), replace: jest.fn() };

/** The chat of alice in #general, signed in, with the notification routes on the fake fetch. */
async function openChat() {
  const api = fakeApi({
    'POST /api/v1/auth/login': [200, tokens('alice')],
    'GET /api/v1/conversations': [200, { conversations: [] }],
    'POST /api/v1/push/devices': [201, { id: 12, kind: 'expo', label: 'TalkRooms ios' }],
    'GET /api/v1/notifications': [200, { rooms: [{ room: 'general', level: 'all', muted_until: null }] }],
    'PUT /api/v1/notifications/general': (request) => [200, { room: 'general', level: request.body.level ?? 'all', muted_until: null }],
  });
  setNotificationsFetch(api.fetch as unknown as typeof fetch);
  const accounts = fakeAccountClients(api);
  await accounts.factory(SERVER).login('alice', 'correct horse battery');
  const services = fakeChatServices({ protocol: 2 });
  const props = {
    navigation,
    route: { key: 'Chat-1', name: 'Chat', params: { username: 'alice', room: 'general', serverUrl: SERVER } },
  } as unknown as ChatScreenProps;
  const view = renderWithServices(
    <AccountClientFactoryContext.Provider value={accounts.factory}>
      <ChatScreen {...props} />
    </AccountClientFactoryContext.Provider>,
    services.factory,
  );
  await waitFor(() => expect(services.sockets).toHaveLength(1));
  const socket = services.sockets[0];
  ackMarkRead(socket);
  await act(async () => {
    if (!socket.connected) socket.serverConnect();
    answerJoin(socket, 'general', {});
    await flushPromises();
  });
  return { api, socket, accounts, view };
}

beforeEach(async () => {
  await AsyncStorage.clear();
  await AsyncStorage.setItem(STORAGE_KEYS.clientKey, KEY);
  secureStoreMap().clear();
  setLanguage('en');
});

afterEach(async () => {
  setNotificationsFetch(undefined);
  await act(() => new Promise<void>((resolve) => setTimeout(resolve, 80)));
});

describe('ChatScreen, notifications', () => {
  it('registers this device, reports focus on the room shown, and sets a level from the sheet', async () => {
    const { api, socket, accounts, view } = await openChat();

    await waitFor(() => expect(api.calls('POST', '/api/v1/push/devices')).toHaveLength(1));
    expect(api.calls('POST', '/api/v1/push/devices')[0].body).toEqual({
      kind: 'expo',
      token: 'ExponentPushToken[test-device]',
      label: 'TalkRooms ios',
    });
    await waitFor(() => expect(socket.sent('focus').map((e) => e.payload)).toContainEqual({ room: 'general', focused: true }));

    await act(async () => {
      fireEvent.press(screen.getByTestId('chat-notify'));
    });
    await waitFor(() => expect(screen.getByTestId('notify-level-all').props.accessibilityState).toMatchObject({ checked: true }));
    await act(async () => {
      fireEvent.press(screen.getByTestId('notify-level-none'));
    });
    await waitFor(() => expect(api.calls('PUT', '/api/v1/notifications/general')).toHaveLength(1));
    expect(api.calls('PUT', '/api/v1/notifications/general')[0].body).toEqual({ level: 'none' });
    await waitFor(() => expect(screen.getByTestId('notify-level-none').props.accessibilityState).toMatchObject({ checked: true }));

    // Closing the chat ends the focus before leaving.
    view.unmount();
    expect(socket.sent('focus').map((e) => e.payload).at(-1)).toEqual({ room: 'general', focused: false });
    await unregisterPushDevice(SERVER, accounts.factory(SERVER));
    expect(api.calls('DELETE', '/api/v1/push/devices/12')).toHaveLength(1);
  });
});
