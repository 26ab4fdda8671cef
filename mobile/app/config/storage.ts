import AsyncStorage from '@react-native-async-storage/async-storage';

import { makeClientKey, CLIENT_KEY_PATTERN } from '../services/socket/ids';
import { DEFAULT_SERVER_URL } from './index';

/** Every AsyncStorage key the app uses. */
export const STORAGE_KEYS = {
  serverUrl: 'talkrooms.serverUrl',
  clientKey: 'talkrooms.clientKey',
  username: 'talkrooms.username',
} as const;

/** The server URL the user last used on this device, else the configured default. */
export async function loadServerUrl(): Promise<string> {
  try {
    return (await AsyncStorage.getItem(STORAGE_KEYS.serverUrl)) || DEFAULT_SERVER_URL;
  } catch {
    return DEFAULT_SERVER_URL;
  }
}

export async function saveServerUrl(url: string): Promise<void> {
  await AsyncStorage.setItem(STORAGE_KEYS.serverUrl, url);
}

export async function loadUsername(): Promise<string> {
  try {
    return (await AsyncStorage.getItem(STORAGE_KEYS.username)) || '';
  } catch {
    return '';
  }
}

export async function saveUsername(username: string): Promise<void> {
  await AsyncStorage.setItem(STORAGE_KEYS.username, username);
}

/**
 * The device's client_key, made once and kept: with it the server knows two tabs or
 * devices with the same name are one person rather than a name clash.
 */
export async function loadOrCreateClientKey(make: () => string = makeClientKey): Promise<string> {
  try {
    const stored = await AsyncStorage.getItem(STORAGE_KEYS.clientKey);
    if (stored && CLIENT_KEY_PATTERN.test(stored)) return stored;
  } catch {
    // Storage unreadable: fall through and use a fresh key for this session.
  }
  const key = make();
  try {
    await AsyncStorage.setItem(STORAGE_KEYS.clientKey, key);
  } catch {
    // Not fatal: the key still works for this session.
  }
  return key;
}
