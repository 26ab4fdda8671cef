/**
 * A room's settings as clients see them (docs/moderation.md, "Room settings"): the topic,
 * who may post, slow mode, invite-only, the pins and the automatic moderation rules. The
 * same view comes in `room_joined.settings`, in the `room_settings` event and from
 * `GET /rooms/<room>/settings`, so one parser serves the session and ModerationClient.
 * Pure: no socket, no fetch.
 */

/** Who may send messages: anyone, accounts only, or accounts that came with the invite. */
export type PostPolicy = 'everyone' | 'registered' | 'members';
/** What an automatic moderation rule does to a message that trips it. */
export type AutomodAction = 'off' | 'refuse' | 'hold' | 'mute';
/** The automatic moderation rules a room may tune. */
export type AutomodRule = 'words' | 'flood' | 'links' | 'mentions';

export const POST_POLICIES: ReadonlyArray<PostPolicy> = ['everyone', 'registered', 'members'];
export const AUTOMOD_ACTIONS: ReadonlyArray<AutomodAction> = ['off', 'refuse', 'hold', 'mute'];
export const AUTOMOD_RULES: ReadonlyArray<AutomodRule> = ['words', 'flood', 'links', 'mentions'];
/** The instance's defaults, for a room whose view carries no rules. */
export const AUTOMOD_DEFAULTS: Readonly<Record<AutomodRule, AutomodAction>> = {
  words: 'refuse',
  flood: 'mute',
  links: 'hold',
  mentions: 'refuse',
};

export interface AutomodSettings {
  rules: Record<AutomodRule, AutomodAction>;
  /** The room's own banned words: only in the staff's `GET /settings`, never in events. */
  words?: string[];
}

export interface RoomSettings {
  room: string;
  topic: string;
  post: PostPolicy;
  /** Seconds between two messages of one person (0: off). */
  slowMode: number;
  inviteOnly: boolean;
  /** Pinned message ids, newest first. */
  pins: string[];
  /** The staff's `GET /settings` of an invite-only room only. */
  inviteCode?: string;
  /** Null when the view said nothing of it (an older server). */
  automod: AutomodSettings | null;
}

/** A change to send with `ModerationClient.updateSettings`: only the fields given change. */
export interface RoomSettingsPatch {
  topic?: string;
  post?: PostPolicy;
  slowMode?: number;
  inviteOnly?: boolean;
  automod?: { rules?: Partial<Record<AutomodRule, AutomodAction>>; words?: string[] };
}

type Json = Record<string, any>;

const oneOf = <T extends string>(allowed: ReadonlyArray<T>, raw: unknown, fallback: T): T =>
  typeof raw === 'string' && (allowed as readonly string[]).includes(raw) ? (raw as T) : fallback;

function automodOf(raw: unknown): AutomodSettings | null {
  if (!raw || typeof raw !== 'object') return null;
  const json = raw as Json;
  const given = json.rules && typeof json.rules === 'object' ? (json.rules as Json) : {};
  const rules = {} as Record<AutomodRule, AutomodAction>;
  for (const rule of AUTOMOD_RULES) rules[rule] = oneOf(AUTOMOD_ACTIONS, given[rule], AUTOMOD_DEFAULTS[rule]);
  const automod: AutomodSettings = { rules };
  if (Array.isArray(json.words)) automod.words = json.words.filter((w: unknown): w is string => typeof w === 'string');
  return automod;
}

/** A settings view as the server sends it, or null when it is not one. */
export function parseRoomSettings(raw: unknown, room?: string): RoomSettings | null {
  if (!raw || typeof raw !== 'object') return null;
  const json = raw as Json;
  const name = typeof json.room === 'string' ? json.room : room;
  if (typeof name !== 'string') return null;
  const settings: RoomSettings = {
    room: name,
    topic: typeof json.topic === 'string' ? json.topic : '',
    post: oneOf(POST_POLICIES, json.post, 'everyone'),
    slowMode: typeof json.slow_mode === 'number' && json.slow_mode > 0 ? Math.floor(json.slow_mode) : 0,
    inviteOnly: json.invite_only === true,
    pins: Array.isArray(json.pins) ? json.pins.filter((p: unknown): p is string => typeof p === 'string') : [],
    automod: automodOf(json.automod),
  };
  if (typeof json.invite_code === 'string' && json.invite_code) settings.inviteCode = json.invite_code;
  return settings;
}

/** The wire body of a patch (snake_case, only what is given). */
export function settingsPatchBody(patch: RoomSettingsPatch): Json {
  const body: Json = {};
  if (patch.topic !== undefined) body.topic = patch.topic;
  if (patch.post !== undefined) body.post = patch.post;
  if (patch.slowMode !== undefined) body.slow_mode = patch.slowMode;
  if (patch.inviteOnly !== undefined) body.invite_only = patch.inviteOnly;
  if (patch.automod !== undefined) {
    const automod: Json = {};
    if (patch.automod.rules !== undefined) automod.rules = { ...patch.automod.rules };
    if (patch.automod.words !== undefined) automod.words = [...patch.automod.words];
    body.automod = automod;
  }
  return body;
}

/**
 * Whether `settings` let this person post at all (staff are never held; `member` is an
 * account that came in with the invite). The server decides; this only words it early.
 */
export function mayPost(settings: RoomSettings | null | undefined, who: { staff: boolean; account: boolean; member?: boolean }): boolean {
  if (!settings || who.staff) return true;
  if (settings.post === 'registered') return who.account;
  // Membership is known to the server only: an account may be one until refused.
  if (settings.post === 'members') return who.account && who.member !== false;
  return true;
}

/** `<origin>/?room=<room>&invite=<code>`: the link that lets someone into an invite-only room. */
export function inviteLink(origin: string, room: string, code: string): string {
  return `${origin.replace(/\/+$/, '')}/?room=${encodeURIComponent(room)}&invite=${encodeURIComponent(code)}`;
}
