import AsyncStorage from '@react-native-async-storage/async-storage';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react-native';

import { refreshTokenKey } from '../config/storage';
import { setLanguage } from '../i18n';
import type { LoginScreenProps } from '../navigation/types';
import { AccountClientFactoryContext } from '../services/accounts/AccountContext';
import { fakeAccountClients, fakeApi, secureStoreMap, tokens, type FakeApi } from '../../test/accounts';
import { LoginScreen } from './LoginScreen';

const SERVER = 'http://localhost:5000';
const navigate = jest.fn();

function renderLogin(api: FakeApi) {
  const { factory } = fakeAccountClients(api);
  const props = { navigation: { navigate }, route: { key: 'Login-1', name: 'Login' } } as unknown as LoginScreenProps;
  return render(
    <AccountClientFactoryContext.Provider value={factory}>
      <LoginScreen {...props} />
    </AccountClientFactoryContext.Provider>,
  );
}

/** Let the restore at start (and the rooms request) settle inside act. */
async function settle() {
  await act(async () => {
    for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setTimeout(resolve, 0));
  });
}

async function fillAccountForm(username: string, password: string) {
  fireEvent.changeText(screen.getByTestId('account-username'), username);
  fireEvent.changeText(screen.getByTestId('account-password'), password);
}

beforeEach(async () => {
  await AsyncStorage.clear();
  secureStoreMap().clear();
  navigate.mockReset();
  setLanguage('en');
});

afterAll(() => setLanguage('en'));

describe('LoginScreen, accounts', () => {
  it('logs in, keeps the refresh token in the secure store, and then asks only the room', async () => {
    const api = fakeApi({ 'POST /api/v1/auth/login': [200, tokens('alice')] });
    renderLogin(api);
    await settle();
    // The guest's one step is still there.
    expect(screen.getByTestId('login-username')).toBeTruthy();

    fireEvent.press(screen.getByTestId('login-mode-login'));
    await fillAccountForm(' alice ', 'correct horse battery');
    await act(async () => {
      fireEvent.press(screen.getByTestId('account-submit'));
    });
    await settle();

    expect(api.calls('POST', '/api/v1/auth/login')[0].body).toEqual({ username: 'alice', password: 'correct horse battery' });
    expect(screen.getByTestId('login-account-name')).toHaveTextContent('Signed in as alice');
    expect(screen.queryByTestId('login-username')).toBeNull();
    expect(secureStoreMap().get(refreshTokenKey(SERVER))).toBe('refresh-alice-1');
    // The token never goes to the plain storage on a phone.
    expect(await AsyncStorage.getItem(refreshTokenKey(SERVER))).toBeNull();

    fireEvent.press(screen.getByTestId('suggested-room-tech'));
    fireEvent.press(screen.getByTestId('login-submit'));
    expect(navigate).toHaveBeenCalledWith('Chat', { username: 'alice', room: 'tech', serverUrl: SERVER });
  });

  it('creates an account with the optional e-mail', async () => {
    const api = fakeApi({ 'POST /api/v1/auth/register': [201, tokens('zoe')] });
    renderLogin(api);
    await settle();
    fireEvent.press(screen.getByTestId('login-mode-register'));
    await fillAccountForm('zoe', 'a long enough password');
    fireEvent.changeText(screen.getByTestId('account-email'), 'zoe@example.org');
    await act(async () => {
      fireEvent.press(screen.getByTestId('account-submit'));
    });
    await settle();
    expect(api.calls('POST', '/api/v1/auth/register')[0].body).toEqual({
      username: 'zoe',
      password: 'a long enough password',
      email: 'zoe@example.org',
    });
    expect(screen.getByTestId('login-account-name')).toHaveTextContent('Signed in as zoe');
  });

  it('shows the server’s refusal in its own words', async () => {
    const api = fakeApi({
      'POST /api/v1/auth/login': [401, { error: 'Wrong username or password', code: 'invalid_credentials' }],
    });
    renderLogin(api);
    await settle();
    fireEvent.press(screen.getByTestId('login-mode-login'));
    await fillAccountForm('alice', 'nope nope nope');
    await act(async () => {
      fireEvent.press(screen.getByTestId('account-submit'));
    });
    await settle();
    expect(screen.getByTestId('account-error')).toHaveTextContent('Wrong username or password');
    expect(screen.queryByTestId('login-account')).toBeNull();
    expect(secureStoreMap().size).toBe(0);
  });

  it('says when to try again after too many attempts (Retry-After)', async () => {
    const api = fakeApi({
      'POST /api/v1/auth/login': [429, { error: 'Too many attempts', code: 'rate_limited' }, { 'Retry-After': '42' }],
    });
    renderLogin(api);
    await settle();
    fireEvent.press(screen.getByTestId('login-mode-login'));
    await fillAccountForm('alice', 'whatever it is');
    await act(async () => {
      fireEvent.press(screen.getByTestId('account-submit'));
    });
    await settle();
    expect(screen.getByTestId('account-error')).toHaveTextContent('Too many attempts: try again in 42 seconds.');
  });

  it('translates a refusal in French', async () => {
    setLanguage('fr');
    const api = fakeApi({
      'POST /api/v1/auth/register': [409, { error: 'That username is taken', code: 'username_taken' }],
    });
    renderLogin(api);
    await settle();
    fireEvent.press(screen.getByTestId('login-mode-register'));
    expect(screen.getByTestId('account-submit')).toHaveTextContent('Créer le compte');
    await fillAccountForm('alice', 'a long enough password');
    await act(async () => {
      fireEvent.press(screen.getByTestId('account-submit'));
    });
    await settle();
    expect(screen.getByTestId('account-error')).toHaveTextContent("Ce nom d'utilisateur est déjà pris.");
  });

  it('says when the server cannot be reached', async () => {
    const api = fakeApi();
    api.fetch.mockImplementation(async (url: string) => {
      if (url.endsWith('/api/rooms')) return { ok: true, status: 200, json: async () => ({ rooms: [], count: 0 }) } as unknown as Response;
      throw new TypeError('Network request failed');
    });
    renderLogin(api);
    await settle();
    fireEvent.press(screen.getByTestId('login-mode-login'));
    await fillAccountForm('alice', 'whatever it is');
    await act(async () => {
      fireEvent.press(screen.getByTestId('account-submit'));
    });
    await settle();
    expect(screen.getByTestId('account-error')).toHaveTextContent(
      'Cannot reach the server. Check the address and your connection.',
    );
  });

  it('asks for a name and a password before asking the server', async () => {
    const api = fakeApi();
    renderLogin(api);
    await settle();
    fireEvent.press(screen.getByTestId('login-mode-login'));
    fireEvent.press(screen.getByTestId('account-submit'));
    expect(screen.getByTestId('account-error')).toHaveTextContent('Enter your username and password.');
    expect(api.calls('POST', '/api/v1/auth/login')).toHaveLength(0);
    // Back to the guest join, unchanged.
    fireEvent.press(screen.getByTestId('account-cancel'));
    expect(screen.getByTestId('login-username')).toBeTruthy();
  });

  it('stays signed in across a restart: the stored refresh token is exchanged at start', async () => {
    secureStoreMap().set(refreshTokenKey(SERVER), 'refresh-alice-1');
    const api = fakeApi({ 'POST /api/v1/auth/refresh': [200, tokens('alice', 2)] });
    renderLogin(api);
    await waitFor(() => expect(screen.getByTestId('login-account-name')).toHaveTextContent('Signed in as alice'));
    expect(api.calls('POST', '/api/v1/auth/refresh')[0].body).toEqual({ refresh_token: 'refresh-alice-1' });
    // Rotated: the new token replaces the old one.
    expect(secureStoreMap().get(refreshTokenKey(SERVER))).toBe('refresh-alice-2');
  });

  it('is a guest when the server refuses the stored token, and forgets it', async () => {
    secureStoreMap().set(refreshTokenKey(SERVER), 'refresh-old');
    const api = fakeApi({ 'POST /api/v1/auth/refresh': [401, { error: 'Session ended', code: 'invalid_token' }] });
    renderLogin(api);
    await waitFor(() => expect(api.calls('POST', '/api/v1/auth/refresh')).toHaveLength(1));
    await settle();
    expect(screen.getByTestId('login-username')).toBeTruthy();
    expect(screen.queryByTestId('login-account')).toBeNull();
    expect(secureStoreMap().has(refreshTokenKey(SERVER))).toBe(false);
  });

  it('keeps an account to its server: another address joins as a guest', async () => {
    secureStoreMap().set(refreshTokenKey(SERVER), 'refresh-alice-1');
    const api = fakeApi({ 'POST /api/v1/auth/refresh': [200, tokens('alice', 2)] });
    renderLogin(api);
    await waitFor(() => expect(screen.getByTestId('login-account')).toBeTruthy());
    fireEvent.changeText(screen.getByTestId('login-server-url'), 'http://10.0.0.9:5000');
    expect(screen.queryByTestId('login-account')).toBeNull();
    fireEvent.changeText(screen.getByTestId('login-username'), 'visitor');
    fireEvent.changeText(screen.getByTestId('login-room'), 'general');
    fireEvent.press(screen.getByTestId('login-submit'));
    expect(navigate).toHaveBeenCalledWith('Chat', { username: 'visitor', room: 'general', serverUrl: 'http://10.0.0.9:5000' });
    await settle();
  });

  it('logs out: the server ends the session and the token is forgotten', async () => {
    secureStoreMap().set(refreshTokenKey(SERVER), 'refresh-alice-1');
    const api = fakeApi({
      'POST /api/v1/auth/refresh': [200, tokens('alice', 2)],
      'POST /api/v1/auth/logout': [200, { ok: true }],
    });
    renderLogin(api);
    await waitFor(() => expect(screen.getByTestId('login-account')).toBeTruthy());
    await act(async () => {
      fireEvent.press(screen.getByTestId('login-logout'));
    });
    await settle();
    expect(api.calls('POST', '/api/v1/auth/logout')[0].body).toEqual({ refresh_token: 'refresh-alice-2' });
    expect(secureStoreMap().has(refreshTokenKey(SERVER))).toBe(false);
    expect(screen.getByTestId('login-username')).toBeTruthy();
    expect(screen.getByTestId('login-mode-login')).toBeTruthy();
  });
});
