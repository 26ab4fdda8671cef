/**
 * Notifications over HTTP (docs/notifications.md, "The API"): the VAPID key to subscribe
 * with, this device's Web Push subscription, and each room's level and mute. No UI; `fetch`
 * is injected like ModerationClient's, the account's tokens through a TokenSource.
 */

import { ApiError, apiRequest } from './accounts.js';
import type { TokenSource } from './moderation.js';

/** Which messages of a room notify: every one, those naming me, none. */
export type NotifyLevel = 'all' | 'mentions' | 'none';
export const NOTIFY_LEVELS: ReadonlyArray<NotifyLevel> = ['all', 'mentions', 'none'];

/** One room's or conversation's setting; `mutedUntil` an ISO time, or null. */
export interface RoomNotifySetting {
  room: string;
  level: NotifyLevel;
  mutedUntil: string | null;
}

/** A Web Push subscription as `PushSubscription.toJSON()` gives it. */
export interface WebPushSubscriptionJSON {
  endpoint?: string;
  expirationTime?: number | null;
  keys?: Record<string, string>;
}

export interface NotificationsClientOptions {
  /** The server; `''` for the page's own origin (the web UI). */
  baseUrl: string;
  tokens: TokenSource;
  fetch?: typeof fetch;
}

type Json = Record<string, any>;

function settingOf(raw: Json): RoomNotifySetting {
  const level = NOTIFY_LEVELS.includes(raw.level) ? (raw.level as NotifyLevel) : 'mentions';
  return {
    room: String(raw.room ?? ''),
    level,
    mutedUntil: typeof raw.muted_until === 'string' && raw.muted_until ? raw.muted_until : null,
  };
}

/** The notification routes of `/api/v1` for a signed-in account. */
export class NotificationsClient {
  private readonly baseUrl: string;
  private readonly fetcher: typeof fetch;
  private readonly tokens: TokenSource;

  constructor(options: NotificationsClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const fetcher = options.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch;
    if (!fetcher) throw new Error('NotificationsClient needs fetch (pass the `fetch` option)');
    // A bare `fetch` called as a method of another object throws "Illegal invocation".
    this.fetcher = options.fetch ? fetcher : fetcher.bind(globalThis);
    this.tokens = options.tokens;
  }

  /** The VAPID application server key (base64url) for `pushManager.subscribe`; anyone may ask. */
  async key(): Promise<string> {
    const answer = await apiRequest(this.fetcher, this.baseUrl, 'GET', '/push/key');
    if (typeof answer.public_key !== 'string' || !answer.public_key) throw new ApiError(502, 'invalid_answer', 'The server sent no key');
    return answer.public_key;
  }

  /** Register this browser's subscription for the account; resolves to the device's id. */
  async addWebPushDevice(subscription: WebPushSubscriptionJSON, label?: string): Promise<number> {
    const body: Json = { kind: 'webpush', subscription };
    if (label) body.label = label;
    const answer = await this.authed('POST', '/push/devices', body);
    return Number(answer.id);
  }

  /** Forget a device (log-out); one already gone (404) counts as done. */
  async removeDevice(id: number): Promise<void> {
    try {
      await this.authed('DELETE', `/push/devices/${encodeURIComponent(String(id))}`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
    }
  }

  /** The rooms and conversations whose setting is not the default. */
  async settings(): Promise<RoomNotifySetting[]> {
    const answer = await this.authed('GET', '/notifications');
    return Array.isArray(answer.rooms) ? answer.rooms.filter((r: unknown) => r && typeof r === 'object').map(settingOf) : [];
  }

  /** Set a room's level and/or mute it for `muteMinutes` (0 lifts the mute). */
  async setRoom(room: string, change: { level?: NotifyLevel; muteMinutes?: number }): Promise<RoomNotifySetting> {
    const body: Json = {};
    if (change.level !== undefined) body.level = change.level;
    if (change.muteMinutes !== undefined) body.mute_minutes = Math.max(0, Math.round(change.muteMinutes));
    const answer = await this.authed('PUT', `/notifications/${encodeURIComponent(room)}`, body);
    return settingOf({ room, ...answer });
  }

  private async authed(method: string, path: string, body?: Json): Promise<Json> {
    const token = await this.tokens.accessToken();
    if (!token) throw new ApiError(401, 'unauthenticated', 'Log in first');
    try {
      return await apiRequest(this.fetcher, this.baseUrl, method, path, { body, token });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || !this.tokens.refreshNow) throw error;
      const fresh = await this.tokens.refreshNow();
      if (!fresh) throw error;
      return apiRequest(this.fetcher, this.baseUrl, method, path, { body, token: fresh });
    }
  }
}
