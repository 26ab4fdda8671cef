import AsyncStorage from '@react-native-async-storage/async-storage';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react-native';
import * as ImagePicker from 'expo-image-picker';
import { Linking } from 'react-native';

import { STORAGE_KEYS } from '../config/storage';
import { setLanguage } from '../i18n';
import type { ChatScreenProps } from '../navigation/types';
import { AccountClientFactoryContext } from '../services/accounts/AccountContext';
import { conversationJson, fakeAccountClients, fakeApi, secureStoreMap, tokens } from '../../test/accounts';
import { FakeSocket, flushPromises, ok } from '../../test/FakeSocket';
import { FakeXhr, installFakeXhr } from '../../test/FakeXhr';
import { ackMarkRead, answerJoin, roomMessage, type RoomOnServer } from '../../test/protocol2';
import { fakeChatServices, renderWithServices } from '../../test/render';
import { ChatScreen } from './ChatScreen';

const SERVER = 'http://chat.test:5000';
const KEY = 'device_key_0123456789abcdefghij';
const DM_BOB = `dm:${'bob'.padEnd(20, '0')}`;
const navigation = { goBack: jest.fn(), canGoBack: jest.fn(() => true), replace: jest.fn() };

const PHOTO = {
  id: 'a'.repeat(32),
  name: 'holiday.jpg',
  size: 120000,
  type: 'image/jpeg',
  kind: 'image' as const,
  width: 1200,
  height: 600,
  variants: ['display', 'thumb'],
};
const PDF = { id: 'b'.repeat(32), name: 'notes.pdf', size: 1536, type: 'application/pdf', kind: 'file' as const };

function asset(name = 'holiday.jpg'): ImagePicker.ImagePickerAsset {
  return { uri: `file:///tmp/${name}`, width: 1200, height: 600, fileName: name, mimeType: 'image/jpeg', fileSize: 2000, type: 'image' };
}

const props = {
  navigation,
  route: { key: 'Chat-1', name: 'Chat', params: { username: 'alice', room: 'general', serverUrl: SERVER } },
} as unknown as ChatScreenProps;

/** alice (a guest, or signed in) in #general on a protocol 2 service. */
async function openChat({ signedIn = false, api = fakeApi(), rooms = [] as string[] } = {}) {
  const services = fakeChatServices({ protocol: 2, rooms });
  if (signedIn) {
    api.routes['POST /api/v1/auth/login'] = [200, tokens('alice')];
    if (!api.routes['GET /api/v1/conversations']) api.routes['GET /api/v1/conversations'] = [200, { conversations: [] }];
    const accounts = fakeAccountClients(api);
    await accounts.factory(SERVER).login('alice', 'correct horse battery');
    renderWithServices(
      <AccountClientFactoryContext.Provider value={accounts.factory}>
        <ChatScreen {...props} />
      </AccountClientFactoryContext.Provider>,
      services.factory,
    );
  } else {
    renderWithServices(<ChatScreen {...props} />, services.factory);
  }
  await waitFor(() => expect(services.sockets).toHaveLength(1));
  const socket = services.sockets[0];
  ackMarkRead(socket);
  return { socket };
}

async function join(socket: FakeSocket, rooms: Record<string, RoomOnServer> = { general: {} }) {
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

/** The person picks these pictures in the photo library. */
async function pickFromLibrary(assets: ImagePicker.ImagePickerAsset[] = [asset()]) {
  jest.mocked(ImagePicker.launchImageLibraryAsync).mockResolvedValueOnce({ canceled: false, assets });
  await press('chat-attach');
  await press('attach-library');
}

async function serverAnswers(xhr: FakeXhr, status: number, body: unknown) {
  await act(async () => {
    xhr.answer(status, body);
    await flushPromises();
  });
}

const sendDisabled = () => screen.getByTestId('chat-send').props.accessibilityState?.disabled === true;

let restoreXhr: () => void;

beforeEach(async () => {
  await AsyncStorage.clear();
  await AsyncStorage.setItem(STORAGE_KEYS.clientKey, KEY);
  secureStoreMap().clear();
  setLanguage('en');
  restoreXhr = installFakeXhr();
});

afterEach(async () => {
  await act(() => new Promise<void>((resolve) => setTimeout(resolve, 80)));
  restoreXhr();
  setLanguage('en');
});

describe('ChatScreen: sharing pictures', () => {
  it('uploads a picked picture with its progress, and the message shares it without a caption', async () => {
    const { socket } = await openChat();
    await join(socket);
    await pickFromLibrary();

    expect(jest.mocked(ImagePicker.launchImageLibraryAsync)).toHaveBeenCalledWith(
      expect.objectContaining({ mediaTypes: ['images'], allowsMultipleSelection: true, selectionLimit: 10 }),
    );
    expect(FakeXhr.made).toHaveLength(1);
    const xhr = FakeXhr.made[0];
    expect(xhr.method).toBe('POST');
    expect(xhr.url).toBe(`${SERVER}/api/v1/uploads`);
    // A guest signs its upload with the name and client_key of its join.
    expect(xhr.headers.Authorization).toBeUndefined();
    expect(xhr.fields()).toEqual({
      room: 'general',
      username: 'alice',
      client_key: KEY,
      file: { uri: 'file:///tmp/holiday.jpg', name: 'holiday.jpg', type: 'image/jpeg' },
    });

    await act(async () => xhr.progress(1000, 2000));
    expect(screen.getByTestId('attachment-progress-0')).toHaveTextContent('50%');
    expect(screen.getByTestId('attachment-0').props.accessibilityLabel).toBe('Uploading holiday.jpg, 50%');
    expect(screen.getByTestId('attachment-remove-0').props.accessibilityLabel).toBe('Cancel the upload of holiday.jpg');
    expect(sendDisabled()).toBe(true);

    await serverAnswers(xhr, 201, PHOTO);
    expect(screen.queryByTestId('attachment-progress-0')).toBeNull();
    expect(screen.getByTestId('attachment-0').props.accessibilityLabel).toBe('holiday.jpg, ready to send');
    expect(sendDisabled()).toBe(false);

    await press('chat-send');
    expect(socket.last('send_message').payload).toEqual({ room: 'general', message: '', client_id: 'cid-1', files: [PHOTO.id] });
    expect(screen.queryByTestId('chat-attachments')).toBeNull();
    expect(within(screen.getByTestId('message-pending-cid-1')).getByTestId(`file-image-${PHOTO.id}`)).toBeTruthy();

    await act(async () => {
      socket.last('send_message').ack!(
        ok({ message: roomMessage('general', 2, 'alice', '', { client_id: 'cid-1', files: [PHOTO] }), duplicate: false }),
      );
      await flushPromises();
    });
    const thumb = within(screen.getByTestId('message-000000000002')).getByTestId(`file-thumb-${PHOTO.id}`);
    expect(thumb.props.source).toEqual({ uri: `${SERVER}/api/v1/files/${PHOTO.id}/thumb` });
    // 1200×600 within 220 px: the picture's shape.
    expect(thumb.props.style).toEqual(expect.objectContaining({ width: 220, height: 110 }));
  });

  it('sends a caption with the pictures, and waits for every upload', async () => {
    const { socket } = await openChat();
    await join(socket);
    await pickFromLibrary([asset('one.jpg'), asset('two.jpg')]);
    expect(FakeXhr.made).toHaveLength(2);
    await serverAnswers(FakeXhr.made[0], 201, { ...PHOTO, name: 'one.jpg' });
    fireEvent.changeText(screen.getByTestId('chat-input'), 'Look!');
    expect(sendDisabled()).toBe(true);
    fireEvent(screen.getByTestId('chat-input'), 'submitEditing');
    expect(screen.getByTestId('chat-input-error')).toHaveTextContent('Wait until the files are uploaded.');
    expect(socket.sent('send_message')).toHaveLength(0);

    await serverAnswers(FakeXhr.made[1], 201, { ...PHOTO, id: 'c'.repeat(32), name: 'two.jpg' });
    await press('chat-send');
    expect(socket.last('send_message').payload).toMatchObject({ message: 'Look!', files: [PHOTO.id, 'c'.repeat(32)] });
  });

  it('cancels an upload under way', async () => {
    const { socket } = await openChat();
    await join(socket);
    await pickFromLibrary();
    const xhr = FakeXhr.made[0];
    await press('attachment-remove-0');
    expect(xhr.aborted).toBe(true);
    expect(screen.queryByTestId('chat-attachments')).toBeNull();
    expect(sendDisabled()).toBe(true);
    expect(screen.queryByTestId('chat-error')).toBeNull();
    expect(socket.sent('send_message')).toHaveLength(0);
  });

  it('shows a refusal in the server’s words (in French, a translation of its code)', async () => {
    const { socket } = await openChat();
    await join(socket);
    await pickFromLibrary();
    await serverAnswers(FakeXhr.made[0], 413, { error: 'File too large: at most 10 MB', code: 'too_large' });
    expect(screen.getByTestId('attachment-error-0')).toHaveTextContent('holiday.jpg: File too large: at most 10 MB');
    expect(screen.getByTestId('attachment-0').props.accessibilityLabel).toBe(
      'holiday.jpg, not uploaded: File too large: at most 10 MB',
    );
    expect(sendDisabled()).toBe(true);
    await press('attachment-remove-0');
    expect(screen.queryByTestId('attachment-error-0')).toBeNull();

    setLanguage('fr');
    await pickFromLibrary([asset('page.jpg')]);
    await serverAnswers(FakeXhr.made[1], 415, { error: 'This type of file is not accepted', code: 'unsupported_type' });
    expect(screen.getByTestId('attachment-error-0')).toHaveTextContent('page.jpg: Ce type de fichier ne peut pas être partagé.');
  });

  it('asks for the camera, and says so when it is refused', async () => {
    const { socket } = await openChat();
    await join(socket);
    jest.mocked(ImagePicker.requestCameraPermissionsAsync).mockResolvedValueOnce({
      granted: false,
      status: ImagePicker.PermissionStatus?.DENIED ?? ('denied' as ImagePicker.PermissionStatus),
      canAskAgain: false,
      expires: 'never',
    });
    await press('chat-attach');
    await press('attach-camera');
    expect(ImagePicker.launchCameraAsync).not.toHaveBeenCalled();
    expect(screen.getByTestId('chat-error')).toHaveTextContent(/camera is not allowed/);

    // Allowed: the photo is uploaded (a camera shot without a name gets one).
    jest.mocked(ImagePicker.launchCameraAsync).mockResolvedValueOnce({
      canceled: false,
      assets: [{ ...asset(), fileName: null, mimeType: 'image/jpeg' }],
    });
    await press('chat-attach');
    await press('attach-camera');
    expect(FakeXhr.made).toHaveLength(1);
    expect((FakeXhr.made[0].fields().file as { name: string }).name).toMatch(/^photo-\d+\.jpg$/);
  });
});

describe('ChatScreen: uploads belong to the room shown', () => {
  it('cancels the tray’s uploads when another room is shown', async () => {
    const { socket } = await openChat({ rooms: ['random'] });
    await join(socket, { general: {}, random: {} });
    await pickFromLibrary();
    const xhr = FakeXhr.made[0];
    expect(xhr.fields().room).toBe('general');
    await press('chat-rooms-toggle');
    await press('room-random');
    expect(screen.getByTestId('chat-header-room')).toHaveTextContent('#random');
    expect(xhr.aborted).toBe(true);
    expect(screen.queryByTestId('chat-attachments')).toBeNull();
  });
});

describe('ChatScreen: shared files in the timeline', () => {
  it('shows thumbnails that open the picture full screen, and file cards that open the file', async () => {
    const openURL = jest.spyOn(Linking, 'openURL').mockResolvedValue(true);
    const { socket } = await openChat();
    await join(socket, { general: { messages: [roomMessage('general', 1, 'bob', 'Our trip', { files: [PHOTO, PDF] })] } });

    const row = screen.getByTestId('message-000000000001');
    const thumbButton = within(row).getByTestId(`file-image-${PHOTO.id}`);
    expect(thumbButton.props.accessibilityLabel).toBe('Picture holiday.jpg');
    expect(within(row).getByTestId(`file-thumb-${PHOTO.id}`).props.source).toEqual({
      uri: `${SERVER}/api/v1/files/${PHOTO.id}/thumb`,
    });
    expect(screen.getByTestId('message-bubble-000000000001').props.accessibilityLabel).toMatch(/^bob: Our trip, 2 attachments, /);

    const card = within(row).getByTestId(`file-card-${PDF.id}`);
    expect(card).toHaveTextContent(/notes\.pdf/);
    expect(card).toHaveTextContent(/1\.5 KB/);
    expect(card.props.accessibilityLabel).toBe('File notes.pdf, 1.5 KB');
    await press(`file-card-${PDF.id}`);
    expect(openURL).toHaveBeenCalledWith(`${SERVER}/api/v1/files/${PDF.id}`);

    await press(`file-image-${PHOTO.id}`);
    expect(screen.getByTestId('image-viewer')).toBeTruthy();
    expect(screen.getByTestId('image-viewer-image').props.source).toEqual({ uri: `${SERVER}/api/v1/files/${PHOTO.id}/display` });
    expect(screen.getByTestId('image-viewer-close').props.accessibilityLabel).toBe('Close the picture');
    await press('image-viewer-close');
    expect(screen.queryByTestId('image-viewer')).toBeNull();
    openURL.mockRestore();
  });

  it('asks again for a picture that failed to load', async () => {
    const { socket } = await openChat();
    await join(socket, { general: { messages: [roomMessage('general', 1, 'bob', '', { files: [PHOTO] })] } });
    const first = screen.getByTestId(`file-thumb-${PHOTO.id}`);
    await act(async () => {
      fireEvent(first, 'error', { nativeEvent: { error: 'HTTP 404' } });
    });
    await waitFor(() => expect(screen.getByTestId(`file-thumb-${PHOTO.id}`)).not.toBe(first), { timeout: 2000 });
  });

  it('reads a private conversation’s pictures with the access token, and uploads with it', async () => {
    const api = fakeApi({
      'GET /api/v1/conversations': [200, { conversations: [conversationJson(DM_BOB, 'bob', 'Bob Builder')] }],
    });
    const { socket } = await openChat({ signedIn: true, api });
    await settle();
    await join(socket, {
      general: {},
      [DM_BOB]: { messages: [roomMessage(DM_BOB, 1, 'bob', '', { files: [PHOTO] })] },
    });
    await press('chat-rooms-toggle');
    await press('conversation-bob');
    await waitFor(() =>
      expect(screen.getByTestId(`file-thumb-${PHOTO.id}`).props.source).toEqual({
        uri: `${SERVER}/api/v1/files/${PHOTO.id}/thumb`,
        headers: { Authorization: 'Bearer access-alice-1' },
      }),
    );
    // No caption: the bubble reads the author and the attachment.
    expect(screen.getByTestId('message-bubble-000000000001').props.accessibilityLabel).toMatch(/^bob, 1 attachment, /);

    await pickFromLibrary();
    const xhr = FakeXhr.made[0];
    expect(xhr.headers.Authorization).toBe('Bearer access-alice-1');
    expect(xhr.fields()).toMatchObject({ room: DM_BOB });
    expect(xhr.fields().username).toBeUndefined();
  });
});
