/**
 * Accounts over HTTP (docs/security.md, /api/v1): sign up, log in, stay signed in, log out;
 * profiles, private conversations and blocks. No UI; `fetch` is injected like `io`.
 *
 * Two ways to keep the refresh token (it rotates on every use, and presenting a rotated one
 * ends the whole session, so only one refresh may be in flight):
 * - cookie mode (no `refreshStore`, the web UI): the server sets it as an httpOnly cookie and
 *   never shows it to JavaScript; requests carry `credentials: 'same-origin'` and `cookie: true`;
 *   refreshes of several tabs are serialised with the Web Locks API when the browser has it;
 * - store mode (`refreshStore`, the app: expo-secure-store): the token is saved on every
 *   rotation and cleared when the server refuses it or on logout.
 * The access token lives in memory only and is refreshed when less than 30 s remain.
 */

import { PATTERNS } from './generated/protocol.js';

/** Where the refresh token is kept between launches (the app); absent on the web (cookie). */
export interface RefreshStore {
  load(): Promise<string | null>;
  save(refreshToken: string | null): Promise<void>;
}

/** The signed-in account (`null` in AccountClient.account: a guest). */
export interface AccountInfo {
  id: number;
  username: string;
  email: string | null;
  createdAt: string;
}

/** A profile: `email` only in one's own. */
export interface Profile {
  username: string;
  displayName: string;
  bio: string;
  /** One of AVATAR_COLORS. */
  color: string;
  createdAt: string;
  email?: string | null;
}

/** A private conversation (a `dm:…` room) as the signed-in member sees it. */
export interface Conversation {
  room: string;
  with: { username: string; displayName: string; color: string };
  createdAt: string;
  /** I blocked them. */
  blocked: boolean;
  /** False when either blocked the other. */
  canWrite: boolean;
}

/** Someone I blocked. */
export interface BlockedAccount {
  username: string;
  displayName: string;
  color: string;
  since: string;
}

/** What a profile edit may change; `null` puts a field back to its default. */
export interface ProfilePatch {
  displayName?: string | null;
  bio?: string | null;
  color?: string | null;
}

/**
 * A refusal of the server (`{error, code}` with a 4xx/5xx status): `message` is the
 * server's text, to show. Status 0 with code `network_error`: the server could not be reached.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Seconds to wait (429 rate_limited: the Retry-After header). */
  readonly retryAfter?: number;
  /** Which fields were at fault (400 invalid_request). */
  readonly details?: Array<{ field: string; message: string }>;

  constructor(status: number, code: string, message: string, retryAfter?: number, details?: Array<{ field: string; message: string }>) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
    if (details !== undefined) this.details = details;
  }
}

/** Runs `task` while holding the named lock (one refresh at a time across tabs). */
export type LockRunner = <T>(name: string, task: () => Promise<T>) => Promise<T>;

export interface AccountClientOptions {
  /** The server (`https://chat.example.org`); `''` for the page's own origin (the web UI). */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Store mode (the app). Without it: cookie mode (the web UI). */
  refreshStore?: RefreshStore;
  now?: () => number;
  /** Serialises refreshes; cookie mode uses `navigator.locks` when the browser has it. */
  lock?: LockRunner;
}

/** A refresh this close to the access token's expiry (ms) happens before the request. */
const REFRESH_MARGIN_MS = 30_000;
const LOCK_NAME = 'talkrooms-refresh';

// From the generated facts: the server's own rule for the ids it draws.
const PRIVATE_ROOM: RegExp = PATTERNS.privateRoom;

/** A private conversation's room id (`dm:` and 20 characters a-z 0-9). */
export function isPrivateRoom(room: string): boolean {
  return typeof room === 'string' && PRIVATE_ROOM.test(room);
}

type Json = Record<string, any>;

interface TokenAnswer {
  access_token: string;
  expires_in: number;
  refresh_token?: string | null;
  account: Json;
}

function accountOf(raw: Json): AccountInfo {
  return { id: Number(raw.id), username: String(raw.username), email: raw.email ?? null, createdAt: String(raw.created_at ?? '') };
}

function profileOf(raw: Json): Profile {
  const profile: Profile = {
    username: String(raw.username),
    displayName: String(raw.display_name ?? raw.username),
    bio: String(raw.bio ?? ''),
    color: String(raw.color ?? ''),
    createdAt: String(raw.created_at ?? ''),
  };
  if ('email' in raw) profile.email = raw.email ?? null;
  return profile;
}

/** A conversation as the server sends it (`{room, with: {display_name, …}, can_write, …}`), or null when it is not one. */
export function parseConversation(raw: unknown): Conversation | null {
  if (!raw || typeof raw !== 'object') return null;
  const json = raw as Json;
  if (typeof json.room !== 'string' || !isPrivateRoom(json.room) || !json.with || typeof json.with.username !== 'string') return null;
  return conversationOf(json);
}

function conversationOf(raw: Json): Conversation {
  const other: Json = raw.with ?? {};
  return {
    room: String(raw.room),
    with: { username: String(other.username), displayName: String(other.display_name ?? other.username), color: String(other.color ?? '') },
    createdAt: String(raw.created_at ?? ''),
    blocked: raw.blocked === true,
    canWrite: raw.can_write !== false,
  };
}

function defaultLock(): LockRunner | undefined {
  const locks = (globalThis as { navigator?: { locks?: { request: (name: string, task: () => Promise<unknown>) => Promise<unknown> } } }).navigator
    ?.locks;
  if (!locks || typeof locks.request !== 'function') return undefined;
  return <T>(name: string, task: () => Promise<T>) => locks.request(name, task) as Promise<T>;
}

export class AccountClient {
  private readonly baseUrl: string;
  private readonly fetcher: typeof fetch;
  private readonly store: RefreshStore | undefined;
  private readonly now: () => number;
  private readonly lock: LockRunner | undefined;
  private readonly listeners = new Set<(account: AccountInfo | null) => void>();
  private current: AccountInfo | null = null;
  private token: string | null = null;
  private expiresAt = 0;
  private refreshing: Promise<string | null> | null = null;

  constructor(options: AccountClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const fetcher = options.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch;
    if (!fetcher) throw new Error('AccountClient needs fetch (pass the `fetch` option)');
    // A bare `fetch` called as a method of another object throws "Illegal invocation".
    this.fetcher = options.fetch ? fetcher : fetcher.bind(globalThis);
    this.store = options.refreshStore;
    this.now = options.now ?? (() => Date.now());
    this.lock = options.lock ?? (this.store ? undefined : defaultLock());
  }

  /** The signed-in account; null for a guest. */
  get account(): AccountInfo | null {
    return this.current;
  }

  /** Called whenever the account changes (signed in, out, or the session ended). */
  onChange(listener: (account: AccountInfo | null) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // ---- Signing in and out ----------------------------------------------------------

  /** Create an account and sign in with it (400 invalid_*, 409 username_taken, 429). */
  async register(username: string, password: string, email?: string): Promise<AccountInfo> {
    const body: Json = { username, password };
    if (email) body.email = email;
    return this.signIn(await this.call('POST', '/auth/register', this.withMode(body)));
  }

  /** Sign in (401 invalid_credentials, 429 rate_limited with retryAfter). */
  async login(username: string, password: string): Promise<AccountInfo> {
    return this.signIn(await this.call('POST', '/auth/login', this.withMode({ username, password })));
  }

  /**
   * At start: sign in again from the cookie or the stored refresh token. Null: a guest
   * (no session, or the server ended it). Rejects (ApiError) when the server could not
   * answer; the stored token is kept then.
   */
  async restore(): Promise<AccountInfo | null> {
    if (this.store && !(await this.store.load())) return null;
    await this.refreshNow();
    return this.current;
  }

  /** A valid access token (refreshed first when less than 30 s remain); null for a guest. */
  async accessToken(): Promise<string | null> {
    if (!this.current) return null;
    if (this.token && this.expiresAt - this.now() > REFRESH_MARGIN_MS) return this.token;
    return this.refreshNow();
  }

  /**
   * Trade the refresh token for a new pair now (after a `token_expired`): concurrent callers
   * share one request. Null: signed out (the server refused the refresh token). Rejects
   * (ApiError) when the server could not answer, and nothing changes then.
   */
  refreshNow(): Promise<string | null> {
    if (!this.refreshing) {
      const run = () => this.refresh();
      const task = this.lock ? this.lock(LOCK_NAME, run) : run();
      this.refreshing = task.finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  /** Sign out: the server ends this session (and clears the cookie); never rejects. */
  async logout(): Promise<void> {
    try {
      const body: Json = this.store ? { refresh_token: await this.store.load() } : { cookie: true };
      if (this.store && !body.refresh_token) delete body.refresh_token;
      await this.call('POST', '/auth/logout', body);
    } catch {
      // Signed out here whatever the server said: the token is forgotten below.
    }
    await this.signOut();
  }

  // ---- Profiles --------------------------------------------------------------------

  /** One's own profile (with the e-mail). */
  async profile(): Promise<Profile> {
    return profileOf(await this.authed('GET', '/profile'));
  }

  /** Change one's profile (400 invalid_display_name / invalid_bio / invalid_color). */
  async updateProfile(patch: ProfilePatch): Promise<Profile> {
    const body: Json = {};
    if (patch.displayName !== undefined) body.display_name = patch.displayName;
    if (patch.bio !== undefined) body.bio = patch.bio;
    if (patch.color !== undefined) body.color = patch.color;
    return profileOf(await this.authed('PATCH', '/profile', body));
  }

  /** Anyone's public profile (404 not_found: no such account, e.g. a guest). */
  async publicProfile(username: string): Promise<Profile> {
    return profileOf(await this.call('GET', `/profiles/${encodeURIComponent(username)}`));
  }

  // ---- Private conversations and blocks --------------------------------------------

  /** My conversations, newest first. */
  async conversations(): Promise<Conversation[]> {
    const answer = await this.authed('GET', '/conversations');
    return Array.isArray(answer.conversations) ? answer.conversations.map(conversationOf) : [];
  }

  /** Open (or find) the conversation with `username` (404 not_found, 400 yourself, 403 blocked). */
  async openConversation(username: string): Promise<Conversation> {
    return conversationOf(await this.authed('POST', '/conversations', { username }));
  }

  /** One conversation (404 not_found when I am not in it). */
  async conversation(room: string): Promise<Conversation> {
    return conversationOf(await this.authed('GET', `/conversations/${encodeURIComponent(room)}`));
  }

  /** The accounts I blocked. */
  async blocks(): Promise<BlockedAccount[]> {
    const answer = await this.authed('GET', '/blocks');
    const list: Json[] = Array.isArray(answer.blocked) ? answer.blocked : [];
    return list.map((raw) => ({
      username: String(raw.username),
      displayName: String(raw.display_name ?? raw.username),
      color: String(raw.color ?? ''),
      since: String(raw.since ?? ''),
    }));
  }

  /** Block `username`: neither can write to the other any more. */
  async block(username: string): Promise<void> {
    await this.authed('PUT', `/blocks/${encodeURIComponent(username)}`);
  }

  async unblock(username: string): Promise<void> {
    await this.authed('DELETE', `/blocks/${encodeURIComponent(username)}`);
  }

  // ---- Tokens ----------------------------------------------------------------------

  private withMode(body: Json): Json {
    return this.store ? body : { ...body, cookie: true };
  }

  private async refresh(): Promise<string | null> {
    let body: Json;
    if (this.store) {
      const refreshToken = await this.store.load();
      if (!refreshToken) {
        await this.signOut();
        return null;
      }
      body = { refresh_token: refreshToken };
    } else {
      body = { cookie: true };
    }
    try {
      await this.signIn(await this.call('POST', '/auth/refresh', body));
    } catch (error) {
      // The refresh token is gone, rotated or revoked: a guest now. Anything else
      // (network, 5xx, 429) says nothing about the session: keep it and reject.
      if (error instanceof ApiError && (error.status === 400 || error.status === 401 || error.status === 403)) {
        await this.signOut();
        return null;
      }
      throw error;
    }
    return this.token;
  }

  private async signIn(answer: Json): Promise<AccountInfo> {
    const tokens = answer as TokenAnswer;
    if (typeof tokens.access_token !== 'string' || !tokens.account) throw new ApiError(502, 'unavailable', 'The server sent no token');
    if (this.store && typeof tokens.refresh_token === 'string') await this.store.save(tokens.refresh_token);
    this.token = tokens.access_token;
    this.expiresAt = this.now() + Number(tokens.expires_in ?? 0) * 1000;
    this.setAccount(accountOf(tokens.account));
    return this.current as AccountInfo;
  }

  private async signOut(): Promise<void> {
    this.token = null;
    this.expiresAt = 0;
    if (this.store) await this.store.save(null);
    this.setAccount(null);
  }

  private setAccount(account: AccountInfo | null): void {
    const before = this.current;
    this.current = account;
    const same = before === account || (before !== null && account !== null && before.id === account.id && before.username === account.username && before.email === account.email);
    if (same) return;
    for (const listener of [...this.listeners]) listener(account);
  }

  // ---- HTTP ------------------------------------------------------------------------

  /** A request with the access token; a 401 refreshes once and tries again. */
  private async authed(method: string, path: string, body?: Json): Promise<Json> {
    const token = await this.accessToken();
    if (!token) throw new ApiError(401, 'unauthenticated', 'Log in first');
    try {
      return await this.call(method, path, body, token);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      const fresh = await this.refreshNow();
      if (!fresh) throw error;
      return this.call(method, path, body, fresh);
    }
  }

  private call(method: string, path: string, body?: Json, token?: string): Promise<Json> {
    // Cookie mode (the web): the refresh cookie goes with the auth routes.
    const credentials = this.store ? undefined : 'same-origin';
    return apiRequest(this.fetcher, this.baseUrl, method, path, { body, token, credentials });
  }

}

/**
 * One call of the versioned API (`/api/v1`): JSON in and out, the Bearer token when given.
 * A refusal rejects with ApiError (the server's status, code, text, Retry-After and
 * details); no answer at all with status 0, code `network_error`.
 */
export async function apiRequest(
  fetcher: typeof fetch,
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: Json; token?: string | null; credentials?: RequestCredentials } = {},
): Promise<Json> {
  const { body, token, credentials } = options;
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (credentials) init.credentials = credentials;
  let response: Response;
  try {
    response = await fetcher(`${baseUrl}/api/v1${path}`, init);
  } catch {
    throw new ApiError(0, 'network_error', 'Could not reach the server');
  }
  let answer: unknown = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  const json: Json = answer && typeof answer === 'object' ? (answer as Json) : {};
  if (response.ok) return json;
  const header = response.headers?.get?.('Retry-After');
  const retryAfter = header != null && header !== '' && Number.isFinite(Number(header)) ? Number(header) : undefined;
  const message = typeof json.error === 'string' ? json.error : `The server answered ${response.status}`;
  const code = typeof json.code === 'string' ? json.code : response.status >= 500 ? 'unavailable' : 'http_error';
  throw new ApiError(response.status, code, message, retryAfter, Array.isArray(json.details) ? json.details : undefined);
}
