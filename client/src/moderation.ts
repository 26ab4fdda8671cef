/**
 * Room moderation over HTTP (docs/moderation.md, /api/v1/rooms/<room>/…): who owns and
 * moderates a room, removing messages, kicks, mutes and bans, the sanctions in force, the
 * audit log, the room's settings and pins (room-settings.ts parses them) and the review
 * queue (reported and held messages). No UI; `fetch` is injected like in AccountClient, the Bearer token comes from
 * an AccountClient (or anything with `accessToken()`). Refusals reject with ApiError.
 *
 * The socket side (`moderation` notices to the room, `sanctioned` to the person) is
 * ChatSession's: see `parseSanctionNotice` and the session events of the same names.
 */

import { ApiError, apiRequest } from './accounts.js';
import { parseRoomSettings, settingsPatchBody, type RoomSettings, type RoomSettingsPatch } from './room-settings.js';

/** One's rank in a room: an instance administrator, its owner, a moderator, or nobody special. */
export type Role = 'admin' | 'owner' | 'moderator' | null;

/** A person named in a room's roles. */
export interface RolePerson {
  username: string;
  displayName: string;
}

/** `GET /rooms/<room>/roles`: who may do what in a room. */
export interface RoomRoles {
  room: string;
  /** Null: nobody owns the room (created by a guest). */
  owner: RolePerson | null;
  moderators: RolePerson[];
  /** The signed-in viewer's own rank (null for a guest or a plain member). */
  you: Role;
}

export type SanctionAction = 'kick' | 'mute' | 'ban';
export type NoticeAction = SanctionAction | 'unmute' | 'unban';

/**
 * The `moderation` event (to the room) and the `sanctioned` event (to the person):
 * `until` is an ISO time, null for a kick or a sanction for good.
 */
export interface SanctionNotice {
  room: string;
  action: NoticeAction;
  username: string;
  reason: string;
  until: string | null;
  /** Who acted. */
  by: string;
}

/** A mute or ban in force (`GET /rooms/<room>/sanctions`). */
export interface SanctionEntry {
  id: number;
  action: 'mute' | 'ban';
  username: string;
  /** The person was a guest (banned by client key and address). */
  guest: boolean;
  /** Null: until lifted. */
  until: string | null;
  reason: string;
  at: string;
}

/** One row of the audit log, newest first. */
export interface AuditEntry {
  id: number;
  actor: string;
  /** room_created, moderator_added, moderator_removed, owner_changed, message_removed, kick, mute, ban, unmute, unban. */
  action: string;
  /** A username, or the message id for message_removed. */
  target: string;
  reason: string;
  details: Record<string, unknown>;
  at: string;
}

/** The answer to a sanction (`POST /rooms/<room>/sanctions`). */
export interface SanctionResult {
  /** The sanction's id (null for a kick). */
  sanction: number | null;
  room: string;
  action: SanctionAction;
  username: string;
  reason: string;
  until: string | null;
  by: string;
}

export interface SanctionRequest {
  action: SanctionAction;
  username: string;
  /** Mute: default 10; ban: absent for good. */
  minutes?: number;
  reason?: string;
}

/** One report of a message in the review queue. */
export interface QueueReport {
  by: string;
  reason: string;
  at: string;
}

/**
 * An open item of a room's review queue (`GET /rooms/<room>/queue`): a reported message
 * (one item however many reports) or a message a rule held (`rule`; `message.id` null: it was
 * never stored).
 */
export interface QueueItem {
  id: number;
  kind: 'report' | 'held';
  at: string;
  rule: string | null;
  message: { id: string | null; username: string; message: string; timestamp: string };
  reports: QueueReport[];
}

/** Dismiss or remove a reported message; approve (publish) or reject a held one. */
export type QueueAction = 'dismiss' | 'remove' | 'approve' | 'reject';

/** The `review` event (to the room's staff): how many items wait in its queue. */
export interface ReviewCount {
  room: string;
  open: number;
}

/** Where the Bearer token comes from: an AccountClient fits as it is. */
export interface TokenSource {
  accessToken(): Promise<string | null>;
  /** After a 401: a fresh token (null: signed out). */
  refreshNow?(): Promise<string | null>;
}

export interface ModerationClientOptions {
  /** The server; `''` for the page's own origin (the web UI). */
  baseUrl: string;
  /** The signed-in account's tokens; without one (or signed out) only `roles` answers. */
  tokens?: TokenSource | null;
  fetch?: typeof fetch;
}

type Json = Record<string, any>;

const ROLES: ReadonlyArray<Exclude<Role, null>> = ['admin', 'owner', 'moderator'];
const NOTICE_ACTIONS: ReadonlyArray<NoticeAction> = ['kick', 'mute', 'ban', 'unmute', 'unban'];

/** Whether a role may moderate (remove messages, sanction, read the log). */
export function isStaff(role: Role | undefined): boolean {
  return role === 'admin' || role === 'owner' || role === 'moderator';
}

/** Whether a role may name and un-name moderators. */
export function canNameModerators(role: Role | undefined): boolean {
  return role === 'admin' || role === 'owner';
}

function roleOf(raw: unknown): Role {
  return typeof raw === 'string' && (ROLES as readonly string[]).includes(raw) ? (raw as Role) : null;
}

function personOf(raw: Json): RolePerson {
  return { username: String(raw.username), displayName: String(raw.display_name ?? raw.username) };
}

/** A room's roles as the server sends them. */
export function parseRoles(raw: Json): RoomRoles {
  return {
    room: String(raw.room ?? ''),
    owner: raw.owner && typeof raw.owner === 'object' ? personOf(raw.owner) : null,
    moderators: Array.isArray(raw.moderators) ? raw.moderators.filter((m: unknown) => m && typeof m === 'object').map(personOf) : [],
    you: roleOf(raw.you),
  };
}

/** The role of `username` in `roles` (owner, moderator or null; administrators are not listed). */
export function roleIn(roles: RoomRoles | null | undefined, username: string): Role {
  if (!roles) return null;
  if (roles.owner && roles.owner.username === username) return 'owner';
  if (roles.moderators.some((m) => m.username === username)) return 'moderator';
  return null;
}

/**
 * The `roles` event (to the room, when its owner or moderators change): the same shape as
 * `GET /roles` without `you`, which is worked out from `username` (an administrator is not
 * listed: `you` stays null for one; a UI that knew keeps it).
 */
export function parseRolesEvent(raw: unknown, username: string): RoomRoles | null {
  if (!raw || typeof raw !== 'object' || typeof (raw as Json).room !== 'string') return null;
  const roles = parseRoles(raw as Json);
  return { ...roles, you: roleIn(roles, username) };
}

/** A `review` payload, or null when it is not one. */
export function parseReviewCount(raw: unknown): ReviewCount | null {
  if (!raw || typeof raw !== 'object') return null;
  const json = raw as Json;
  if (typeof json.room !== 'string' || typeof json.open !== 'number' || json.open < 0) return null;
  return { room: json.room, open: Math.floor(json.open) };
}

function queueItemOf(raw: Json): QueueItem {
  const message = raw.message && typeof raw.message === 'object' ? (raw.message as Json) : {};
  return {
    id: Number(raw.id),
    kind: raw.kind === 'held' ? 'held' : 'report',
    at: String(raw.at ?? ''),
    rule: typeof raw.rule === 'string' && raw.rule ? raw.rule : null,
    message: {
      id: typeof message.id === 'string' && message.id ? message.id : null,
      username: String(message.username ?? ''),
      message: String(message.message ?? ''),
      timestamp: String(message.timestamp ?? ''),
    },
    reports: Array.isArray(raw.reports)
      ? raw.reports
          .filter((r: unknown) => r && typeof r === 'object')
          .map((r: Json) => ({ by: String(r.by ?? ''), reason: String(r.reason ?? ''), at: String(r.at ?? '') }))
      : [],
  };
}

/** A `moderation` or `sanctioned` payload, or null when it is not one. */
export function parseSanctionNotice(raw: unknown): SanctionNotice | null {
  if (!raw || typeof raw !== 'object') return null;
  const json = raw as Json;
  if (typeof json.room !== 'string' || typeof json.username !== 'string') return null;
  if (!(NOTICE_ACTIONS as readonly string[]).includes(json.action)) return null;
  return {
    room: json.room,
    action: json.action as NoticeAction,
    username: json.username,
    reason: typeof json.reason === 'string' ? json.reason : '',
    until: typeof json.until === 'string' && json.until ? json.until : null,
    by: typeof json.by === 'string' ? json.by : '',
  };
}

function sanctionEntryOf(raw: Json): SanctionEntry {
  return {
    id: Number(raw.id),
    action: raw.action === 'ban' ? 'ban' : 'mute',
    username: String(raw.username ?? ''),
    guest: raw.guest === true,
    until: typeof raw.until === 'string' && raw.until ? raw.until : null,
    reason: String(raw.reason ?? ''),
    at: String(raw.at ?? ''),
  };
}

function auditEntryOf(raw: Json): AuditEntry {
  return {
    id: Number(raw.id),
    actor: String(raw.actor ?? ''),
    action: String(raw.action ?? ''),
    target: String(raw.target ?? ''),
    reason: String(raw.reason ?? ''),
    details: raw.details && typeof raw.details === 'object' ? (raw.details as Record<string, unknown>) : {},
    at: String(raw.at ?? ''),
  };
}

function withReason(reason: string | undefined): Json {
  const trimmed = typeof reason === 'string' ? reason.trim() : '';
  return trimmed ? { reason: trimmed } : {};
}

export class ModerationClient {
  private readonly baseUrl: string;
  private readonly fetcher: typeof fetch;
  private readonly tokens: TokenSource | null;

  constructor(options: ModerationClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const fetcher = options.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch;
    if (!fetcher) throw new Error('ModerationClient needs fetch (pass the `fetch` option)');
    // A bare `fetch` called as a method of another object throws "Illegal invocation".
    this.fetcher = options.fetch ? fetcher : fetcher.bind(globalThis);
    this.tokens = options.tokens ?? null;
  }

  /** The room's owner and moderators; signed in, `you` is one's own role. Anyone may ask. */
  async roles(room: string): Promise<RoomRoles> {
    return parseRoles(await this.call('GET', `${this.path(room)}/roles`, undefined, await this.optionalToken()));
  }

  /** The room's settings (public; its staff also get the invite code and the room's words). */
  async settings(room: string): Promise<RoomSettings> {
    return this.settingsOf(await this.call('GET', `${this.path(room)}/settings`, undefined, await this.optionalToken()), room);
  }

  /** Change some settings, `automod` included (moderators and up); everyone in the room hears it. */
  async updateSettings(room: string, patch: RoomSettingsPatch): Promise<RoomSettings> {
    return this.settingsOf(await this.authed('PATCH', `${this.path(room)}/settings`, settingsPatchBody(patch)), room);
  }

  /** A new invite code (links with the old one stop working); resolves to the code. */
  async renewInvite(room: string): Promise<string> {
    const answer = await this.authed('POST', `${this.path(room)}/invite`);
    return String(answer.invite_code ?? '');
  }

  /** Pin a message (newest first); resolves to the settings with it. */
  async pin(room: string, id: string): Promise<RoomSettings> {
    return this.settingsOf(await this.authed('PUT', `${this.path(room)}/pins/${encodeURIComponent(id)}`), room);
  }

  async unpin(room: string, id: string): Promise<RoomSettings> {
    return this.settingsOf(await this.authed('DELETE', `${this.path(room)}/pins/${encodeURIComponent(id)}`), room);
  }

  /** The open items of the review queue, oldest first (staff). */
  async queue(room: string): Promise<QueueItem[]> {
    const answer = await this.authed('GET', `${this.path(room)}/queue`);
    return Array.isArray(answer.items) ? answer.items.filter((i: unknown) => i && typeof i === 'object').map(queueItemOf) : [];
  }

  /**
   * Decide on a queue item. A 404 `not_found` means another moderator decided first (the
   * item is no longer open); a 400 an action that does not fit its kind.
   */
  async decide(room: string, itemId: number, action: QueueAction, reason?: string): Promise<{ id: number; action: QueueAction }> {
    const answer = await this.authed('POST', `${this.path(room)}/queue/${encodeURIComponent(String(itemId))}`, { action, ...withReason(reason) });
    return { id: typeof answer.id === 'number' ? answer.id : itemId, action: (answer.action ?? action) as QueueAction };
  }

  /** Name a moderator (owner, administrator; 409 no_owner in an ownerless room). */
  async addModerator(room: string, username: string): Promise<void> {
    await this.authed('PUT', `${this.path(room)}/moderators/${encodeURIComponent(username)}`);
  }

  /** Un-name a moderator (owner, administrator). */
  async removeModerator(room: string, username: string): Promise<void> {
    await this.authed('DELETE', `${this.path(room)}/moderators/${encodeURIComponent(username)}`);
  }

  /** Hand the room to an account (administrators). */
  async handOver(room: string, username: string, reason?: string): Promise<void> {
    await this.authed('PUT', `${this.path(room)}/owner`, { username, ...withReason(reason) });
  }

  /** Remove any message: every client sees it deleted, "removed by a moderator". */
  async removeMessage(room: string, id: string, reason?: string): Promise<{ removed: boolean; by: string }> {
    const answer = await this.authed('POST', `${this.path(room)}/messages/${encodeURIComponent(id)}/remove`, withReason(reason));
    return { removed: answer.removed !== false, by: String(answer.by ?? '') };
  }

  /** Kick, mute or ban an account, or a guest present in the room. */
  async sanction(room: string, request: SanctionRequest): Promise<SanctionResult> {
    const body: Json = { action: request.action, username: request.username, ...withReason(request.reason) };
    if (request.minutes !== undefined && request.minutes !== null) body.minutes = request.minutes;
    const answer = await this.authed('POST', `${this.path(room)}/sanctions`, body);
    return {
      sanction: typeof answer.sanction === 'number' ? answer.sanction : null,
      room: String(answer.room ?? room),
      action: (answer.action ?? request.action) as SanctionAction,
      username: String(answer.username ?? request.username),
      reason: String(answer.reason ?? ''),
      until: typeof answer.until === 'string' && answer.until ? answer.until : null,
      by: String(answer.by ?? ''),
    };
  }

  /** The mutes and bans in force. */
  async sanctions(room: string): Promise<SanctionEntry[]> {
    const answer = await this.authed('GET', `${this.path(room)}/sanctions`);
    return Array.isArray(answer.sanctions) ? answer.sanctions.map(sanctionEntryOf) : [];
  }

  /** Unmute or unban (the sanction's id from `sanctions`). */
  async lift(room: string, id: number): Promise<void> {
    await this.authed('DELETE', `${this.path(room)}/sanctions/${encodeURIComponent(String(id))}`);
  }

  /** The audit log, newest first; `before` (an entry id) pages back. */
  async audit(room: string, options: { limit?: number; before?: number } = {}): Promise<AuditEntry[]> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.before !== undefined) query.set('before', String(options.before));
    const suffix = query.toString() ? `?${query.toString()}` : '';
    const answer = await this.authed('GET', `${this.path(room)}/audit${suffix}`);
    return Array.isArray(answer.entries) ? answer.entries.map(auditEntryOf) : [];
  }

  // ---- HTTP ------------------------------------------------------------------------

  /** The token when signed in, for the public reads that say more to staff; never a refusal. */
  private async optionalToken(): Promise<string | undefined> {
    const token = this.tokens ? await this.tokens.accessToken().catch(() => null) : null;
    return token ?? undefined;
  }

  private settingsOf(answer: Json, room: string): RoomSettings {
    const settings = parseRoomSettings(answer, room);
    if (!settings) throw new ApiError(502, 'invalid_answer', 'The server sent no settings');
    return settings;
  }

  private path(room: string): string {
    return `/rooms/${encodeURIComponent(room)}`;
  }

  /** A request with the access token; a 401 refreshes once and tries again. */
  private async authed(method: string, path: string, body?: Json): Promise<Json> {
    const token = this.tokens ? await this.tokens.accessToken() : null;
    if (!token) throw new ApiError(401, 'unauthenticated', 'Log in first');
    try {
      return await this.call(method, path, body, token);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || !this.tokens?.refreshNow) throw error;
      const fresh = await this.tokens.refreshNow();
      if (!fresh) throw error;
      return this.call(method, path, body, fresh);
    }
  }

  private call(method: string, path: string, body?: Json, token?: string): Promise<Json> {
    return apiRequest(this.fetcher, this.baseUrl, method, path, {
      body,
      token,
      credentials: 'same-origin',
    });
  }

}
