import { AccountClient, ApiError, isPrivateRoom, type RefreshStore } from '../../src/index.js';

// A fake server: each request is recorded and answered by the test's handler.
interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: any;
  credentials?: string;
}

type Handler = (call: Call) => { status: number; body?: unknown; headers?: Record<string, string> } | Promise<{ status: number; body?: unknown; headers?: Record<string, string> }>;

function fakeFetch(handler: Handler) {
  const calls: Call[] = [];
  const fetchFn = (async (url: string, init: RequestInit = {}) => {
    const call: Call = {
      url,
      method: init.method ?? 'GET',
      headers: (init.headers as Record<string, string>) ?? {},
      body: init.body ? JSON.parse(String(init.body)) : undefined,
      credentials: init.credentials,
    };
    calls.push(call);
    const answer = await handler(call);
    const headers = answer.headers ?? {};
    return {
      ok: answer.status >= 200 && answer.status < 300,
      status: answer.status,
      headers: { get: (name: string) => headers[name] ?? null },
      json: async () => {
        if (answer.body === undefined) throw new SyntaxError('no body');
        return answer.body;
      },
    } as unknown as Response;
  }) as unknown as typeof fetch;
  return { fetch: fetchFn, calls };
}

const ACCOUNT = { id: 7, username: 'alice', email: null, created_at: '2026-12-06T10:00:00Z' };
let issued = 0;
function tokens(refresh: string | null = null, expiresIn = 900) {
  issued += 1;
  return { token_type: 'Bearer', access_token: `access-${issued}`, expires_in: expiresIn, refresh_token: refresh, refresh_expires_in: 86400, account: ACCOUNT };
}

class MemoryStore implements RefreshStore {
  constructor(public value: string | null = null) {}
  saves: Array<string | null> = [];
  async load() {
    return this.value;
  }
  async save(token: string | null) {
    this.value = token;
    this.saves.push(token);
  }
}

const path = (call: Call) => call.url.replace('http://chat.test/api/v1', '');

describe('AccountClient in cookie mode (the web UI)', () => {
  it('signs up with cookie: true and same-origin credentials, and keeps only the access token', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 201, body: tokens(null) }));
    const changes: unknown[] = [];
    const client = new AccountClient({ baseUrl: 'http://chat.test/', fetch });
    client.onChange((a) => changes.push(a?.username ?? null));
    const account = await client.register('alice', 'correct horse battery', 'a@example.org');
    expect(account).toEqual({ id: 7, username: 'alice', email: null, createdAt: '2026-12-06T10:00:00Z' });
    expect(path(calls[0])).toBe('/auth/register');
    expect(calls[0].body).toEqual({ username: 'alice', password: 'correct horse battery', email: 'a@example.org', cookie: true });
    expect(calls[0].credentials).toBe('same-origin');
    expect(calls[0].headers['Content-Type']).toBe('application/json');
    expect(client.account?.username).toBe('alice');
    expect(await client.accessToken()).toMatch(/^access-/);
    expect(calls).toHaveLength(1);
    expect(changes).toEqual(['alice']);
  });

  it('restores a session from the cookie at page load, and a 401 means a guest', async () => {
    let signedIn = true;
    const { fetch, calls } = fakeFetch(() => (signedIn ? { status: 200, body: tokens(null) } : { status: 401, body: { error: 'No session', code: 'invalid_refresh_token' } }));
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch });
    expect((await client.restore())?.username).toBe('alice');
    expect(calls[0].body).toEqual({ cookie: true });
    expect(path(calls[0])).toBe('/auth/refresh');
    signedIn = false;
    const guest = new AccountClient({ baseUrl: 'http://chat.test', fetch });
    expect(await guest.restore()).toBeNull();
    expect(guest.account).toBeNull();
    expect(await guest.accessToken()).toBeNull();
  });

  it('refreshes the access token when less than 30 s remain', async () => {
    let clock = 0;
    const { fetch, calls } = fakeFetch((call) => ({ status: 200, body: path(call) === '/auth/login' ? tokens(null, 60) : tokens(null, 900) }));
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch, now: () => clock });
    await client.login('alice', 'pw');
    const first = await client.accessToken();
    clock = 29_000;
    expect(await client.accessToken()).toBe(first);
    clock = 31_000;
    const second = await client.accessToken();
    expect(second).not.toBe(first);
    expect(calls.map(path)).toEqual(['/auth/login', '/auth/refresh']);
  });

  it('shares one refresh between concurrent callers (a rotated token presented twice ends the session)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { fetch, calls } = fakeFetch(async (call) => {
      if (path(call) === '/auth/refresh') await gate;
      return { status: 200, body: tokens(null) };
    });
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch });
    await client.login('alice', 'pw');
    const a = client.refreshNow();
    const b = client.refreshNow();
    release();
    const [ta, tb] = await Promise.all([a, b]);
    expect(ta).toBe(tb);
    expect(calls.filter((c) => path(c) === '/auth/refresh')).toHaveLength(1);
  });

  it('runs refreshes inside the lock it was given (tabs take turns)', async () => {
    const names: string[] = [];
    const { fetch } = fakeFetch(() => ({ status: 200, body: tokens(null) }));
    const client = new AccountClient({
      baseUrl: 'http://chat.test',
      fetch,
      lock: async (name, task) => {
        names.push(name);
        return task();
      },
    });
    await client.restore();
    expect(names).toEqual(['talkrooms-refresh']);
  });

  it('signs out when the server refuses the refresh token, and tells its listeners', async () => {
    let refusing = false;
    const { fetch } = fakeFetch((call) =>
      path(call) === '/auth/refresh' && refusing ? { status: 401, body: { error: 'The session expired; log in again', code: 'refresh_token_expired' } } : { status: 200, body: tokens(null) },
    );
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch });
    const changes: unknown[] = [];
    client.onChange((a) => changes.push(a?.username ?? null));
    await client.login('alice', 'pw');
    refusing = true;
    expect(await client.refreshNow()).toBeNull();
    expect(client.account).toBeNull();
    expect(changes).toEqual(['alice', null]);
  });

  it('keeps the session when the server cannot be reached during a refresh', async () => {
    let down = false;
    const { fetch } = fakeFetch((call) => {
      if (down && path(call) === '/auth/refresh') throw new TypeError('Failed to fetch');
      return { status: 200, body: tokens(null) };
    });
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch });
    await client.login('alice', 'pw');
    down = true;
    await expect(client.refreshNow()).rejects.toMatchObject({ status: 0, code: 'network_error' });
    expect(client.account?.username).toBe('alice');
  });

  it('turns refusals into ApiError with the server text, code and Retry-After', async () => {
    const { fetch } = fakeFetch(() => ({ status: 429, body: { error: 'Too many attempts; try again in 42 s', code: 'rate_limited' }, headers: { 'Retry-After': '42' } }));
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch });
    const error = await client.login('alice', 'pw').catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limited', retryAfter: 42, message: 'Too many attempts; try again in 42 s' });
    expect(client.account).toBeNull();
  });

  it('gives a non-JSON error page a code anyway', async () => {
    const { fetch } = fakeFetch(() => ({ status: 502 }));
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch });
    await expect(client.publicProfile('bob')).rejects.toMatchObject({ status: 502, code: 'unavailable' });
  });

  it('logs out with the cookie and forgets the token even when the server fails', async () => {
    let fail = false;
    const { fetch, calls } = fakeFetch((call) => (path(call) === '/auth/logout' && fail ? { status: 503, body: { error: 'down', code: 'unavailable' } } : { status: 200, body: path(call) === '/auth/logout' ? { ok: true } : tokens(null) }));
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch });
    await client.login('alice', 'pw');
    await client.logout();
    expect(calls[1].body).toEqual({ cookie: true });
    expect(calls[1].credentials).toBe('same-origin');
    expect(client.account).toBeNull();
    await client.login('alice', 'pw');
    fail = true;
    await client.logout();
    expect(client.account).toBeNull();
    expect(await client.accessToken()).toBeNull();
  });
});

describe('AccountClient in store mode (the app)', () => {
  it('saves the refresh token on every rotation and sends it to refresh', async () => {
    let n = 0;
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: tokens(`refresh-${++n}`) }));
    const store = new MemoryStore();
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch, refreshStore: store });
    await client.login('alice', 'pw');
    expect(calls[0].body).toEqual({ username: 'alice', password: 'pw' });
    expect(calls[0].credentials).toBeUndefined();
    expect(store.value).toBe('refresh-1');
    await client.refreshNow();
    expect(calls[1].body).toEqual({ refresh_token: 'refresh-1' });
    expect(store.saves).toEqual(['refresh-1', 'refresh-2']);
  });

  it('restores nothing without a stored token, and signs in again with one', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: tokens('refresh-next') }));
    const empty = new AccountClient({ baseUrl: 'http://chat.test', fetch, refreshStore: new MemoryStore() });
    expect(await empty.restore()).toBeNull();
    expect(calls).toHaveLength(0);
    const store = new MemoryStore('refresh-old');
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch, refreshStore: store });
    expect((await client.restore())?.username).toBe('alice');
    expect(calls[0].body).toEqual({ refresh_token: 'refresh-old' });
    expect(store.value).toBe('refresh-next');
  });

  it('clears the stored token when the server refuses it, and keeps it when the server is down', async () => {
    let status = 503;
    const { fetch } = fakeFetch(() => ({ status, body: { error: 'no', code: status === 401 ? 'invalid_refresh_token' : 'unavailable' } }));
    const store = new MemoryStore('refresh-old');
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch, refreshStore: store });
    await expect(client.restore()).rejects.toMatchObject({ status: 503 });
    expect(store.value).toBe('refresh-old');
    status = 401;
    expect(await client.restore()).toBeNull();
    expect(store.value).toBeNull();
  });

  it('logs out with the stored token and clears it', async () => {
    const { fetch, calls } = fakeFetch((call) => ({ status: 200, body: path(call) === '/auth/logout' ? { ok: true } : tokens('refresh-1') }));
    const store = new MemoryStore();
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch, refreshStore: store });
    await client.login('alice', 'pw');
    await client.logout();
    expect(calls[1].body).toEqual({ refresh_token: 'refresh-1' });
    expect(store.value).toBeNull();
    expect(client.account).toBeNull();
  });
});

describe('AccountClient: profiles, conversations and blocks', () => {
  function signedIn(handler: Handler) {
    const fake = fakeFetch((call) => (path(call).startsWith('/auth/') ? { status: 200, body: tokens(null) } : handler(call)));
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch: fake.fetch });
    return { client, calls: fake.calls, ready: client.login('alice', 'pw') };
  }

  it('reads and edits the own profile with the bearer token, in snake_case on the wire', async () => {
    const profile = { username: 'alice', display_name: 'Alice A.', bio: 'hi', color: '#4ECDC4', created_at: '2026-12-06T10:00:00Z', email: null };
    const { client, calls, ready } = signedIn(() => ({ status: 200, body: profile }));
    await ready;
    expect(await client.profile()).toEqual({ username: 'alice', displayName: 'Alice A.', bio: 'hi', color: '#4ECDC4', createdAt: '2026-12-06T10:00:00Z', email: null });
    expect(calls[1].headers.Authorization).toMatch(/^Bearer access-/);
    await client.updateProfile({ displayName: 'Alice A.', color: null });
    expect(calls[2].method).toBe('PATCH');
    expect(calls[2].body).toEqual({ display_name: 'Alice A.', color: null });
  });

  it('reads a public profile without a token, the name escaped in the path', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: { username: 'Zoë B', display_name: 'Zoë', bio: '', color: '#FF6B6B', created_at: 'x' } }));
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch });
    const profile = await client.publicProfile('Zoë B');
    expect(profile.displayName).toBe('Zoë');
    expect(profile.email).toBeUndefined();
    expect(path(calls[0])).toBe('/profiles/Zo%C3%AB%20B');
    expect(calls[0].headers.Authorization).toBeUndefined();
  });

  it('lists, opens and reads conversations', async () => {
    const raw = { room: 'dm:abcdefghij0123456789', with: { username: 'bob', display_name: 'Bobby', color: '#F7B731' }, created_at: 't', blocked: false, can_write: true };
    const { client, calls, ready } = signedIn((call) => ({ status: call.method === 'POST' ? 201 : 200, body: path(call) === '/conversations' && call.method === 'GET' ? { conversations: [raw] } : raw }));
    await ready;
    const expected = { room: raw.room, with: { username: 'bob', displayName: 'Bobby', color: '#F7B731' }, createdAt: 't', blocked: false, canWrite: true };
    expect(await client.conversations()).toEqual([expected]);
    expect(await client.openConversation('bob')).toEqual(expected);
    expect(calls[2].body).toEqual({ username: 'bob' });
    expect(await client.conversation(raw.room)).toEqual(expected);
    expect(path(calls[3])).toBe('/conversations/dm%3Aabcdefghij0123456789');
  });

  it('blocks, unblocks and lists blocks', async () => {
    const { client, calls, ready } = signedIn((call) => ({ status: 200, body: call.method === 'GET' ? { blocked: [{ username: 'bob', display_name: 'Bobby', color: '#F7B731', since: 's' }] } : { ok: true } }));
    await ready;
    await client.block('bob');
    await client.unblock('bob');
    expect(await client.blocks()).toEqual([{ username: 'bob', displayName: 'Bobby', color: '#F7B731', since: 's' }]);
    expect(calls.slice(1).map((c) => `${c.method} ${path(c)}`)).toEqual(['PUT /blocks/bob', 'DELETE /blocks/bob', 'GET /blocks']);
  });

  it('refreshes once and tries again when a request is refused with 401', async () => {
    let first = true;
    const { client, calls, ready } = signedIn(() => {
      if (first) {
        first = false;
        return { status: 401, body: { error: 'expired', code: 'token_expired' } };
      }
      return { status: 200, body: { conversations: [] } };
    });
    await ready;
    expect(await client.conversations()).toEqual([]);
    expect(calls.map((c) => `${c.method} ${path(c)}`)).toEqual(['POST /auth/login', 'GET /conversations', 'POST /auth/refresh', 'GET /conversations']);
    expect(calls[3].headers.Authorization).not.toBe(calls[1].headers.Authorization);
  });

  it('refuses account requests of a guest without asking the server', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: {} }));
    const client = new AccountClient({ baseUrl: 'http://chat.test', fetch });
    await expect(client.openConversation('bob')).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(calls).toHaveLength(0);
  });
});

describe('isPrivateRoom', () => {
  it('knows a conversation room from a public one', () => {
    expect(isPrivateRoom('dm:abcdefghij0123456789')).toBe(true);
    expect(isPrivateRoom('dm:short')).toBe(false);
    expect(isPrivateRoom('general')).toBe(false);
    expect(isPrivateRoom('DM:ABCDEFGHIJ0123456789')).toBe(false);
  });
});
