/**
 * The server's HTTP side of accounts (/api/v1, docs/security.md) as the app's tests play it:
 * a fake `fetch` answering by "METHOD /path", recording each request, and an AccountClient
 * factory over it (one client per server, as the app's).
 */
import { AccountClient } from '@talkrooms/client';

import type { AccountClientFactory } from '../app/services/accounts/AccountContext';
import { secureRefreshStore } from '../app/services/accounts/refreshStore';

export interface ApiRequest {
  method: string;
  path: string;
  /** The query string's parameters (`?before=9&limit=50`). */
  query: Record<string, string>;
  body: any;
  headers: Record<string, string>;
}

export type ApiAnswer = [status: number, body: unknown, headers?: Record<string, string>];
type Route = ApiAnswer | ((request: ApiRequest) => ApiAnswer);

const ROOMS = { rooms: [], count: 0 };

/** A fake fetch: `routes["POST /api/v1/auth/login"] = [200, {...}]` or a function of the request. */
export function fakeApi(initial: Record<string, Route> = {}) {
  const routes: Record<string, Route> = { 'GET /api/rooms': [200, ROOMS], ...initial };
  const requests: ApiRequest[] = [];
  const fetch = jest.fn(async (url: string, init: RequestInit = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    const parsed = new URL(url);
    const path = parsed.pathname;
    const request: ApiRequest = {
      method,
      path,
      query: Object.fromEntries(parsed.searchParams.entries()),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      headers: (init.headers ?? {}) as Record<string, string>,
    };
    requests.push(request);
    const route = routes[`${method} ${path}`];
    const [status, body, headers = {}]: ApiAnswer = route
      ? typeof route === 'function'
        ? route(request)
        : route
      : [404, { error: 'Not found', code: 'not_found' }];
    return {
      ok: status >= 200 && status < 300,
      status,
      json: async () => body,
      headers: { get: (name: string) => headers[name] ?? headers[name.toLowerCase()] ?? null },
    } as unknown as Response;
  });
  const calls = (method: string, path: string) => requests.filter((r) => r.method === method && r.path === path);
  return { routes, requests, fetch, calls };
}

export type FakeApi = ReturnType<typeof fakeApi>;

/** One AccountClient per server over the fake fetch, its refresh token in the (mocked) secure store. */
export function fakeAccountClients(api: FakeApi) {
  const clients = new Map<string, AccountClient>();
  const factory: AccountClientFactory = (serverUrl) => {
    let client = clients.get(serverUrl);
    if (!client) {
      client = new AccountClient({
        baseUrl: serverUrl,
        fetch: api.fetch as unknown as typeof fetch,
        refreshStore: secureRefreshStore(serverUrl),
      });
      clients.set(serverUrl, client);
    }
    return client;
  };
  return { factory, clients };
}

/** The answer of /auth/login, /auth/register and /auth/refresh for `username`. */
export function tokens(username: string, n = 1, id = 7) {
  return {
    token_type: 'Bearer',
    access_token: `access-${username}-${n}`,
    expires_in: 900,
    refresh_token: `refresh-${username}-${n}`,
    refresh_expires_in: 2592000,
    account: { id, username, email: null, created_at: '2026-12-01T10:00:00Z' },
  };
}

/** A conversation as the server sends it (snake_case). */
export function conversationJson(room: string, username: string, displayName: string, extra: Record<string, unknown> = {}) {
  return {
    room,
    with: { username, display_name: displayName, color: '#45B7D1' },
    created_at: '2026-12-06T09:00:00Z',
    blocked: false,
    can_write: true,
    ...extra,
  };
}

/** The in-memory map that stands in for the keychain (jest.setup.ts). */
export function secureStoreMap(): Map<string, string> {
  return (jest.requireMock('expo-secure-store') as { __store: Map<string, string> }).__store;
}
