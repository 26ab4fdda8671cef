import AsyncStorage from '@react-native-async-storage/async-storage';

import { DEFAULT_SERVER_URL } from './index';
import { STORAGE_KEYS, loadOrCreateClientKey, loadServerUrl, saveServerUrl } from './storage';

beforeEach(async () => {
  await AsyncStorage.clear();
});

describe('device storage', () => {
  it('makes the client_key once and then keeps it', async () => {
    const make = jest.fn(() => 'k'.repeat(32));
    const first = await loadOrCreateClientKey(make);
    const second = await loadOrCreateClientKey(make);
    expect(first).toBe('k'.repeat(32));
    expect(second).toBe(first);
    expect(make).toHaveBeenCalledTimes(1);
    expect(await AsyncStorage.getItem(STORAGE_KEYS.clientKey)).toBe(first);
  });

  it('replaces a stored key the server would refuse', async () => {
    await AsyncStorage.setItem(STORAGE_KEYS.clientKey, 'short');
    expect(await loadOrCreateClientKey(() => 'n'.repeat(32))).toBe('n'.repeat(32));
  });

  it('remembers the server URL, defaulting to the configured one', async () => {
    expect(DEFAULT_SERVER_URL).toBe('http://localhost:5000');
    expect(await loadServerUrl()).toBe(DEFAULT_SERVER_URL);
    await saveServerUrl('http://10.1.2.3:5000');
    expect(await loadServerUrl()).toBe('http://10.1.2.3:5000');
  });
});
