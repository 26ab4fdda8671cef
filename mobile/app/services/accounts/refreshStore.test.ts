import AsyncStorage from '@react-native-async-storage/async-storage';
import { Platform } from 'react-native';

import { refreshTokenKey } from '../../config/storage';
import { secureStoreMap } from '../../../test/accounts';
import { refreshStoreFor, secureRefreshStore, webRefreshStore } from './refreshStore';

const SERVER = 'https://chat.example.org:8443';

beforeEach(async () => {
  secureStoreMap().clear();
  await AsyncStorage.clear();
});

describe('refresh token stores', () => {
  it('names the key of each server with the characters the keychain accepts', () => {
    expect(refreshTokenKey(SERVER)).toBe('talkrooms.refresh.https___chat.example.org_8443');
    expect(refreshTokenKey(SERVER)).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(refreshTokenKey('http://10.0.0.7:5000')).not.toBe(refreshTokenKey(SERVER));
  });

  it('keeps the token in the secure store on a phone, and forgets it on null', async () => {
    expect(Platform.OS).not.toBe('web');
    const store = refreshStoreFor(SERVER);
    expect(await store.load()).toBeNull();
    await store.save('refresh-1');
    expect(secureStoreMap().get(refreshTokenKey(SERVER))).toBe('refresh-1');
    expect(await AsyncStorage.getItem(refreshTokenKey(SERVER))).toBeNull();
    expect(await store.load()).toBe('refresh-1');
    await store.save(null);
    expect(await store.load()).toBeNull();
  });

  it('treats an unreadable keychain as no session', async () => {
    const SecureStore = jest.requireMock('expo-secure-store') as { getItemAsync: jest.Mock };
    SecureStore.getItemAsync.mockRejectedValueOnce(new Error('User interaction is not allowed'));
    expect(await secureRefreshStore(SERVER).load()).toBeNull();
  });

  it('falls back to the device storage on the web, where there is no keychain', async () => {
    const store = webRefreshStore(SERVER);
    await store.save('refresh-web');
    expect(await AsyncStorage.getItem(refreshTokenKey(SERVER))).toBe('refresh-web');
    expect(secureStoreMap().size).toBe(0);
    expect(await store.load()).toBe('refresh-web');
    await store.save(null);
    expect(await AsyncStorage.getItem(refreshTokenKey(SERVER))).toBeNull();
  });
});
