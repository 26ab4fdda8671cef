// @talkrooms/client 0.1.0 (UNLICENSED): built from client/src by `make client`; do not edit.

// src/generated/protocol.ts
var EVENTS = {
  client: {
    JOIN_ROOM: "join_room",
    LEAVE_ROOM: "leave_room",
    SEND_MESSAGE: "send_message",
    TYPING: "typing",
    GET_HISTORY: "get_history",
    EDIT_MESSAGE: "edit_message",
    DELETE_MESSAGE: "delete_message",
    REACT: "react",
    MARK_READ: "mark_read",
    REPORT_MESSAGE: "report_message",
    FOCUS: "focus"
  },
  server: {
    CONNECTED: "connected",
    ROOM_JOINED: "room_joined",
    NEW_MESSAGE: "new_message",
    USER_JOINED: "user_joined",
    USER_LEFT: "user_left",
    ROOM_USERS: "room_users",
    USER_TYPING: "user_typing",
    ERROR: "error",
    ROOM_EVENT: "room_event",
    READ_MARKER: "read_marker",
    CONVERSATION: "conversation",
    PROFILE: "profile",
    MODERATION: "moderation",
    SANCTIONED: "sanctioned",
    ROOM_SETTINGS: "room_settings",
    REVIEW: "review",
    ROLES: "roles"
  }
};
var ERROR_CODES = ["invalid", "not_in_room", "name_taken", "rate_limited", "unavailable", "forbidden", "not_found", "name_reserved", "token_expired", "invalid_token", "account_required", "blocked", "banned", "muted", "invite_only", "posting_closed", "slow_mode", "auto_moderated", "held"];
var LIMITS = {
  usernameMax: 32,
  roomMax: 32,
  messageMax: 2e3,
  clientIdMax: 64,
  clientKeyMin: 16,
  clientKeyMax: 128,
  historyPageDefault: 50,
  historyLimit: 100,
  protocolVersion: 2,
  roomsPerConnection: 50,
  reactionsPerMessage: 20,
  mentionsPerMessage: 20,
  replyExcerpt: 100
};
var ERRORS = {
  username: "Username must be 1-32 characters: letters, digits, spaces, - _ .",
  room: "Room id must be 1-32 characters: a-z, 0-9, - _",
  clientId: "client_id must be 1-64 characters: A-Z, a-z, 0-9, - _",
  clientKey: "client_key must be 16-128 characters: A-Z, a-z, 0-9, - _",
  message: "Message must be 1-{max} characters",
  files: "files must be a list of 1-{max} file ids (from /api/v1/uploads)"
};
var PATTERNS = {
  username: /^[\p{L}\p{M}\p{N} ._-]{1,32}$/u,
  usernameNeeds: /[\p{L}\p{N}]/u,
  room: /^[a-z0-9_-]{1,32}$/,
  privateRoom: /^dm:[a-z0-9]{20}$/,
  fileId: /^[0-9a-f]{32}$/,
  clientId: /^[A-Za-z0-9_-]{1,64}$/,
  clientKey: /^[A-Za-z0-9_-]{16,128}$/,
  messageId: /^\d{1,12}$/
};
var PY_WHITESPACE = "\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u2029\\u202f\\u205f\\u3000";
var AVATAR_COLORS = ["#FF6B6B", "#4ECDC4", "#45B7D1", "#F7B731", "#A55EEA", "#26DE81", "#FD9644"];
var FNV_OFFSET = 2166136261;
var FNV_PRIME = 16777619;
var TYPING = {
  throttleMs: 2e3,
  idleMs: 3e3,
  expireMs: 6e3
};

// src/accounts.ts
var ApiError = class extends Error {
  constructor(status, code, message, retryAfter, details) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    if (retryAfter !== void 0) this.retryAfter = retryAfter;
    if (details !== void 0) this.details = details;
  }
};
var REFRESH_MARGIN_MS = 3e4;
var LOCK_NAME = "talkrooms-refresh";
var PRIVATE_ROOM = PATTERNS.privateRoom;
function isPrivateRoom(room) {
  return typeof room === "string" && PRIVATE_ROOM.test(room);
}
function accountOf(raw) {
  return { id: Number(raw.id), username: String(raw.username), email: raw.email ?? null, createdAt: String(raw.created_at ?? "") };
}
function profileOf(raw) {
  const profile = {
    username: String(raw.username),
    displayName: String(raw.display_name ?? raw.username),
    bio: String(raw.bio ?? ""),
    color: String(raw.color ?? ""),
    createdAt: String(raw.created_at ?? "")
  };
  if ("email" in raw) profile.email = raw.email ?? null;
  return profile;
}
function parseConversation(raw) {
  if (!raw || typeof raw !== "object") return null;
  const json = raw;
  if (typeof json.room !== "string" || !isPrivateRoom(json.room) || !json.with || typeof json.with.username !== "string") return null;
  return conversationOf(json);
}
function conversationOf(raw) {
  const other = raw.with ?? {};
  return {
    room: String(raw.room),
    with: { username: String(other.username), displayName: String(other.display_name ?? other.username), color: String(other.color ?? "") },
    createdAt: String(raw.created_at ?? ""),
    blocked: raw.blocked === true,
    canWrite: raw.can_write !== false
  };
}
function defaultLock() {
  const locks = globalThis.navigator?.locks;
  if (!locks || typeof locks.request !== "function") return void 0;
  return (name, task) => locks.request(name, task);
}
var AccountClient = class {
  constructor(options) {
    this.listeners = /* @__PURE__ */ new Set();
    this.current = null;
    this.token = null;
    this.expiresAt = 0;
    this.refreshing = null;
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    const fetcher = options.fetch ?? globalThis.fetch;
    if (!fetcher) throw new Error("AccountClient needs fetch (pass the `fetch` option)");
    this.fetcher = options.fetch ? fetcher : fetcher.bind(globalThis);
    this.store = options.refreshStore;
    this.now = options.now ?? (() => Date.now());
    this.lock = options.lock ?? (this.store ? void 0 : defaultLock());
  }
  /** The signed-in account; null for a guest. */
  get account() {
    return this.current;
  }
  /** Called whenever the account changes (signed in, out, or the session ended). */
  onChange(listener) {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
  // ---- Signing in and out ----------------------------------------------------------
  /** Create an account and sign in with it (400 invalid_*, 409 username_taken, 429). */
  async register(username, password, email) {
    const body = { username, password };
    if (email) body.email = email;
    return this.signIn(await this.call("POST", "/auth/register", this.withMode(body)));
  }
  /** Sign in (401 invalid_credentials, 429 rate_limited with retryAfter). */
  async login(username, password) {
    return this.signIn(await this.call("POST", "/auth/login", this.withMode({ username, password })));
  }
  /**
   * At start: sign in again from the cookie or the stored refresh token. Null: a guest
   * (no session, or the server ended it). Rejects (ApiError) when the server could not
   * answer; the stored token is kept then.
   */
  async restore() {
    if (this.store && !await this.store.load()) return null;
    await this.refreshNow();
    return this.current;
  }
  /** A valid access token (refreshed first when less than 30 s remain); null for a guest. */
  async accessToken() {
    if (!this.current) return null;
    if (this.token && this.expiresAt - this.now() > REFRESH_MARGIN_MS) return this.token;
    return this.refreshNow();
  }
  /**
   * Trade the refresh token for a new pair now (after a `token_expired`): concurrent callers
   * share one request. Null: signed out (the server refused the refresh token). Rejects
   * (ApiError) when the server could not answer, and nothing changes then.
   */
  refreshNow() {
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
  async logout() {
    try {
      const body = this.store ? { refresh_token: await this.store.load() } : { cookie: true };
      if (this.store && !body.refresh_token) delete body.refresh_token;
      await this.call("POST", "/auth/logout", body);
    } catch {
    }
    await this.signOut();
  }
  // ---- Profiles --------------------------------------------------------------------
  /** One's own profile (with the e-mail). */
  async profile() {
    return profileOf(await this.authed("GET", "/profile"));
  }
  /** Change one's profile (400 invalid_display_name / invalid_bio / invalid_color). */
  async updateProfile(patch) {
    const body = {};
    if (patch.displayName !== void 0) body.display_name = patch.displayName;
    if (patch.bio !== void 0) body.bio = patch.bio;
    if (patch.color !== void 0) body.color = patch.color;
    return profileOf(await this.authed("PATCH", "/profile", body));
  }
  /** Anyone's public profile (404 not_found: no such account, e.g. a guest). */
  async publicProfile(username) {
    return profileOf(await this.call("GET", `/profiles/${encodeURIComponent(username)}`));
  }
  // ---- Private conversations and blocks --------------------------------------------
  /** My conversations, newest first. */
  async conversations() {
    const answer = await this.authed("GET", "/conversations");
    return Array.isArray(answer.conversations) ? answer.conversations.map(conversationOf) : [];
  }
  /** Open (or find) the conversation with `username` (404 not_found, 400 yourself, 403 blocked). */
  async openConversation(username) {
    return conversationOf(await this.authed("POST", "/conversations", { username }));
  }
  /** One conversation (404 not_found when I am not in it). */
  async conversation(room) {
    return conversationOf(await this.authed("GET", `/conversations/${encodeURIComponent(room)}`));
  }
  /** The accounts I blocked. */
  async blocks() {
    const answer = await this.authed("GET", "/blocks");
    const list = Array.isArray(answer.blocked) ? answer.blocked : [];
    return list.map((raw) => ({
      username: String(raw.username),
      displayName: String(raw.display_name ?? raw.username),
      color: String(raw.color ?? ""),
      since: String(raw.since ?? "")
    }));
  }
  /** Block `username`: neither can write to the other any more. */
  async block(username) {
    await this.authed("PUT", `/blocks/${encodeURIComponent(username)}`);
  }
  async unblock(username) {
    await this.authed("DELETE", `/blocks/${encodeURIComponent(username)}`);
  }
  // ---- Tokens ----------------------------------------------------------------------
  withMode(body) {
    return this.store ? body : { ...body, cookie: true };
  }
  async refresh() {
    let body;
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
      await this.signIn(await this.call("POST", "/auth/refresh", body));
    } catch (error) {
      if (error instanceof ApiError && (error.status === 400 || error.status === 401 || error.status === 403)) {
        await this.signOut();
        return null;
      }
      throw error;
    }
    return this.token;
  }
  async signIn(answer) {
    const tokens = answer;
    if (typeof tokens.access_token !== "string" || !tokens.account) throw new ApiError(502, "unavailable", "The server sent no token");
    if (this.store && typeof tokens.refresh_token === "string") await this.store.save(tokens.refresh_token);
    this.token = tokens.access_token;
    this.expiresAt = this.now() + Number(tokens.expires_in ?? 0) * 1e3;
    this.setAccount(accountOf(tokens.account));
    return this.current;
  }
  async signOut() {
    this.token = null;
    this.expiresAt = 0;
    if (this.store) await this.store.save(null);
    this.setAccount(null);
  }
  setAccount(account) {
    const before = this.current;
    this.current = account;
    const same = before === account || before !== null && account !== null && before.id === account.id && before.username === account.username && before.email === account.email;
    if (same) return;
    for (const listener of [...this.listeners]) listener(account);
  }
  // ---- HTTP ------------------------------------------------------------------------
  /** A request with the access token; a 401 refreshes once and tries again. */
  async authed(method, path, body) {
    const token = await this.accessToken();
    if (!token) throw new ApiError(401, "unauthenticated", "Log in first");
    try {
      return await this.call(method, path, body, token);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      const fresh = await this.refreshNow();
      if (!fresh) throw error;
      return this.call(method, path, body, fresh);
    }
  }
  call(method, path, body, token) {
    const credentials = this.store ? void 0 : "same-origin";
    return apiRequest(this.fetcher, this.baseUrl, method, path, { body, token, credentials });
  }
};
async function apiRequest(fetcher, baseUrl, method, path, options = {}) {
  const { body, token, credentials } = options;
  const headers = { Accept: "application/json" };
  if (body !== void 0) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers };
  if (body !== void 0) init.body = JSON.stringify(body);
  if (credentials) init.credentials = credentials;
  let response;
  try {
    response = await fetcher(`${baseUrl}/api/v1${path}`, init);
  } catch {
    throw new ApiError(0, "network_error", "Could not reach the server");
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  const json = answer && typeof answer === "object" ? answer : {};
  if (response.ok) return json;
  const header = response.headers?.get?.("Retry-After");
  const retryAfter = header != null && header !== "" && Number.isFinite(Number(header)) ? Number(header) : void 0;
  const message = typeof json.error === "string" ? json.error : `The server answered ${response.status}`;
  const code = typeof json.code === "string" ? json.code : response.status >= 500 ? "unavailable" : "http_error";
  throw new ApiError(response.status, code, message, retryAfter, Array.isArray(json.details) ? json.details : void 0);
}

// src/ids.ts
var KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
var webCrypto = () => globalThis.crypto;
var defaultRandomBytes = (n) => {
  const crypto = webCrypto();
  if (!crypto?.getRandomValues) throw new Error("no crypto.getRandomValues: pass a RandomBytes");
  return crypto.getRandomValues(new Uint8Array(n));
};
function newClientId(randomBytes) {
  const crypto = webCrypto();
  if (!randomBytes && typeof crypto?.randomUUID === "function") return crypto.randomUUID();
  const bytes = (randomBytes ?? defaultRandomBytes)(16);
  bytes[6] = bytes[6] & 15 | 64;
  bytes[8] = bytes[8] & 63 | 128;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
function newClientKey(length = 32, randomBytes = defaultRandomBytes) {
  const bytes = randomBytes(length);
  let key = "";
  for (let i = 0; i < length; i += 1) key += KEY_ALPHABET[bytes[i] % KEY_ALPHABET.length];
  return key;
}

// src/room-settings.ts
var POST_POLICIES = ["everyone", "registered", "members"];
var AUTOMOD_ACTIONS = ["off", "refuse", "hold", "mute"];
var AUTOMOD_RULES = ["words", "flood", "links", "mentions"];
var AUTOMOD_DEFAULTS = {
  words: "refuse",
  flood: "mute",
  links: "hold",
  mentions: "refuse"
};
var oneOf = (allowed, raw, fallback) => typeof raw === "string" && allowed.includes(raw) ? raw : fallback;
function automodOf(raw) {
  if (!raw || typeof raw !== "object") return null;
  const json = raw;
  const given = json.rules && typeof json.rules === "object" ? json.rules : {};
  const rules = {};
  for (const rule of AUTOMOD_RULES) rules[rule] = oneOf(AUTOMOD_ACTIONS, given[rule], AUTOMOD_DEFAULTS[rule]);
  const automod = { rules };
  if (Array.isArray(json.words)) automod.words = json.words.filter((w) => typeof w === "string");
  return automod;
}
function parseRoomSettings(raw, room) {
  if (!raw || typeof raw !== "object") return null;
  const json = raw;
  const name = typeof json.room === "string" ? json.room : room;
  if (typeof name !== "string") return null;
  const settings = {
    room: name,
    topic: typeof json.topic === "string" ? json.topic : "",
    post: oneOf(POST_POLICIES, json.post, "everyone"),
    slowMode: typeof json.slow_mode === "number" && json.slow_mode > 0 ? Math.floor(json.slow_mode) : 0,
    inviteOnly: json.invite_only === true,
    pins: Array.isArray(json.pins) ? json.pins.filter((p) => typeof p === "string") : [],
    automod: automodOf(json.automod)
  };
  if (typeof json.invite_code === "string" && json.invite_code) settings.inviteCode = json.invite_code;
  return settings;
}
function settingsPatchBody(patch) {
  const body = {};
  if (patch.topic !== void 0) body.topic = patch.topic;
  if (patch.post !== void 0) body.post = patch.post;
  if (patch.slowMode !== void 0) body.slow_mode = patch.slowMode;
  if (patch.inviteOnly !== void 0) body.invite_only = patch.inviteOnly;
  if (patch.automod !== void 0) {
    const automod = {};
    if (patch.automod.rules !== void 0) automod.rules = { ...patch.automod.rules };
    if (patch.automod.words !== void 0) automod.words = [...patch.automod.words];
    body.automod = automod;
  }
  return body;
}
function mayPost(settings, who) {
  if (!settings || who.staff) return true;
  if (settings.post === "registered") return who.account;
  if (settings.post === "members") return who.account && who.member !== false;
  return true;
}
function inviteLink(origin, room, code) {
  return `${origin.replace(/\/+$/, "")}/?room=${encodeURIComponent(room)}&invite=${encodeURIComponent(code)}`;
}

// src/moderation.ts
var ROLES = ["admin", "owner", "moderator"];
var NOTICE_ACTIONS = ["kick", "mute", "ban", "unmute", "unban"];
function isStaff(role) {
  return role === "admin" || role === "owner" || role === "moderator";
}
function canNameModerators(role) {
  return role === "admin" || role === "owner";
}
function roleOf(raw) {
  return typeof raw === "string" && ROLES.includes(raw) ? raw : null;
}
function personOf(raw) {
  return { username: String(raw.username), displayName: String(raw.display_name ?? raw.username) };
}
function parseRoles(raw) {
  return {
    room: String(raw.room ?? ""),
    owner: raw.owner && typeof raw.owner === "object" ? personOf(raw.owner) : null,
    moderators: Array.isArray(raw.moderators) ? raw.moderators.filter((m) => m && typeof m === "object").map(personOf) : [],
    you: roleOf(raw.you)
  };
}
function roleIn(roles, username) {
  if (!roles) return null;
  if (roles.owner && roles.owner.username === username) return "owner";
  if (roles.moderators.some((m) => m.username === username)) return "moderator";
  return null;
}
function parseRolesEvent(raw, username) {
  if (!raw || typeof raw !== "object" || typeof raw.room !== "string") return null;
  const roles = parseRoles(raw);
  return { ...roles, you: roleIn(roles, username) };
}
function parseReviewCount(raw) {
  if (!raw || typeof raw !== "object") return null;
  const json = raw;
  if (typeof json.room !== "string" || typeof json.open !== "number" || json.open < 0) return null;
  return { room: json.room, open: Math.floor(json.open) };
}
function queueItemOf(raw) {
  const message = raw.message && typeof raw.message === "object" ? raw.message : {};
  return {
    id: Number(raw.id),
    kind: raw.kind === "held" ? "held" : "report",
    at: String(raw.at ?? ""),
    rule: typeof raw.rule === "string" && raw.rule ? raw.rule : null,
    message: {
      id: typeof message.id === "string" && message.id ? message.id : null,
      username: String(message.username ?? ""),
      message: String(message.message ?? ""),
      timestamp: String(message.timestamp ?? "")
    },
    reports: Array.isArray(raw.reports) ? raw.reports.filter((r) => r && typeof r === "object").map((r) => ({ by: String(r.by ?? ""), reason: String(r.reason ?? ""), at: String(r.at ?? "") })) : []
  };
}
function parseSanctionNotice(raw) {
  if (!raw || typeof raw !== "object") return null;
  const json = raw;
  if (typeof json.room !== "string" || typeof json.username !== "string") return null;
  if (!NOTICE_ACTIONS.includes(json.action)) return null;
  return {
    room: json.room,
    action: json.action,
    username: json.username,
    reason: typeof json.reason === "string" ? json.reason : "",
    until: typeof json.until === "string" && json.until ? json.until : null,
    by: typeof json.by === "string" ? json.by : ""
  };
}
function sanctionEntryOf(raw) {
  return {
    id: Number(raw.id),
    action: raw.action === "ban" ? "ban" : "mute",
    username: String(raw.username ?? ""),
    guest: raw.guest === true,
    until: typeof raw.until === "string" && raw.until ? raw.until : null,
    reason: String(raw.reason ?? ""),
    at: String(raw.at ?? "")
  };
}
function auditEntryOf(raw) {
  return {
    id: Number(raw.id),
    actor: String(raw.actor ?? ""),
    action: String(raw.action ?? ""),
    target: String(raw.target ?? ""),
    reason: String(raw.reason ?? ""),
    details: raw.details && typeof raw.details === "object" ? raw.details : {},
    at: String(raw.at ?? "")
  };
}
function withReason(reason) {
  const trimmed = typeof reason === "string" ? reason.trim() : "";
  return trimmed ? { reason: trimmed } : {};
}
var ModerationClient = class {
  constructor(options) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    const fetcher = options.fetch ?? globalThis.fetch;
    if (!fetcher) throw new Error("ModerationClient needs fetch (pass the `fetch` option)");
    this.fetcher = options.fetch ? fetcher : fetcher.bind(globalThis);
    this.tokens = options.tokens ?? null;
  }
  /** The room's owner and moderators; signed in, `you` is one's own role. Anyone may ask. */
  async roles(room) {
    return parseRoles(await this.call("GET", `${this.path(room)}/roles`, void 0, await this.optionalToken()));
  }
  /** The room's settings (public; its staff also get the invite code and the room's words). */
  async settings(room) {
    return this.settingsOf(await this.call("GET", `${this.path(room)}/settings`, void 0, await this.optionalToken()), room);
  }
  /** Change some settings, `automod` included (moderators and up); everyone in the room hears it. */
  async updateSettings(room, patch) {
    return this.settingsOf(await this.authed("PATCH", `${this.path(room)}/settings`, settingsPatchBody(patch)), room);
  }
  /** A new invite code (links with the old one stop working); resolves to the code. */
  async renewInvite(room) {
    const answer = await this.authed("POST", `${this.path(room)}/invite`);
    return String(answer.invite_code ?? "");
  }
  /** Pin a message (newest first); resolves to the settings with it. */
  async pin(room, id) {
    return this.settingsOf(await this.authed("PUT", `${this.path(room)}/pins/${encodeURIComponent(id)}`), room);
  }
  async unpin(room, id) {
    return this.settingsOf(await this.authed("DELETE", `${this.path(room)}/pins/${encodeURIComponent(id)}`), room);
  }
  /** The open items of the review queue, oldest first (staff). */
  async queue(room) {
    const answer = await this.authed("GET", `${this.path(room)}/queue`);
    return Array.isArray(answer.items) ? answer.items.filter((i) => i && typeof i === "object").map(queueItemOf) : [];
  }
  /**
   * Decide on a queue item. A 404 `not_found` means another moderator decided first (the
   * item is no longer open); a 400 an action that does not fit its kind.
   */
  async decide(room, itemId, action, reason) {
    const answer = await this.authed("POST", `${this.path(room)}/queue/${encodeURIComponent(String(itemId))}`, { action, ...withReason(reason) });
    return { id: typeof answer.id === "number" ? answer.id : itemId, action: answer.action ?? action };
  }
  /** Name a moderator (owner, administrator; 409 no_owner in an ownerless room). */
  async addModerator(room, username) {
    await this.authed("PUT", `${this.path(room)}/moderators/${encodeURIComponent(username)}`);
  }
  /** Un-name a moderator (owner, administrator). */
  async removeModerator(room, username) {
    await this.authed("DELETE", `${this.path(room)}/moderators/${encodeURIComponent(username)}`);
  }
  /** Hand the room to an account (administrators). */
  async handOver(room, username, reason) {
    await this.authed("PUT", `${this.path(room)}/owner`, { username, ...withReason(reason) });
  }
  /** Remove any message: every client sees it deleted, "removed by a moderator". */
  async removeMessage(room, id, reason) {
    const answer = await this.authed("POST", `${this.path(room)}/messages/${encodeURIComponent(id)}/remove`, withReason(reason));
    return { removed: answer.removed !== false, by: String(answer.by ?? "") };
  }
  /** Kick, mute or ban an account, or a guest present in the room. */
  async sanction(room, request) {
    const body = { action: request.action, username: request.username, ...withReason(request.reason) };
    if (request.minutes !== void 0 && request.minutes !== null) body.minutes = request.minutes;
    const answer = await this.authed("POST", `${this.path(room)}/sanctions`, body);
    return {
      sanction: typeof answer.sanction === "number" ? answer.sanction : null,
      room: String(answer.room ?? room),
      action: answer.action ?? request.action,
      username: String(answer.username ?? request.username),
      reason: String(answer.reason ?? ""),
      until: typeof answer.until === "string" && answer.until ? answer.until : null,
      by: String(answer.by ?? "")
    };
  }
  /** The mutes and bans in force. */
  async sanctions(room) {
    const answer = await this.authed("GET", `${this.path(room)}/sanctions`);
    return Array.isArray(answer.sanctions) ? answer.sanctions.map(sanctionEntryOf) : [];
  }
  /** Unmute or unban (the sanction's id from `sanctions`). */
  async lift(room, id) {
    await this.authed("DELETE", `${this.path(room)}/sanctions/${encodeURIComponent(String(id))}`);
  }
  /** The audit log, newest first; `before` (an entry id) pages back. */
  async audit(room, options = {}) {
    const query = new URLSearchParams();
    if (options.limit !== void 0) query.set("limit", String(options.limit));
    if (options.before !== void 0) query.set("before", String(options.before));
    const suffix = query.toString() ? `?${query.toString()}` : "";
    const answer = await this.authed("GET", `${this.path(room)}/audit${suffix}`);
    return Array.isArray(answer.entries) ? answer.entries.map(auditEntryOf) : [];
  }
  // ---- HTTP ------------------------------------------------------------------------
  /** The token when signed in, for the public reads that say more to staff; never a refusal. */
  async optionalToken() {
    const token = this.tokens ? await this.tokens.accessToken().catch(() => null) : null;
    return token ?? void 0;
  }
  settingsOf(answer, room) {
    const settings = parseRoomSettings(answer, room);
    if (!settings) throw new ApiError(502, "invalid_answer", "The server sent no settings");
    return settings;
  }
  path(room) {
    return `/rooms/${encodeURIComponent(room)}`;
  }
  /** A request with the access token; a 401 refreshes once and tries again. */
  async authed(method, path, body) {
    const token = this.tokens ? await this.tokens.accessToken() : null;
    if (!token) throw new ApiError(401, "unauthenticated", "Log in first");
    try {
      return await this.call(method, path, body, token);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || !this.tokens?.refreshNow) throw error;
      const fresh = await this.tokens.refreshNow();
      if (!fresh) throw error;
      return this.call(method, path, body, fresh);
    }
  }
  call(method, path, body, token) {
    return apiRequest(this.fetcher, this.baseUrl, method, path, {
      body,
      token,
      credentials: "same-origin"
    });
  }
};

// src/files.ts
var FILES_PER_MESSAGE = 10;
function trimBase(baseUrl) {
  return baseUrl.replace(/\/+$/, "");
}
function fileUrl(baseUrl, id, variant) {
  const base = `${trimBase(baseUrl)}/api/v1/files/${encodeURIComponent(id)}`;
  return variant ? `${base}/${variant}` : base;
}
function isImage(entry) {
  return !!entry && entry.kind === "image";
}
function variantOf(entry, variant) {
  return entry.variants?.includes(variant) ? variant : void 0;
}
var SIZE_UNITS = ["B", "KB", "MB", "GB"];
function formatSize(bytes, options = {}) {
  const units = options.units && options.units.length >= 4 ? options.units : SIZE_UNITS;
  let value = Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  let text;
  if (unit === 0) text = String(Math.round(value));
  else if (value < 10) text = (Math.round(value * 10) / 10).toFixed(1).replace(/\.0$/, "");
  else text = String(Math.round(value));
  if (options.decimal) text = text.replace(".", options.decimal);
  return `${text} ${units[unit]}`;
}
function parseFileEntry(raw) {
  if (!raw || typeof raw !== "object") return null;
  const json = raw;
  if (typeof json.id !== "string" || !PATTERNS.fileId.test(json.id)) return null;
  const entry = {
    id: json.id,
    name: typeof json.name === "string" ? json.name : "file",
    size: Number.isFinite(Number(json.size)) ? Number(json.size) : 0,
    type: typeof json.type === "string" ? json.type : "application/octet-stream",
    kind: json.kind === "image" ? "image" : "file"
  };
  if (Number.isFinite(json.width) && Number(json.width) > 0) entry.width = Number(json.width);
  if (Number.isFinite(json.height) && Number(json.height) > 0) entry.height = Number(json.height);
  if (Array.isArray(json.variants)) entry.variants = json.variants.filter((v) => typeof v === "string");
  return entry;
}
function filesOf(raw) {
  if (!Array.isArray(raw)) return [];
  return raw.map(parseFileEntry).filter((entry) => entry !== null);
}
function filesError(files) {
  const ok = files.length >= 1 && files.length <= FILES_PER_MESSAGE && files.every((f) => f && typeof f.id === "string" && PATTERNS.fileId.test(f.id));
  return ok ? null : ERRORS.files.replace("{max}", String(FILES_PER_MESSAGE));
}
function isNativeFile(file) {
  return !!file && typeof file === "object" && typeof file.uri === "string";
}
function fileSize(file) {
  return isNativeFile(file) ? 0 : file.size;
}
function errorOf(status, body, retryAfterHeader) {
  let json = {};
  if (typeof body === "string" && body) {
    try {
      const parsed = JSON.parse(body);
      if (parsed && typeof parsed === "object") json = parsed;
    } catch {
      json = {};
    }
  } else if (body && typeof body === "object") json = body;
  const retryAfter = retryAfterHeader != null && retryAfterHeader !== "" && Number.isFinite(Number(retryAfterHeader)) ? Number(retryAfterHeader) : void 0;
  const fallbackCode = status === 413 ? "too_large" : status === 415 ? "unsupported_type" : status === 429 ? "rate_limited" : status >= 500 ? "unavailable" : "http_error";
  const message = typeof json.error === "string" ? json.error : `The server answered ${status}`;
  const code = typeof json.code === "string" ? json.code : fallbackCode;
  return new ApiError(status, code, message, retryAfter, Array.isArray(json.details) ? json.details : void 0);
}
function isAbortError(error) {
  return error instanceof ApiError && error.code === "aborted";
}
function uploadFile(options) {
  return new Promise((resolve, reject) => {
    const { signal } = options;
    const aborted = () => new ApiError(0, "aborted", "The upload was cancelled");
    if (signal?.aborted) {
      reject(aborted());
      return;
    }
    const make = options.xhr ?? (() => new XMLHttpRequest());
    const xhr = make();
    const form = new FormData();
    form.append("room", options.room);
    if (options.guest) {
      form.append("username", options.guest.username);
      form.append("client_key", options.guest.clientKey);
    }
    const file = options.file;
    if (isNativeFile(file)) {
      form.append("file", { uri: file.uri, name: options.name ?? file.name, type: file.type });
    } else {
      const own = file.name;
      form.append("file", file, options.name ?? (typeof own === "string" && own ? own : "file"));
    }
    let settled = false;
    const onAbort = () => xhr.abort();
    const finish = (action) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      action();
    };
    xhr.open("POST", `${trimBase(options.baseUrl)}/api/v1/uploads`);
    xhr.setRequestHeader("Accept", "application/json");
    if (options.token) xhr.setRequestHeader("Authorization", `Bearer ${options.token}`);
    const total = fileSize(file);
    if (options.onProgress && xhr.upload) {
      const onProgress = options.onProgress;
      xhr.upload.onprogress = (event) => {
        onProgress(event.loaded, event.lengthComputable && event.total > 0 ? event.total : total);
      };
    }
    xhr.onload = () => {
      const body = xhr.responseType === "json" ? xhr.response : xhr.responseText;
      if (xhr.status >= 200 && xhr.status < 300) {
        let parsed = body;
        if (typeof body === "string") {
          try {
            parsed = JSON.parse(body);
          } catch {
            parsed = null;
          }
        }
        const entry = parseFileEntry(parsed);
        finish(() => entry ? resolve(entry) : reject(new ApiError(502, "unavailable", "The server sent no file")));
        return;
      }
      finish(() => reject(errorOf(xhr.status, body, xhr.getResponseHeader("Retry-After"))));
    };
    xhr.onerror = () => finish(() => reject(new ApiError(0, "network_error", "Could not reach the server")));
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => finish(() => reject(aborted()));
    signal?.addEventListener("abort", onAbort);
    xhr.send(form);
  });
}
async function fetchFile(options) {
  const fetcher = options.fetch ?? globalThis.fetch?.bind(globalThis);
  if (!fetcher) throw new Error("fetchFile needs fetch (pass the `fetch` option)");
  const headers = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const init = { headers };
  if (options.signal) init.signal = options.signal;
  let response;
  try {
    response = await fetcher(fileUrl(options.baseUrl, options.id, options.variant), init);
  } catch {
    if (options.signal?.aborted) throw new ApiError(0, "aborted", "The download was cancelled");
    throw new ApiError(0, "network_error", "Could not reach the server");
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    throw errorOf(response.status, body, response.headers?.get?.("Retry-After") ?? null);
  }
  return response.blob();
}

// src/timeline.ts
var ID_DIGITS = 12;
var ID_PATTERN = /^\d{12}$/;
var MAX_NOTICES = 200;
var formatId = (n) => String(n).padStart(ID_DIGITS, "0");
function parseId(id) {
  return typeof id === "string" && /^\d{1,15}$/.test(id) ? Number(id) : NaN;
}
var pad = (n) => String(n).padStart(8, "0");
function copyProtocol2Fields(from, to) {
  if (typeof from.reply_to === "string" && ID_PATTERN.test(from.reply_to)) to.reply_to = from.reply_to;
  if (Array.isArray(from.mentions)) to.mentions = from.mentions.filter((m) => typeof m === "string");
  if (typeof from.edited_at === "string") to.edited_at = from.edited_at;
  if (from.deleted === true) {
    to.deleted = true;
    to.message = "";
    if (typeof from.deleted_at === "string") to.deleted_at = from.deleted_at;
    if (from.removed === true) to.removed = true;
  }
  if (Array.isArray(from.reactions) && !to.deleted) to.reactions = from.reactions;
  const files = to.deleted ? [] : filesOf(from.files);
  if (files.length > 0) to.files = files;
}
var Timeline = class {
  constructor() {
    this.items = /* @__PURE__ */ new Map();
    /** Keys sorted as strings: ids (12 digits) < notices ("<id>~n") < pending ("p…"). */
    this.order = [];
    /** Ids of stored messages seen (held, or dropped as a second copy of a client_id). */
    this.ids = /* @__PURE__ */ new Set();
    /** client_ids of the stored messages held. */
    this.clientIds = /* @__PURE__ */ new Set();
    /** client_id → key of a message not acknowledged yet. */
    this.pending = /* @__PURE__ */ new Map();
    /** client_ids this client sent (their messages show "sent"). */
    this.sentHere = /* @__PURE__ */ new Set();
    this.notices = [];
    /** The id up to which nothing is missing; null until the first room_joined. */
    this.lastId = null;
    this.maxId = 0;
    this.localSeq = 0;
  }
  get keys() {
    return this.order;
  }
  get(key) {
    return this.items.get(key);
  }
  indexOf(key) {
    const index = this.search(key);
    return this.order[index] === key ? index : -1;
  }
  /** Every item, in display order. */
  list() {
    return this.order.map((key) => this.items.get(key));
  }
  /** The stored messages, oldest first. */
  messages() {
    return this.list().filter((item) => item.kind === "message");
  }
  /** The stored message with this id, if held. */
  message(id) {
    const item = this.items.get(id);
    return item?.kind === "message" ? item : void 0;
  }
  /** The smallest message id held, or null when none. */
  oldestId() {
    for (const key of this.order) if (this.items.get(key)?.kind === "message") return Number(key);
    return null;
  }
  /** A held message's new state (an edit, a deletion, reactions); nothing when not held. */
  replaceMessage(item) {
    if (this.items.get(item.key)?.kind !== "message") return [];
    this.items.set(item.key, item);
    return [{ op: "upsert", item }];
  }
  /** Merge stored messages (history, live, acks); returns the changes. */
  addMessages(messages) {
    const changes = [];
    for (const raw of messages) {
      const message = raw;
      if (!message || typeof message.id !== "string" || !ID_PATTERN.test(message.id)) continue;
      const clientId = typeof message.client_id === "string" && message.client_id ? message.client_id : void 0;
      const pendingKey = clientId ? this.pending.get(clientId) : void 0;
      const seen = this.ids.has(message.id) || clientId !== void 0 && this.clientIds.has(clientId);
      this.ids.add(message.id);
      this.maxId = Math.max(this.maxId, Number(message.id));
      if (seen) {
        if (pendingKey) changes.push(this.remove(pendingKey));
        if (clientId) this.pending.delete(clientId);
        continue;
      }
      const item = {
        key: message.id,
        kind: "message",
        id: message.id,
        username: String(message.username ?? ""),
        message: String(message.message ?? ""),
        timestamp: String(message.timestamp ?? ""),
        room: String(message.room ?? ""),
        type: message.type ?? "message",
        status: clientId && this.sentHere.has(clientId) ? "sent" : null
      };
      if (clientId) {
        item.client_id = clientId;
        this.clientIds.add(clientId);
      }
      copyProtocol2Fields(message, item);
      if (pendingKey) {
        this.drop(pendingKey);
        this.pending.delete(clientId);
      }
      this.put(item);
      changes.push(pendingKey ? { op: "upsert", item, replaces: pendingKey } : { op: "upsert", item });
    }
    this.advance();
    return changes;
  }
  /** The first room_joined: from here on every id after `lastId` is expected. */
  begin() {
    if (this.lastId === null) this.lastId = this.maxId;
    this.advance();
  }
  /** True when an id above `lastId` is held but one between is missing. */
  hasGap() {
    return this.lastId !== null && this.maxId > this.lastId;
  }
  /** get_history since_id answered up to `id`: nothing before it is missing any more. */
  acceptFetched(id) {
    if (this.lastId === null) return;
    this.lastId = Math.max(this.lastId, id);
    this.advance();
  }
  /** The server no longer has the missing ids (capped/expired): jump to the next held. */
  skipHole() {
    if (this.lastId === null) return;
    let next = Infinity;
    for (const id of this.ids) {
      const n = Number(id);
      if (n > this.lastId && n < next) next = n;
    }
    if (next !== Infinity) this.lastId = next;
    this.advance();
  }
  /**
   * Ids only grow, so a history whose newest id is below one held, or a held id now naming
   * another message, means the room's numbering restarted (history expired, store wiped).
   */
  restartedBy(history) {
    if (this.ids.size === 0) return false;
    let newest = 0;
    for (const raw of history) {
      const m = raw;
      const n = parseId(m?.id);
      if (Number.isNaN(n)) continue;
      newest = Math.max(newest, n);
      const held = this.message(m?.id);
      if (held && (held.timestamp !== m?.timestamp || held.username !== m?.username)) return true;
    }
    return newest < this.maxId;
  }
  /** Forget every stored message and notice; pending messages stay (they go again). */
  reset() {
    const changes = [];
    for (const key of [...this.order]) {
      if (this.items.get(key)?.kind !== "pending") changes.push(this.remove(key));
    }
    this.ids.clear();
    this.clientIds.clear();
    this.notices.length = 0;
    this.lastId = null;
    this.maxId = 0;
    return changes;
  }
  /** A message this client sends, shown at the bottom until its ack. */
  addPending({
    client_id,
    message,
    username,
    timestamp,
    reply_to,
    quote,
    files
  }) {
    this.sentHere.add(client_id);
    this.localSeq += 1;
    const key = `p${pad(this.localSeq)}`;
    const item = { key, kind: "pending", client_id, username, message, timestamp, status: "pending", error: null };
    if (reply_to) {
      item.reply_to = reply_to;
      item.quote = quote ?? null;
    }
    if (files && files.length > 0) item.files = files;
    this.put(item);
    this.pending.set(client_id, key);
    return [{ op: "upsert", item }];
  }
  /** Change the state of a pending message ('pending' | 'failed', with an error). */
  updatePending(clientId, patch) {
    const key = this.pending.get(clientId);
    if (!key) return [];
    const item = { ...this.items.get(key), ...patch };
    this.items.set(key, item);
    return [{ op: "upsert", item }];
  }
  removePending(clientId) {
    const key = this.pending.get(clientId);
    if (!key) return [];
    this.pending.delete(clientId);
    return [this.remove(key)];
  }
  isPending(clientId) {
    return this.pending.has(clientId);
  }
  /** A local notice placed after the newest message held now; the view words it. */
  addNotice(variant, params = {}) {
    this.localSeq += 1;
    const key = `${formatId(this.maxId)}~${pad(this.localSeq)}`;
    const item = { key, kind: "notice", variant, params };
    this.put(item);
    this.notices.push(key);
    const changes = [{ op: "upsert", item }];
    while (this.notices.length > MAX_NOTICES) {
      const oldest = this.notices.shift();
      if (this.items.has(oldest)) changes.push(this.remove(oldest));
    }
    return changes;
  }
  removeNotice(key) {
    if (!this.items.has(key)) return [];
    const index = this.notices.indexOf(key);
    if (index >= 0) this.notices.splice(index, 1);
    return [this.remove(key)];
  }
  advance() {
    if (this.lastId === null) return;
    while (this.ids.has(formatId(this.lastId + 1))) this.lastId += 1;
  }
  search(key) {
    let low = 0;
    let high = this.order.length;
    while (low < high) {
      const mid = low + high >> 1;
      if (this.order[mid] < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }
  put(item) {
    const index = this.search(item.key);
    if (this.order[index] !== item.key) this.order.splice(index, 0, item.key);
    this.items.set(item.key, item);
  }
  drop(key) {
    const index = this.indexOf(key);
    if (index >= 0) this.order.splice(index, 1);
    this.items.delete(key);
  }
  remove(key) {
    this.drop(key);
    return { op: "remove", key };
  }
};

// src/log.ts
var POSITION = new RegExp(`^(\\d{${ID_DIGITS}})(?:\\.(\\d{${ID_DIGITS}}))?$`);
function parsePosition(position) {
  if (typeof position !== "string") return null;
  const match = POSITION.exec(position);
  if (!match) return null;
  return { messageId: Number(match[1]), counter: match[2] === void 0 ? null : Number(match[2]) };
}
function formatPosition(messageId, counter) {
  const head = formatId(messageId);
  return counter === void 0 || counter === null ? head : `${head}.${formatId(counter)}`;
}
function laterPosition(a, b) {
  return a >= b ? a : b;
}
var LogCursor = class {
  constructor() {
    /** The last counter held with no hole before it; null until the room told us one. */
    this.counter = null;
    /** Its position. */
    this.position = null;
    /** Counters held above `counter` (after a jump), with their positions. */
    this.ahead = /* @__PURE__ */ new Map();
  }
  /** room_joined's log_id on a first join: the events up to it are in the messages' state. */
  start(logId) {
    const parsed = parsePosition(logId);
    if (!parsed || parsed.counter === null) return;
    this.raise(parsed.counter, logId);
  }
  /**
   * An event arrived at `position`. True when it is new here (not a copy of one held); a
   * counter above the next one expected leaves a hole (`hasGap`).
   */
  note(position) {
    const parsed = parsePosition(position);
    if (!parsed || parsed.counter === null) return false;
    const n = parsed.counter;
    if (this.counter === null) {
      this.raise(n, position);
      return true;
    }
    if (n <= this.counter || this.ahead.has(n)) return false;
    if (n === this.counter + 1) this.raise(n, position);
    else this.ahead.set(n, position);
    return true;
  }
  /** True when a counter was seen above one still missing. */
  hasGap() {
    return this.ahead.size > 0;
  }
  /**
   * get_history covered the log up to `cursor` without a hole: every event at or before it
   * is held or folded into a message's state, whether or not it came as an event.
   */
  covered(cursor) {
    const parsed = parsePosition(cursor);
    if (!parsed) return;
    if (parsed.counter !== null) this.raise(parsed.counter, cursor);
    for (const [n, position] of [...this.ahead]) if (position <= cursor) this.raise(n, position);
  }
  /** The missing counters are gone for good (nothing came for them): jump to the next held. */
  skipHole() {
    if (this.ahead.size === 0) return;
    const next = Math.min(...this.ahead.keys());
    this.raise(next, this.ahead.get(next));
  }
  /**
   * Where catch-up starts: the highest position held with no hole before it, given `lastId`,
   * the last message id held without a hole.
   */
  since(lastId) {
    const messages = formatId(lastId);
    if (this.position === null || this.counter === null) return messages;
    const eventsAt = parsePosition(this.position)?.messageId ?? 0;
    if (lastId < eventsAt) return messages;
    if (this.hasGap()) return this.position;
    return laterPosition(messages, this.position);
  }
  /** The room's numbering restarted: forget everything. */
  reset() {
    this.counter = null;
    this.position = null;
    this.ahead.clear();
  }
  raise(n, position) {
    if (this.counter === null || n > this.counter) {
      this.counter = n;
      this.position = position;
    }
    for (const key of [...this.ahead.keys()]) if (key <= this.counter) this.ahead.delete(key);
    while (this.ahead.has(this.counter + 1)) {
      const next = this.counter + 1;
      this.position = this.ahead.get(next);
      this.counter = next;
      this.ahead.delete(next);
    }
  }
};

// src/validation.ts
var USERNAME_ERROR = ERRORS.username;
var ROOM_ERROR = ERRORS.room;
function messageError(max = LIMITS.messageMax) {
  return ERRORS.message.replace("{max}", String(max));
}
var PY_STRIP = new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, "gu");
var PY_SPACE_RUN = new RegExp(`[${PY_WHITESPACE}]+`, "u");
function strip(text) {
  return text.replace(PY_STRIP, "");
}
function splitWords(text) {
  return text.split(PY_SPACE_RUN).filter((part) => part !== "");
}
function codePointLength(text) {
  let count = 0;
  for (const _char of text) count += 1;
  return count;
}
function nfc(text) {
  return typeof text.normalize === "function" ? text.normalize("NFC") : text;
}
function validateUsername(raw) {
  if (typeof raw !== "string") return { ok: false, error: USERNAME_ERROR };
  const value = nfc(strip(raw));
  if (!PATTERNS.username.test(value) || !PATTERNS.usernameNeeds.test(value)) {
    return { ok: false, error: USERNAME_ERROR };
  }
  return { ok: true, value };
}
function validateRoom(raw) {
  if (typeof raw !== "string") return { ok: false, error: ROOM_ERROR };
  const value = strip(raw).toLowerCase();
  if (!PATTERNS.room.test(value)) return { ok: false, error: ROOM_ERROR };
  return { ok: true, value };
}
function validateMessage(raw, max = LIMITS.messageMax) {
  if (typeof raw !== "string") return { ok: false, error: messageError(max) };
  const value = strip(raw);
  const length = codePointLength(value);
  if (length < 1 || length > max) return { ok: false, error: messageError(max) };
  return { ok: true, value };
}
function isClientKey(value) {
  return typeof value === "string" && PATTERNS.clientKey.test(value);
}
function isClientId(value) {
  return typeof value === "string" && PATTERNS.clientId.test(value);
}

// src/names.ts
var LOOKALIKES = {
  // Cyrillic
  а: "a",
  в: "b",
  е: "e",
  ё: "e",
  һ: "h",
  н: "h",
  і: "i",
  ї: "i",
  ј: "j",
  к: "k",
  "ӏ": "l",
  м: "m",
  о: "o",
  р: "p",
  "ԛ": "q",
  с: "c",
  ѕ: "s",
  т: "t",
  у: "y",
  х: "x",
  "ԝ": "w",
  "ԁ": "d",
  ь: "b",
  // Greek
  α: "a",
  β: "b",
  ε: "e",
  ζ: "z",
  η: "h",
  ι: "i",
  κ: "k",
  μ: "m",
  ν: "n",
  ο: "o",
  ρ: "p",
  τ: "t",
  υ: "y",
  χ: "x",
  ϲ: "c",
  // Latin and digits
  ı: "i",
  "ȷ": "j",
  ɡ: "g",
  "0": "o",
  "1": "l"
};
var LOW_CLASS_PROBE = "̴";
var HIGH_CLASS_PROBE = "ͅ";
function normalize(text, form) {
  return typeof text.normalize === "function" ? text.normalize(form) : text;
}
function isCombining(char) {
  if (!/\p{M}/u.test(char)) return false;
  const low = char + LOW_CLASS_PROBE;
  const high = HIGH_CLASS_PROBE + char;
  return normalize(low, "NFD") !== low || normalize(high, "NFD") !== high;
}
var FINAL_SIGMA = /ς/g;
var CHEROKEE = /[\u13a0-\u13f5\u13f8-\u13fd\uab70-\uabbf]/gu;
function casefold(text) {
  return text.toLowerCase().toUpperCase().toLowerCase().replace(FINAL_SIGMA, "σ").replace(CHEROKEE, (c) => c.toUpperCase());
}
function usernameIdentity(username) {
  const decomposed = normalize(username, "NFKD");
  let bare = "";
  for (const char of decomposed) if (!isCombining(char)) bare += char;
  let folded = "";
  for (const char of casefold(normalize(bare, "NFKC"))) folded += LOOKALIKES[char] ?? char;
  return splitWords(folded.replace(/rn/g, "m")).join(" ");
}
function sameName(a, b) {
  return a === b || usernameIdentity(a) === usernameIdentity(b);
}

// src/outbox.ts
var Outbox = class {
  constructor(store) {
    this.store = store;
    this.entries = /* @__PURE__ */ new Map();
  }
  get size() {
    return this.entries.size;
  }
  get(clientId) {
    return this.entries.get(clientId);
  }
  has(clientId) {
    return this.entries.has(clientId);
  }
  /** Every entry, oldest first. */
  values() {
    return [...this.entries.values()];
  }
  add(clientId, text, timestamp, replyTo, files) {
    const entry = { clientId, text, timestamp, state: "queued", attempts: 0, sends: 0, generation: -1, timer: null };
    if (replyTo) entry.replyTo = replyTo;
    if (files && files.length > 0) entry.files = files.map((file) => ({ ...file }));
    this.entries.set(clientId, entry);
    this.save();
    return entry;
  }
  /** The message is stored (ack, echo or history): forget it. True if it was here. */
  settle(clientId) {
    const entry = this.entries.get(clientId);
    if (!entry) return false;
    if (entry.timer) clearTimeout(entry.timer);
    this.entries.delete(clientId);
    this.save();
    return true;
  }
  clear() {
    for (const entry of this.entries.values()) if (entry.timer) clearTimeout(entry.timer);
    this.entries.clear();
    this.save();
  }
  /** Stop every retry timer (the session stops); the entries stay. */
  cancelTimers() {
    for (const entry of this.entries.values()) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
    }
  }
  /** The entries saved before a reload, well-formed ones only. */
  restore() {
    let saved;
    try {
      saved = this.store?.load();
    } catch {
      return [];
    }
    if (!Array.isArray(saved)) return [];
    return saved.filter(
      (e) => !!e && typeof e.client_id === "string" && typeof e.text === "string"
    );
  }
  save() {
    if (!this.store) return;
    const saved = this.values().map(({ clientId, text, timestamp, replyTo, files }) => {
      const entry = { client_id: clientId, text, timestamp };
      if (replyTo) entry.reply_to = replyTo;
      if (files) entry.files = files;
      return entry;
    });
    try {
      this.store.save(saved);
    } catch {
    }
  }
};

// src/mentions.ts
var NAME_CHAR = /[\p{L}\p{M}\p{N}._-]/u;
var TRAILING = /^[._-]*$/;
function mentionsMe(mentions, username) {
  return Array.isArray(mentions) && mentions.some((name) => typeof name === "string" && sameName(name, username));
}
function mentionParts(text, mentions) {
  const names = [...new Set((mentions ?? []).filter((m) => typeof m === "string" && m))].sort((a, b) => b.length - a.length);
  if (!names.length || !text.includes("@")) return text ? [{ text }] : [];
  const parts = [];
  let plain = "";
  let i = 0;
  while (i < text.length) {
    if (text[i] === "@" && (i === 0 || !NAME_CHAR.test(previousChar(text, i)))) {
      const run = nameRun(text, i + 1);
      const name = names.find((n) => run.startsWith(n) && TRAILING.test(run.slice(n.length)));
      if (name) {
        if (plain) parts.push({ text: plain });
        plain = "";
        parts.push({ text: `@${name}`, mention: name });
        i += 1 + name.length;
        continue;
      }
    }
    plain += text[i];
    i += 1;
  }
  if (plain) parts.push({ text: plain });
  return parts;
}
function previousChar(text, index) {
  const code = text.charCodeAt(index - 1);
  return code >= 56320 && code <= 57343 && index >= 2 ? text.slice(index - 2, index) : text[index - 1];
}
function nameRun(text, index) {
  let run = "";
  for (const char of text.slice(index)) {
    if (!NAME_CHAR.test(char)) break;
    run += char;
  }
  return run;
}

// src/reactions.ts
var ReactionState = class {
  /** `identity` folds look-alike names into one key (usernameIdentity). */
  constructor(identity) {
    this.identity = identity;
    this.emoji = /* @__PURE__ */ new Map();
  }
  /**
   * The message's reactions as of log position `at` (a history page or room_joined).
   * True when anything changed.
   */
  snapshot(reactions, at) {
    const before = this.signature();
    const listed = /* @__PURE__ */ new Set();
    for (const reaction of Array.isArray(reactions) ? reactions : []) {
      if (!reaction || typeof reaction.emoji !== "string") continue;
      listed.add(reaction.emoji);
      const state = this.state(reaction.emoji);
      if (at >= state.at) {
        state.count = Math.max(0, Number(reaction.count) || 0);
        state.at = at;
      }
      const names = /* @__PURE__ */ new Set();
      for (const name of Array.isArray(reaction.users) ? reaction.users : []) {
        if (typeof name !== "string") continue;
        const key = this.identity(name);
        names.add(key);
        const mark = state.users.get(key);
        if (!mark || at >= mark.at) state.users.set(key, { name, on: true, at });
      }
      for (const [key, mark] of state.users) if (!names.has(key) && at >= mark.at) state.users.set(key, { ...mark, on: false, at });
      if (at >= state.me.at) state.me = { on: Boolean(reaction.me), at };
    }
    for (const [emoji, state] of this.emoji) {
      if (listed.has(emoji)) continue;
      if (at >= state.at) state.count = 0;
      for (const [key, mark] of state.users) if (at >= mark.at) state.users.set(key, { ...mark, on: false, at });
      if (at >= state.me.at) state.me = { on: false, at };
    }
    return this.signature() !== before;
  }
  /** One reaction event at log position `at`; `mine` when its user is us. True when it changed anything. */
  event(emoji, username, added, count, at, mine) {
    const before = this.signature();
    const state = this.state(emoji);
    if (at > state.at) {
      state.count = Math.max(0, Number(count) || 0);
      state.at = at;
    }
    const key = this.identity(username);
    const mark = state.users.get(key);
    if (!mark || at > mark.at) state.users.set(key, { name: username, on: added, at });
    if (mine && at > state.me.at) state.me = { on: added, at };
    return this.signature() !== before;
  }
  /** The message was deleted: its reactions are gone. */
  clear() {
    this.emoji.clear();
  }
  /** What a view shows: every emoji with a count, in the order they first appeared. */
  list() {
    const out = [];
    for (const [emoji, state] of this.emoji) {
      if (state.count <= 0) continue;
      const users = [...state.users.values()].filter((m) => m.on).map((m) => m.name);
      out.push({ emoji, count: state.count, users, me: state.me.on });
    }
    return out;
  }
  state(emoji) {
    let state = this.emoji.get(emoji);
    if (!state) {
      state = { count: 0, at: "", users: /* @__PURE__ */ new Map(), me: { on: false, at: "" } };
      this.emoji.set(emoji, state);
    }
    return state;
  }
  signature() {
    return JSON.stringify(this.list());
  }
};

// src/roomlog.ts
var EXCERPT_LENGTH = LIMITS.replyExcerpt;
var RECENT_EVENTS = 500;
function excerpt(text) {
  const chars = [...text];
  return chars.length <= EXCERPT_LENGTH ? text : `${chars.slice(0, EXCERPT_LENGTH - 1).join("")}…`;
}
function previewOf(message) {
  const deleted = message.deleted === true;
  return { id: message.id, username: message.username, excerpt: deleted ? "" : excerpt(message.message), deleted };
}
function isRoomEvent(value) {
  const e = value;
  return !!e && typeof e === "object" && parsePosition(e.id)?.counter != null && typeof e.message_id === "string" && !Number.isNaN(parseId(e.message_id)) && (e.type === "edit" || e.type === "delete" || e.type === "reaction");
}
var RoomLog = class {
  /** `me` is our name in this room as the server spells it. */
  constructor(timeline, me) {
    this.timeline = timeline;
    this.me = me;
    this.cursor = new LogCursor();
    this.states = /* @__PURE__ */ new Map();
    /** id of an original → ids of the held replies quoting it. */
    this.replies = /* @__PURE__ */ new Map();
    /** Quotes of originals not held: from reply_preview, a fetch, or events on them. */
    this.quotes = /* @__PURE__ */ new Map();
    this.recent = [];
  }
  // ---- Position ------------------------------------------------------------------
  /** Where catch-up starts: the highest log position held with no hole before it. */
  position() {
    return this.cursor.since(this.timeline.lastId ?? 0);
  }
  /** A message id or an event counter jumped: get_history since position() is due. */
  hasGap() {
    return this.timeline.hasGap() || this.cursor.hasGap();
  }
  /** The first room_joined (or after a restart): everything up to `logId` is in the list. */
  begin(logId) {
    this.timeline.begin();
    this.cursor.start(logId);
  }
  /** A get_history page covered the log up to `cursor` with no hole. */
  covered(cursor) {
    const parsed = parsePosition(cursor);
    if (!parsed) return;
    this.timeline.acceptFetched(parsed.messageId);
    this.cursor.covered(cursor);
  }
  /** The room's numbering restarted: forget every message and event. */
  reset() {
    this.states.clear();
    this.replies.clear();
    this.quotes.clear();
    this.recent = [];
    this.cursor.reset();
    return this.timeline.reset();
  }
  // ---- Messages --------------------------------------------------------------------
  /**
   * Merge messages in their state as of log position `at` (room_joined's log_id, a page's
   * cursor, or, for a page with no cursor, the position when it was asked for: a lower
   * bound, which is enough since every change is idempotent).
   */
  addMessages(messages, at) {
    const changes = this.timeline.addMessages(messages);
    const added = new Set(changes.flatMap((c) => c.op === "upsert" && c.item.kind === "message" ? [c.item.key] : []));
    const touched = /* @__PURE__ */ new Set();
    for (const raw of messages) {
      const message = raw;
      if (!message || typeof message.id !== "string") continue;
      const held = this.timeline.message(message.id);
      if (!held) continue;
      if (typeof message.reply_to === "string" && held.reply_to === message.reply_to) {
        this.indexReply(message.reply_to, held.id);
        const preview = message.reply_preview;
        if (preview && typeof preview === "object" && !this.timeline.message(message.reply_to)) this.keepQuote(message.reply_to, preview);
      }
      if (added.has(message.id)) {
        this.states.set(message.id, this.stateOf(message, at));
        touched.add(message.id);
      } else if (this.mergeState(message.id, message, at)) {
        touched.add(message.id);
      }
    }
    for (const event of this.recent) if (touched.has(event.message_id) && event.id > at) this.applyToState(event);
    for (const id of [...touched]) for (const reply of this.replies.get(id) ?? []) touched.add(reply);
    for (const id of touched) {
      const held = this.timeline.message(id);
      if (!held) continue;
      const item = this.render(held);
      if (added.has(id)) Object.assign(held, item);
      else changes.push(...this.timeline.replaceMessage(item));
    }
    return { changes: compact(changes), added };
  }
  // ---- Events ----------------------------------------------------------------------
  /** Apply one room event; `fresh` is false for a copy of one held already. */
  applyEvent(raw) {
    if (!isRoomEvent(raw)) return { changes: [], fresh: false };
    const event = raw;
    const fresh = this.cursor.note(event.id);
    this.recent.push(event);
    if (this.recent.length > RECENT_EVENTS) this.recent = this.recent.slice(-RECENT_EVENTS);
    const changes = [];
    const held = this.timeline.message(event.message_id);
    if (held) {
      if (!this.applyToState(event)) return { changes, fresh };
      changes.push(...this.timeline.replaceMessage(this.render(held)));
    } else if (event.type !== "reaction" && this.quotes.has(event.message_id)) {
      this.quotes.set(event.message_id, previewOf(event.message));
    } else {
      return { changes, fresh };
    }
    if (event.type !== "reaction") changes.push(...this.rerenderReplies(event.message_id));
    return { changes, fresh };
  }
  // ---- Quotes ------------------------------------------------------------------------
  /** The quote of message `id`: held, else a preview or a fetched copy; null when unknown. */
  quote(id) {
    const held = this.timeline.message(id);
    if (held) return previewOf(held);
    return this.quotes.get(id) ?? null;
  }
  /** Originals quoted by held replies whose quote is unknown (to fetch). */
  missingQuotes() {
    const out = [];
    for (const id of this.replies.keys()) if (this.quote(id) === null) out.push(id);
    return out;
  }
  /** A fetched original (or a stand-in saying it is gone): the replies quoting it show it. */
  setQuote(id, preview) {
    if (this.timeline.message(id)) return [];
    this.quotes.set(id, preview);
    return this.rerenderReplies(id);
  }
  /** The replies quoting `id` render again (the original changed or arrived). */
  rerenderReplies(id) {
    const changes = [];
    for (const reply of this.replies.get(id) ?? []) {
      const held = this.timeline.message(reply);
      if (held) changes.push(...this.timeline.replaceMessage(this.render(held)));
    }
    return changes;
  }
  /** Our name changed (the server's spelling): `mentionsMe` is worked out again. */
  refreshMentions() {
    const changes = [];
    for (const held of this.timeline.messages()) {
      if (!held.mentions?.length) continue;
      const mine = mentionsMe(held.mentions, this.me());
      if (mine !== Boolean(held.mentionsMe)) changes.push(...this.timeline.replaceMessage({ ...held, mentionsMe: mine }));
    }
    return changes;
  }
  // ---- State -------------------------------------------------------------------------
  stateOf(message, at) {
    const state = {
      text: typeof message.message === "string" ? message.message : "",
      editedAt: typeof message.edited_at === "string" ? message.edited_at : "",
      deleted: false,
      reactions: new ReactionState(usernameIdentity)
    };
    if (Array.isArray(message.mentions)) state.mentions = message.mentions;
    if (message.deleted === true) this.tombstone(state, message);
    else state.reactions.snapshot(message.reactions, at);
    return state;
  }
  /** A held message's state from a snapshot; true when it changed. */
  mergeState(id, message, at) {
    const state = this.states.get(id);
    if (!state || state.deleted) return false;
    if (message.deleted === true) return this.tombstone(state, message);
    let changed = false;
    if (typeof message.edited_at === "string" && message.edited_at > state.editedAt) changed = this.takeEdit(state, message);
    if (Array.isArray(message.reactions) && state.reactions.snapshot(message.reactions, at)) changed = true;
    return changed;
  }
  /** Apply an event to its held message's state; true when it changed. */
  applyToState(event) {
    const state = this.states.get(event.message_id);
    if (!state || state.deleted) return false;
    if (event.type === "delete") return this.tombstone(state, event.message ?? {});
    if (event.type === "edit") {
      const message = event.message ?? {};
      if (message.deleted === true) return this.tombstone(state, message);
      if (typeof message.edited_at !== "string" || message.edited_at <= state.editedAt) return false;
      return this.takeEdit(state, message);
    }
    const mine = sameName(event.username, this.me());
    return state.reactions.event(event.emoji, event.username, Boolean(event.added), event.count, event.id, mine);
  }
  takeEdit(state, message) {
    state.editedAt = message.edited_at;
    if (typeof message.message === "string") state.text = message.message;
    if (Array.isArray(message.mentions)) state.mentions = message.mentions;
    else delete state.mentions;
    return true;
  }
  tombstone(state, message) {
    state.deleted = true;
    state.text = "";
    delete state.mentions;
    if (typeof message.deleted_at === "string") state.deletedAt = message.deleted_at;
    if (message.removed === true) state.removed = true;
    state.reactions.clear();
    return true;
  }
  /** The entry a view shows: the state's reactions, the quote, whether it mentions us. */
  render(held) {
    const state = this.states.get(held.id);
    const item = { ...held };
    if (state) {
      item.message = state.text;
      if (state.editedAt) item.edited_at = state.editedAt;
      if (state.mentions) item.mentions = state.mentions;
      else delete item.mentions;
      if (state.deleted) {
        item.deleted = true;
        if (state.deletedAt) item.deleted_at = state.deletedAt;
        if (state.removed) item.removed = true;
        delete item.reactions;
        delete item.files;
      } else {
        item.reactions = state.reactions.list();
      }
    }
    if (item.reply_to) item.quote = this.quote(item.reply_to);
    item.mentionsMe = !item.deleted && mentionsMe(item.mentions, this.me());
    return item;
  }
  indexReply(original, reply) {
    let set = this.replies.get(original);
    if (!set) {
      set = /* @__PURE__ */ new Set();
      this.replies.set(original, set);
    }
    set.add(reply);
  }
  keepQuote(id, preview) {
    const known = this.quotes.get(id);
    if (known?.deleted) return;
    this.quotes.set(id, {
      id,
      username: typeof preview.username === "string" ? preview.username : "",
      excerpt: typeof preview.excerpt === "string" ? preview.excerpt : "",
      deleted: preview.deleted === true
    });
  }
};
function compact(changes) {
  const out = [];
  const at = /* @__PURE__ */ new Map();
  for (const change of changes) {
    if (change.op === "remove") {
      out.push(change);
      continue;
    }
    const index = at.get(change.item.key);
    if (index === void 0) {
      at.set(change.item.key, out.length);
      out.push(change);
    } else {
      const first = out[index];
      out[index] = first.replaces ? { op: "upsert", item: change.item, replaces: first.replaces } : { op: "upsert", item: change.item };
    }
  }
  return out;
}

// src/history.ts
var MAX_FILL_ROUNDS = 20;
var MAX_HISTORY_PAGES = 1e3;
var MAX_BACK_PAGES = 200;
var QUOTE_FETCHES = 4;
var RoomHistory = class {
  constructor(room) {
    this.room = room;
    this.fill = null;
    this.fillTimer = null;
    this.olderKnown = null;
    this.olderLoad = null;
    this.quoteFetches = /* @__PURE__ */ new Set();
  }
  /** False once the oldest message of the room is held; null until known. */
  get hasOlder() {
    if (this.room.timeline.oldestId() === 1) return false;
    return this.olderKnown;
  }
  /** room_joined brought `count` messages: a full page means more may lie before. */
  joinedWith(count) {
    if (this.olderKnown === null && count > 0) this.olderKnown = count >= LIMITS.historyLimit;
  }
  /** The connection dropped or the room closed: no retry pending. */
  cancel() {
    if (this.fillTimer) clearTimeout(this.fillTimer);
    this.fillTimer = null;
  }
  // ---- Catch-up --------------------------------------------------------------------
  fillIfGap() {
    if (this.room.joined() && this.room.log.hasGap()) void this.fillFrom(this.room.log.position());
  }
  /**
   * Fetch the log after `since` with get_history since_id, page after page while has_more.
   * One fill runs per connection: a jump seen while it runs is covered by it, or by one more
   * round from the new position.
   */
  fillFrom(since) {
    const generation = this.room.generation();
    if (this.fill && this.fill.generation === generation) return this.fill.done;
    const fill = { generation, done: Promise.resolve() };
    fill.done = (async () => {
      try {
        let from = since;
        for (let round = 0; round < MAX_FILL_ROUNDS; round += 1) {
          const reached = await this.fetchSince(from, generation);
          if (reached === null) {
            if (generation === this.room.generation() && this.room.joined()) this.scheduleFillRetry();
            return;
          }
          if (reached <= from) {
            this.room.timeline.skipHole();
            this.room.log.cursor.skipHole();
          }
          if (!this.room.log.hasGap()) return;
          from = this.room.log.position();
        }
      } finally {
        if (this.fill === fill) this.fill = null;
      }
    })();
    this.fill = fill;
    return fill.done;
  }
  scheduleFillRetry() {
    this.cancel();
    this.fillTimer = setTimeout(() => {
      this.fillTimer = null;
      if (!this.room.closed()) this.fillIfGap();
    }, this.room.backoff(1));
  }
  /** Pages get_history since_id from `from`; the position reached, or null on failure. */
  async fetchSince(from, generation) {
    let since = from;
    for (let page = 0; page < MAX_HISTORY_PAGES; page += 1) {
      const ack = await this.room.request(EVENTS.client.GET_HISTORY, { room: this.room.name, since_id: since });
      if (ack === null || !ack.ok || generation !== this.room.generation()) return null;
      const list = Array.isArray(ack.messages) ? ack.messages : [];
      let reached = since;
      for (const m of list) {
        const n = parseId(m?.id);
        if (!Number.isNaN(n) && formatId(n) > reached) reached = formatId(n);
      }
      const cursor = typeof ack.cursor === "string" && parsePosition(ack.cursor) ? ack.cursor : null;
      if (cursor && cursor > reached) reached = cursor;
      this.room.merge(list, reached);
      for (const event of Array.isArray(ack.events) ? ack.events : []) this.room.applyEvent(event);
      if (reached > since) this.room.log.covered(reached);
      const stuck = reached <= since;
      since = reached;
      if (!ack.has_more || stuck) return since;
    }
    return since;
  }
  // ---- Older history ---------------------------------------------------------------
  /** Fetch the page of history before the oldest message held; resolves to how many were new. */
  loadOlder() {
    if (this.olderLoad) return this.olderLoad;
    const oldest = this.room.timeline.oldestId();
    if (oldest === null || oldest <= 1 || this.olderKnown === false || !this.room.joined()) return Promise.resolve(0);
    const generation = this.room.generation();
    const at = this.room.log.position();
    const load = (async () => {
      try {
        const ack = await this.room.request(EVENTS.client.GET_HISTORY, {
          room: this.room.name,
          before_id: formatId(oldest),
          limit: LIMITS.historyLimit
        });
        if (ack === null || !ack.ok || generation !== this.room.generation()) return 0;
        const list = Array.isArray(ack.messages) ? ack.messages : [];
        const before = this.room.timeline.messages().length;
        this.room.merge(list, at);
        this.olderKnown = Boolean(ack.has_more) && list.length > 0;
        return this.room.timeline.messages().length - before;
      } finally {
        this.olderLoad = null;
      }
    })();
    this.olderLoad = load;
    return load;
  }
  /** Load older history until message `id` is held (to scroll to a reply's original). */
  async loadHistoryTo(id) {
    const target = parseId(id);
    if (Number.isNaN(target)) return false;
    const key = formatId(target);
    for (let page = 0; page < MAX_BACK_PAGES; page += 1) {
      if (this.room.timeline.message(key)) return true;
      const oldest = this.room.timeline.oldestId();
      if (oldest !== null && oldest < target) return false;
      const added = await this.loadOlder();
      if (added === 0 && (this.olderKnown === false || !this.room.joined())) break;
    }
    return Boolean(this.room.timeline.message(key));
  }
  // ---- Quotes ----------------------------------------------------------------------
  /** The quote of original `id`: known, else fetched (get_history before_id id+1, limit 1). */
  async fetchQuote(id) {
    const n = parseId(id);
    if (Number.isNaN(n)) return null;
    const key = formatId(n);
    const known = this.room.log.quote(key);
    if (known) return known;
    if (!this.room.joined() || this.quoteFetches.has(key)) return null;
    this.quoteFetches.add(key);
    try {
      const ack = await this.room.request(EVENTS.client.GET_HISTORY, { room: this.room.name, before_id: formatId(n + 1), limit: 1 });
      if (ack === null || !ack.ok || this.room.closed()) return null;
      const found = (Array.isArray(ack.messages) ? ack.messages : []).find((m) => m?.id === key);
      const preview = found ? previewOf(found) : { id: key, username: "", excerpt: "", deleted: true };
      this.room.apply(this.room.log.setQuote(key, preview));
      return this.room.log.quote(key);
    } finally {
      this.quoteFetches.delete(key);
    }
  }
  /** Fetch the quotes the held replies still lack, a few at a time. */
  fetchMissingQuotes() {
    if (!this.room.joined()) return;
    for (const id of this.room.log.missingQuotes()) {
      if (this.quoteFetches.size >= QUOTE_FETCHES) return;
      if (!this.quoteFetches.has(id)) void this.fetchQuote(id);
    }
  }
};

// src/unread.ts
var NONE = formatId(0);
var ReadState = class {
  /** `me` is our name in the room as the server spells it. */
  constructor(timeline, me) {
    this.timeline = timeline;
    this.me = me;
    /** Our marker: everything up to it was seen ("000000000000" when none). */
    this.marker = NONE;
    /** The marker the server acknowledged (or told in room_joined). */
    this.serverMarker = NONE;
    this.unread = 0;
    this.mentions = 0;
    /** Messages up to this id are in the counts room_joined gave; later ones are counted here. */
    this.countedTo = 0;
    /** The divider goes after this id; null before the first join. */
    this.dividerFrom = null;
    /**
     * True when something was unread when the divider was placed: it stays while the person
     * reads on. False: they were caught up, and reading moves it along (no divider above
     * messages that arrive while they watch).
     */
    this.pinned = false;
    /** The room was shown before: with no marker, what came since is new all the same. */
    this.opened = false;
  }
  /** room_joined: the server's marker and counts, up to `newestId`. */
  joined(payload, newestId) {
    this.countedTo = newestId;
    if (typeof payload.read_id !== "string" || Number.isNaN(parseId(payload.read_id))) return;
    const server = formatId(parseId(payload.read_id));
    if (server > this.serverMarker) this.serverMarker = server;
    if (server >= this.marker) {
      this.marker = server;
      this.unread = Math.max(0, Number(payload.unread) || 0);
      this.mentions = Math.max(0, Number(payload.mentions) || 0);
      for (const m of this.timeline.messages()) if (Number(m.id) > newestId) this.countLive(m);
    }
  }
  /** A message shown for the first time: true when it counts as unread. */
  count(item) {
    if (Number(item.id) <= this.countedTo) return false;
    return this.countLive(item);
  }
  countLive(item) {
    if (item.deleted || item.id <= this.marker || this.mine(item)) return false;
    this.unread += 1;
    if (item.mentionsMe) this.mentions += 1;
    return true;
  }
  /** Seen up to `id` (default: the newest held): true when the marker moved forward. */
  mark(id) {
    const target = id ?? (this.timeline.maxId > 0 ? formatId(this.timeline.maxId) : null);
    if (target === null || Number.isNaN(parseId(target))) return false;
    const marker = formatId(parseId(target));
    if (marker <= this.marker) return false;
    this.marker = marker;
    this.recount();
    if (!this.pinned && this.dividerFrom !== null) this.dividerFrom = marker;
    return true;
  }
  /** The server acknowledged a marker. */
  acknowledged(readId) {
    if (typeof readId === "string" && !Number.isNaN(parseId(readId))) {
      const marker = formatId(parseId(readId));
      if (marker > this.serverMarker) this.serverMarker = marker;
    }
  }
  /** Another tab or device of ours read up to `readId` (read_marker): true when ours moved. */
  readElsewhere(readId) {
    this.acknowledged(readId);
    if (this.serverMarker <= this.marker) return false;
    this.marker = this.serverMarker;
    this.recount();
    if (!this.pinned && this.dividerFrom !== null) this.dividerFrom = this.marker;
    return true;
  }
  /** True when the server has an older marker than ours: mark_read is due. */
  get behind() {
    return this.serverMarker < this.marker;
  }
  /**
   * Place the divider before the first message unread now (the room is opened). A person
   * opening a room for the first time with no marker gets none: all of it is new, and a
   * line above the first message would say nothing. A room shown before with no marker
   * (it was empty then) gets one above whatever came since.
   */
  placeDivider() {
    const firstVisit = this.marker === NONE && !this.opened;
    this.dividerFrom = firstVisit ? formatId(this.timeline.maxId) : this.marker;
    this.pinned = this.firstUnreadId !== null;
    this.opened = true;
  }
  /** No divider until the room is opened again. */
  clearDivider() {
    this.dividerFrom = this.marker;
    this.pinned = false;
  }
  /** The first message by someone else after the divider's marker; null when none. */
  get firstUnreadId() {
    if (this.dividerFrom === null) return null;
    for (const m of this.timeline.messages()) if (m.id > this.dividerFrom && !m.deleted && !this.mine(m)) return m.id;
    return null;
  }
  /** The room's numbering restarted. */
  reset() {
    this.marker = NONE;
    this.serverMarker = NONE;
    this.countedTo = 0;
  }
  /** The counts from the messages held after the marker. */
  recount() {
    let unread = 0;
    let mentions = 0;
    for (const m of this.timeline.messages()) {
      if (m.id <= this.marker || m.deleted || this.mine(m)) continue;
      unread += 1;
      if (m.mentionsMe) mentions += 1;
    }
    this.unread = unread;
    this.mentions = mentions;
  }
  mine(item) {
    return sameName(item.username, this.me());
  }
};

// src/typing.ts
var TypingSender = class {
  constructor(emit, { throttleMs = TYPING.throttleMs, idleMs = TYPING.idleMs, now = () => Date.now(), canSend = () => true } = {}) {
    this.emit = emit;
    this.active = false;
    this.sentAt = 0;
    this.idleTimer = null;
    this.throttleMs = throttleMs;
    this.idleMs = idleMs;
    this.now = now;
    this.canSend = canSend;
  }
  /** True while the others were told we type. */
  get isActive() {
    return this.active;
  }
  /** The input changed; `hasText` tells whether anything (not blank) is left in it. */
  input(hasText) {
    if (!hasText) {
      this.stop();
      return;
    }
    if (!this.canSend()) return;
    const now = this.now();
    if (!this.active || now - this.sentAt >= this.throttleMs) {
      this.active = true;
      this.sentAt = now;
      this.emit(true);
    }
    this.clearTimer();
    this.idleTimer = setTimeout(() => this.stop(), this.idleMs);
  }
  /** Sent, emptied or idle: tell the others once. */
  stop() {
    this.clearTimer();
    if (!this.active) return;
    this.active = false;
    this.emit(false);
  }
  /** The connection dropped: the server forgot our state, so forget it too (no emit). */
  reset() {
    this.clearTimer();
    this.active = false;
  }
  clearTimer() {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
};
var TypingWatch = class {
  /** `onChange` runs when someone starts or stops typing (not on a mere refresh). */
  constructor(onChange, expireMs = TYPING.expireMs) {
    this.onChange = onChange;
    this.expireMs = expireMs;
    this.timers = /* @__PURE__ */ new Map();
  }
  set(username, isTyping) {
    if (!isTyping) {
      this.drop(username);
      return;
    }
    const existing = this.timers.get(username);
    if (existing) clearTimeout(existing);
    this.timers.set(
      username,
      setTimeout(() => this.drop(username), this.expireMs)
    );
    if (!existing) this.onChange(this.names());
  }
  /** Forget someone who stopped, left or sent a message. */
  drop(username) {
    const timer = this.timers.get(username);
    if (!timer) return;
    clearTimeout(timer);
    this.timers.delete(username);
    this.onChange(this.names());
  }
  /** Forget everyone (the connection dropped). */
  clear() {
    const had = this.timers.size > 0;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    if (had) this.onChange([]);
  }
  /** Who types now, in the order they started. */
  names() {
    return [...this.timers.keys()];
  }
};

// src/room.ts
function isMessage(value) {
  const m = value;
  return !!m && typeof m === "object" && !Number.isNaN(parseId(m.id)) && typeof m.username === "string" && typeof m.message === "string";
}
var RoomSession = class {
  constructor(name, host, options) {
    this.roomUsers = [];
    this.roomCount = 0;
    /** Bumped on every connect, disconnect and forced rejoin: older answers are stale. */
    this.generation = 0;
    this.joined = false;
    /** Joined and the outbox flushed: a new message may go at once without overtaking one. */
    this.sending = false;
    /** The first room_joined is merged and the divider placed: reading may move the marker. */
    this.listed = false;
    /** A view marked read while the first history was shown: done once it is listed. */
    this.earlyMark = null;
    this.closed = false;
    /** Where the current (re)join resumes from: the log position held with no hole. */
    this.resumeFrom = null;
    this.joinAttempts = 0;
    this.joinTimer = null;
    this.markInFlight = false;
    // ---- moderation: what the room's settings and review queue are now ----
    this.roomSettings = null;
    this.reviewOpen = null;
    this.name = name;
    this.host = host;
    this.options = options;
    this.currentUsername = options.username;
    this.timeline = options.timeline ?? new Timeline();
    this.outbox = new Outbox(options.outboxStore);
    this.log = new RoomLog(this.timeline, () => this.currentUsername);
    this.reads = new ReadState(this.timeline, () => this.currentUsername);
    this.history = new RoomHistory({
      name,
      log: this.log,
      timeline: this.timeline,
      request: (event, payload) => host.request(event, payload),
      backoff: (attempts) => host.backoff(attempts),
      generation: () => this.generation,
      joined: () => this.joined,
      closed: () => this.closed,
      merge: (messages, at) => this.merge(messages, at),
      applyEvent: (event) => this.applyEvent(event),
      apply: (changes) => this.apply(changes)
    });
    this.typingSender = new TypingSender((isTyping) => this.emitTyping(isTyping), {
      now: () => host.now(),
      canSend: () => this.joined && host.connected()
    });
    this.typingWatch = new TypingWatch((names) => host.typing(this, names));
  }
  // ---- State -----------------------------------------------------------------------
  get username() {
    return this.currentUsername;
  }
  get isJoined() {
    return this.joined;
  }
  get users() {
    return this.roomUsers;
  }
  get userCount() {
    return this.roomCount;
  }
  /** Others typing now, in the order they started. */
  get typingNames() {
    return this.typingWatch.names();
  }
  get isTyping() {
    return this.typingSender.isActive;
  }
  /** Protocol 2: messages after the read marker written by others. */
  get unread() {
    return this.reads.unread;
  }
  /** Protocol 2: those of them that mention us. */
  get mentions() {
    return this.reads.mentions;
  }
  /** Protocol 2: the read marker ("000000000000" when none). */
  get readId() {
    return this.reads.marker;
  }
  /**
   * Where a view puts its "new messages" divider: the first message by someone else after
   * the read marker as it was when the room was opened; null when there is none.
   */
  get firstUnreadId() {
    return this.reads.firstUnreadId;
  }
  /** The room's settings (topic, post, slow mode, pins…); null while they are the defaults. */
  get settings() {
    return this.roomSettings;
  }
  /** Staff: the items waiting in the room's review queue; null until the server said. */
  get reviewCount() {
    return this.reviewOpen;
  }
  /** The quote of message `id` as known now (held, preview or fetched), or null. */
  quote(id) {
    return this.log.quote(id);
  }
  // ---- Lifecycle -------------------------------------------------------------------
  /** Messages kept from before a reload go out again once joined. */
  restoreOutbox() {
    for (const saved of this.outbox.restore()) {
      if (this.outbox.has(saved.client_id)) continue;
      const timestamp = typeof saved.timestamp === "string" ? saved.timestamp : new Date(this.host.now()).toISOString();
      const replyTo = typeof saved.reply_to === "string" ? saved.reply_to : void 0;
      const files = filesOf(saved.files);
      if (saved.text === "" && files.length === 0) continue;
      this.queue(saved.client_id, saved.text, timestamp, replyTo, files);
    }
  }
  /** The socket (re)connected: join again. */
  connect() {
    if (this.closed) return;
    this.generation += 1;
    this.joinAttempts = 0;
    this.join();
  }
  /** The socket dropped: every answer awaited is moot; queued messages wait for the rejoin. */
  disconnect() {
    this.joined = false;
    this.sending = false;
    this.generation += 1;
    if (this.typingSender.isActive) this.host.selfTyping(this, false);
    this.typingSender.reset();
    this.typingWatch.clear();
    for (const entry of this.outbox.values()) if (entry.state === "inflight") entry.state = "queued";
    this.history.cancel();
    this.host.summaryChanged(this);
  }
  /** This room became the one shown: the divider marks what was unread then. */
  activate() {
    if (this.listed) this.reads.placeDivider();
  }
  /**
   * Place the "new messages" divider before the first message unread now: when the room is
   * opened, and when the person comes back to it (the page was hidden).
   */
  placeDivider() {
    if (this.listed) this.reads.placeDivider();
  }
  /** The room stopped being shown: our typing stops. */
  deactivate() {
    this.typingSender.stop();
  }
  /** Join again on the same connection (the server forgot us). */
  rejoin() {
    if (this.closed || !this.host.connected()) return;
    this.generation += 1;
    this.joinAttempts = 0;
    this.join();
  }
  /** Leave this room: unsent messages are dropped; tell the server and wait for its answer. */
  async leave() {
    this.typingSender.stop();
    this.close();
    this.outbox.clear();
    if (this.host.connected()) await this.goodbye();
  }
  /** Tell the server we leave (resolves on its answer or the ack timeout). */
  async goodbye() {
    const payload = this.host.protocol === 2 ? { room: this.name } : {};
    await this.host.request(EVENTS.client.LEAVE_ROOM, payload, false);
  }
  /** Stop for good: no more timers or callbacks. */
  close() {
    this.closed = true;
    this.joined = false;
    this.sending = false;
    if (this.joinTimer) clearTimeout(this.joinTimer);
    this.joinTimer = null;
    this.history.cancel();
    this.typingSender.reset();
    this.typingWatch.clear();
    this.outbox.cancelTimers();
  }
  get isClosed() {
    return this.closed;
  }
  // ---- Joining ---------------------------------------------------------------------
  join() {
    if (!this.host.connected() || this.closed) return;
    this.joined = false;
    this.sending = false;
    this.resumeFrom = this.timeline.lastId === null ? null : this.log.position();
    const generation = this.generation;
    this.joinAttempts += 1;
    const payload = { username: this.options.username, room: this.name };
    if (this.options.clientKey) payload.client_key = this.options.clientKey;
    if (this.options.invite) payload.invite = this.options.invite;
    void this.host.request(EVENTS.client.JOIN_ROOM, payload).then((ack) => {
      if (generation !== this.generation || this.closed) return;
      if (ack === null) {
        if (this.host.connected()) this.scheduleJoinRetry();
        return;
      }
      if (ack.ok) void this.onJoined(ack.username, generation);
      else this.onJoinRefused(ack);
    });
  }
  async onJoined(username, generation) {
    this.joined = true;
    this.joinAttempts = 0;
    if (typeof username === "string" && username && username !== this.currentUsername) {
      this.currentUsername = username;
      this.apply(this.log.refreshMentions());
    }
    this.host.username(this);
    this.host.joined(this);
    this.host.summaryChanged(this);
    if (this.reads.behind) void this.sendMarkRead();
    const resumeFrom = this.resumeFrom;
    this.resumeFrom = null;
    let filled = null;
    if (resumeFrom !== null) filled = this.history.fillFrom(resumeFrom);
    else if (this.log.hasGap()) filled = this.history.fillFrom(this.log.position());
    if (this.host.protocol === 2) this.history.fetchMissingQuotes();
    if (filled && !this.host.sendDuringGapFill) await filled;
    if (generation !== this.generation || !this.joined) return;
    this.flushOutbox();
  }
  onJoinRefused(ack) {
    const retryable = ack.code === "rate_limited" || ack.code === "unavailable";
    const error = this.errorOf({ message: this.host.describe(ack.code, ack.error), code: ack.code, fatal: !retryable, source: "join" });
    if (retryable) {
      this.host.error(this, error);
      this.scheduleJoinRetry();
      return;
    }
    this.close();
    this.host.refused(this, error);
  }
  scheduleJoinRetry() {
    if (this.joinTimer) clearTimeout(this.joinTimer);
    this.joinTimer = setTimeout(() => {
      this.joinTimer = null;
      if (this.host.connected() && !this.joined && !this.closed) this.join();
    }, this.host.backoff(this.joinAttempts));
  }
  // ---- Receiving -------------------------------------------------------------------
  onRoomJoined(payload) {
    if (this.closed) return;
    const list = Array.isArray(payload.messages) ? payload.messages : [];
    if (this.timeline.restartedBy(list)) {
      this.apply(this.log.reset());
      this.resumeFrom = null;
      this.reads.reset();
    }
    const first = this.timeline.lastId === null;
    if (typeof payload.username === "string" && payload.username) this.currentUsername = payload.username;
    const logId = typeof payload.log_id === "string" && parsePosition(payload.log_id) ? payload.log_id : void 0;
    const newest = list.reduce((max, m) => Math.max(max, parseId(m?.id) || 0), 0);
    if (this.host.protocol === 2) this.reads.joined(payload, Math.max(newest, parsePosition(logId)?.messageId ?? 0));
    this.merge(list, logId ?? formatId(newest));
    if (first) {
      this.log.begin(logId);
      if (this.host.isActive(this)) this.reads.placeDivider();
      this.listed = true;
    }
    const early = this.earlyMark;
    this.earlyMark = null;
    if (early) this.markRead(early.id);
    this.history.joinedWith(list.length);
    if (this.host.protocol === 2) this.setSettings(parseRoomSettings(payload.settings, this.name));
    const username = typeof payload.username === "string" ? payload.username : this.currentUsername;
    this.host.roomJoined(this, { first, messages: list.length, username });
    this.host.summaryChanged(this);
  }
  onNewMessage(message) {
    if (this.closed || !isMessage(message)) return;
    this.typingWatch.drop(message.username);
    this.merge([message], message.id, sameName(message.username, this.currentUsername));
    this.history.fillIfGap();
  }
  onRoomEvent(event) {
    if (this.closed) return;
    this.applyEvent(event);
    this.history.fillIfGap();
  }
  /** Another tab or device of ours read further: the counts follow. */
  onReadMarker(payload) {
    if (this.closed || this.host.protocol !== 2) return;
    if (this.reads.readElsewhere(payload.read_id)) this.host.summaryChanged(this);
  }
  onPresence(variant, payload) {
    if (this.closed) return;
    if (variant === "leave") this.typingWatch.drop(payload.username);
    this.apply(
      this.timeline.addNotice(variant, {
        name: payload.username,
        text: typeof payload.message === "string" ? payload.message : "",
        timestamp: new Date(this.host.now()).toISOString()
      })
    );
  }
  /** A moderator acted on someone here: a `moderation` notice in the timeline (the view words it). */
  onModeration(notice) {
    if (this.closed) return;
    const removesUs = (notice.action === "kick" || notice.action === "ban") && sameName(notice.username, this.currentUsername);
    if (!removesUs) this.apply(this.timeline.addNotice("moderation", { ...notice, timestamp: new Date(this.host.now()).toISOString() }));
    this.host.moderation(this, notice);
  }
  /** We were sanctioned here: a `sanctioned` notice in the timeline, then the session decides. */
  onSanctioned(notice) {
    if (this.closed) return;
    this.apply(this.timeline.addNotice("sanctioned", { ...notice, timestamp: new Date(this.host.now()).toISOString() }), true);
    this.host.sanctioned(this, notice);
  }
  /** `room_settings`: a moderator changed the topic, who may post, slow mode, pins or rules. */
  onRoomSettings(payload) {
    if (this.closed) return;
    const settings = parseRoomSettings(payload, this.name);
    if (settings) this.setSettings(settings);
  }
  /** `review` (staff only): the room's queue holds `open` items now. */
  onReview(count) {
    if (this.closed) return;
    this.reviewOpen = count.open;
    this.host.review(this, count);
  }
  setSettings(settings) {
    if (JSON.stringify(settings) === JSON.stringify(this.roomSettings)) return;
    this.roomSettings = settings;
    this.host.settings(this, settings);
  }
  onRoomUsers(payload) {
    if (this.closed || !Array.isArray(payload.users)) return;
    this.roomUsers = payload.users;
    this.roomCount = typeof payload.count === "number" ? payload.count : payload.users.length;
    this.host.users(this);
  }
  onUserTyping(payload) {
    if (this.closed || sameName(payload.username, this.currentUsername)) return;
    this.typingWatch.set(payload.username, Boolean(payload.is_typing));
  }
  /** Merge stored messages in their state as of `at`; any that came back from the outbox leave it. */
  merge(messages, at, scroll = false) {
    const { changes, added } = this.log.addMessages(messages, at);
    for (const message of messages) {
      const clientId = message?.client_id;
      if (typeof clientId === "string" && clientId) this.outbox.settle(clientId);
      else if (isMessage(message)) changes.push(...this.releaseHeld(message));
    }
    this.apply(changes, scroll);
    let counted = false;
    for (const change of changes) {
      if (change.op !== "upsert" || change.item.kind !== "message" || !added.has(change.item.key)) continue;
      this.host.message(this, change.item);
      if (this.host.protocol === 2) counted = this.reads.count(change.item) || counted;
    }
    if (counted) this.host.summaryChanged(this);
    if (this.host.protocol === 2) this.history.fetchMissingQuotes();
  }
  /** Apply one room event (live, from history or an ack); listeners hear of it once. */
  applyEvent(event) {
    const { changes, fresh } = this.log.applyEvent(event);
    this.apply(changes);
    if (fresh) this.host.roomEvent(this, event);
  }
  // ---- History (history.ts) ---------------------------------------------------------
  /** False once the oldest message of the room is held; null until known. */
  get hasOlder() {
    return this.history.hasOlder;
  }
  /** Fetch the page of history before the oldest message held; resolves to how many were new. */
  loadOlder() {
    return this.history.loadOlder();
  }
  /** Load older history until message `id` is held (to scroll to a reply's original). */
  loadHistoryTo(id) {
    return this.history.loadHistoryTo(id);
  }
  /** The quote of original `id`: known, else fetched. */
  fetchQuote(id) {
    return this.history.fetchQuote(id);
  }
  // ---- Edits, deletions, reactions, read marker -------------------------------------
  /** Edit one of our messages (protocol 2). */
  edit(id, text) {
    const check = validateMessage(text, this.host.messageMax);
    if (!check.ok) return Promise.resolve(check);
    return this.act(EVENTS.client.EDIT_MESSAGE, { room: this.name, id, message: check.value });
  }
  /** Delete one of our messages (protocol 2): it becomes a tombstone. */
  deleteMessage(id) {
    return this.act(EVENTS.client.DELETE_MESSAGE, { room: this.name, id });
  }
  /** Add (`add: true`), remove (`false`) or toggle (absent) our reaction (protocol 2). */
  react(id, emoji, add) {
    const payload = { room: this.name, id, emoji };
    if (typeof add === "boolean") payload.add = add;
    return this.act(EVENTS.client.REACT, payload);
  }
  /**
   * Report message `id` to the room's moderators (protocol 2; guests too). Reporting it
   * again is harmless: the server answers with the same report id.
   */
  async report(id, reason) {
    const refused = this.refuseAction();
    if (refused) return refused;
    const payload = { room: this.name, id };
    const trimmed = typeof reason === "string" ? reason.trim() : "";
    if (trimmed) payload.reason = trimmed;
    const ack = await this.host.request(EVENTS.client.REPORT_MESSAGE, payload);
    if (ack === null) return { ok: false, error: this.host.describe("unavailable", "No answer from the server; try again."), code: "unavailable" };
    if (!ack.ok) return { ok: false, error: this.host.describe(ack.code, ack.error), code: ack.code };
    return { ok: true, report: Number(ack.report) };
  }
  async act(event, payload) {
    const refused = this.refuseAction();
    if (refused) return refused;
    const generation = this.generation;
    const ack = await this.host.request(event, payload);
    if (ack === null) return { ok: false, error: this.host.describe("unavailable", "No answer from the server; try again."), code: "unavailable" };
    if (!ack.ok) {
      if (ack.code === "not_in_room" && generation === this.generation) this.rejoin();
      return { ok: false, error: this.host.describe(ack.code, ack.error), code: ack.code };
    }
    const stored = ack.event ?? null;
    if (stored) {
      this.applyEvent(stored);
      this.history.fillIfGap();
    }
    return { ok: true, event: stored };
  }
  refuseAction() {
    if (this.host.protocol !== 2) return { ok: false, error: "This needs protocol 2 (the `protocol: 2` option).", code: "invalid" };
    if (!this.joined || !this.host.connected()) return { ok: false, error: this.host.describe("unavailable", "Not connected; try again."), code: "unavailable" };
    return null;
  }
  /**
   * Everything up to `id` (default: the newest message held) has been seen: move the read
   * marker forward (never back). The counts follow at once; the server is told.
   */
  markRead(id) {
    if (this.host.protocol !== 2) return;
    if (!this.listed) {
      this.earlyMark = { id };
      return;
    }
    if (!this.reads.mark(id)) return;
    this.host.summaryChanged(this);
    void this.sendMarkRead();
  }
  /** Forget the divider (the person answered, or dismissed it). */
  clearDivider() {
    this.reads.clearDivider();
  }
  /** One mark_read at a time; a marker moved meanwhile goes next. */
  async sendMarkRead() {
    if (this.markInFlight || !this.joined || !this.reads.behind) return;
    this.markInFlight = true;
    const sent = this.reads.marker;
    let answered = false;
    try {
      const ack = await this.host.request(EVENTS.client.MARK_READ, { room: this.name, id: sent });
      if (ack?.ok) {
        this.reads.acknowledged(ack.read_id);
        answered = true;
      }
    } finally {
      this.markInFlight = false;
    }
    if (answered && this.reads.behind) void this.sendMarkRead();
  }
  // ---- Sending ---------------------------------------------------------------------
  /**
   * Queue a message (it shows at once as pending) and send it when possible. With `files`
   * (uploads for this room) the text may be empty.
   */
  send(text, replyTo, files) {
    const sharing = files !== void 0 && files.length > 0;
    if (sharing) {
      const error = filesError(files);
      if (error) return { ok: false, error };
    }
    const check = sharing && typeof text === "string" && strip(text) === "" ? { ok: true, value: "" } : validateMessage(text, this.host.messageMax);
    if (!check.ok) return check;
    let reply;
    if (replyTo !== void 0) {
      const n = parseId(replyTo);
      if (Number.isNaN(n) || n < 1) return { ok: false, error: "reply_to must be a message id" };
      reply = formatId(n);
    }
    this.typingSender.stop();
    const clientId = this.host.makeClientId();
    const entry = this.queue(clientId, check.value, new Date(this.host.now()).toISOString(), reply, sharing ? files : void 0);
    this.transmit(entry);
    return { ok: true, value: check.value, clientId };
  }
  /** Send again a message the server refused (same client_id, fresh backoff). */
  retry(clientId) {
    const entry = this.outbox.get(clientId);
    if (!entry || this.closed) return;
    if (entry.state === "inflight" && entry.generation === this.generation) return;
    entry.state = "queued";
    entry.attempts = 0;
    entry.error = void 0;
    this.apply(this.timeline.updatePending(clientId, { status: "pending", error: null, code: void 0, retryable: void 0 }));
    this.transmit(entry);
  }
  /** Give up a message that was not acknowledged. */
  discard(clientId) {
    this.outbox.settle(clientId);
    this.apply(this.timeline.removePending(clientId));
  }
  /** The input changed; `hasText` tells whether anything not blank is left in it. */
  typing(hasText) {
    if (!this.closed) this.typingSender.input(hasText);
  }
  queue(clientId, text, timestamp, replyTo, files) {
    const entry = this.outbox.add(clientId, text, timestamp, replyTo, files);
    const pending = { client_id: clientId, message: text, username: this.currentUsername, timestamp };
    if (entry.files) pending.files = entry.files;
    if (replyTo) {
      pending.reply_to = replyTo;
      pending.quote = this.log.quote(replyTo);
    }
    this.apply(this.timeline.addPending(pending), true);
    return entry;
  }
  transmit(entry) {
    if (!this.host.connected() || !this.joined || !this.sending || this.closed) return;
    if (!this.outbox.has(entry.clientId) || entry.state === "failed") return;
    if (entry.state === "inflight" && entry.generation === this.generation) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    entry.state = "inflight";
    entry.attempts += 1;
    entry.sends += 1;
    const send = entry.sends;
    const generation = this.generation;
    entry.generation = generation;
    const payload = { message: entry.text, client_id: entry.clientId };
    if (entry.files) payload.files = entry.files.map((file) => file.id);
    if (this.host.protocol === 2) {
      payload.room = this.name;
      if (entry.replyTo) payload.reply_to = entry.replyTo;
    }
    void this.host.request(EVENTS.client.SEND_MESSAGE, payload).then((ack) => this.onSendAck(entry, send, generation, ack));
  }
  onSendAck(entry, send, generation, ack) {
    if (this.closed) return;
    if (ack?.ok) {
      if (isMessage(ack.message)) this.merge([ack.message], ack.message.id);
      if (this.outbox.settle(entry.clientId)) this.apply(this.timeline.removePending(entry.clientId));
      this.history.fillIfGap();
      return;
    }
    if (!this.outbox.has(entry.clientId) || send !== entry.sends) return;
    entry.state = "queued";
    if (ack === null) {
      if (generation === this.generation && this.joined) this.scheduleResend(entry);
      return;
    }
    switch (ack.code) {
      case "unavailable":
        this.scheduleResend(entry);
        break;
      case "rate_limited":
        if (!this.host.resendRateLimited) this.fail(entry, ack, true);
        else this.scheduleResend(entry);
        break;
      case "not_in_room":
        if (generation === this.generation) this.rejoin();
        break;
      case "slow_mode":
        this.fail(entry, ack, true);
        break;
      case "held":
        this.hold(entry, ack);
        break;
      case "auto_moderated":
        this.outbox.settle(entry.clientId);
        this.fail(entry, ack, false);
        break;
      default:
        this.fail(entry, ack, false);
    }
  }
  /**
   * The server holds the message for a moderator's review: nobody sees it until approved
   * (then it comes back as a new message with its client_id and replaces this copy). It
   * leaves the outbox, so it is never sent again; the author's copy stays, marked held.
   * Not an error: nothing went wrong from the author's side.
   */
  hold(entry, ack) {
    this.outbox.settle(entry.clientId);
    const note = this.host.describe(ack.code, ack.error);
    this.apply(this.timeline.updatePending(entry.clientId, { status: "held", error: note, code: ack.code, retryable: false }));
  }
  /**
   * A moderator approved a held message: the server publishes it as ours with a new id and
   * no client_id, so the held copy with the same text gives way to it (the oldest first).
   */
  releaseHeld(message) {
    if (!sameName(message.username, this.currentUsername)) return [];
    for (const item of this.timeline.list()) {
      if (item.kind === "pending" && item.status === "held" && item.message === message.message) return this.timeline.removePending(item.client_id);
    }
    return [];
  }
  fail(entry, ack, retryable) {
    entry.state = "failed";
    entry.error = this.host.describe(ack.code, ack.error);
    this.apply(this.timeline.updatePending(entry.clientId, { status: "failed", error: entry.error, code: ack.code, retryable }));
    this.host.error(this, this.errorOf({ message: entry.error, code: ack.code, fatal: false, source: "send", clientId: entry.clientId }));
  }
  scheduleResend(entry) {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (this.outbox.has(entry.clientId)) this.transmit(entry);
    }, this.host.backoff(entry.attempts));
  }
  /** Send, in order, every queued message not acknowledged yet; later ones go at once. */
  flushOutbox() {
    this.sending = true;
    for (const entry of this.outbox.values()) this.transmit(entry);
  }
  // ---- Typing ----------------------------------------------------------------------
  emitTyping(isTyping) {
    this.host.selfTyping(this, isTyping);
    if (!this.joined || !this.host.connected()) return;
    this.host.emit(EVENTS.client.TYPING, this.host.protocol === 2 ? { room: this.name, is_typing: isTyping } : { is_typing: isTyping });
  }
  // ---- Plumbing --------------------------------------------------------------------
  /** Protocol 2 errors name their room (protocol 1 has one). */
  errorOf(error) {
    return this.host.protocol === 2 ? { ...error, room: this.name } : error;
  }
  apply(changes, scroll = false) {
    if (changes.length) this.host.timeline(this, changes, scroll);
  }
};

// src/socket.ts
var DEFAULT_SOCKET_OPTIONS = {
  path: "/socket.io/",
  autoConnect: false,
  reconnection: true,
  reconnectionDelay: 500,
  reconnectionDelayMax: 5e3,
  timeout: 1e4
};

// src/session.ts
var SESSION_ENDED = "Your session ended: log in again";
var MAX_AUTH_RETRIES = 2;
var NOT_PROTOCOL_2 = "Several rooms need protocol 2 (the `protocol: 2` option).";
var ChatSession = class {
  constructor(options) {
    this.listeners = /* @__PURE__ */ new Map();
    /** The rooms, in the order they were joined. */
    this.roomMap = /* @__PURE__ */ new Map();
    this.socket = null;
    this.state = null;
    this.everJoined = false;
    this.stopped = false;
    this.reconnectTimer = null;
    /** Token refusals since the last accepted connection. */
    this.authFailures = 0;
    this.authTimer = null;
    this.renewing = false;
    this.lastToken = null;
    this.outstanding = /* @__PURE__ */ new Set();
    /** The room the person is looking at (setFocus), and the timer repeating it. */
    this.focused = null;
    this.focusTimer = null;
    this.options = options;
    this.protocol = options.protocol === 2 ? 2 : 1;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 1e4;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 1e3;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 15e3;
    this.now = options.now ?? (() => Date.now());
    this.outboxStoreFor = options.outboxStoreFor ?? ((room) => room === options.room ? options.outboxStore : void 0);
    this.host = this.makeHost();
    this.active = this.addRoom(options.room, options.username, options.timeline, options.invite);
    if (this.protocol === 2) {
      for (const room of options.rooms ?? []) if (!this.roomMap.has(room)) this.addRoom(room, options.username);
    }
    const { server } = EVENTS;
    const route = (handler, strict = false) => (payload) => {
      const room = this.roomFor(payload?.room, strict);
      if (room && payload && typeof payload === "object") handler(room, payload);
    };
    this.handlers = {
      connect: () => this.onConnect(),
      disconnect: (reason) => this.onDisconnect(reason),
      connect_error: (error) => this.onConnectError(error),
      [server.ROOM_JOINED]: route((room, p) => room.onRoomJoined(p), true),
      [server.NEW_MESSAGE]: route((room, m) => room.onNewMessage(m), true),
      [server.USER_JOINED]: route((room, p) => typeof p.username === "string" && room.onPresence("join", p)),
      [server.USER_LEFT]: route((room, p) => typeof p.username === "string" && room.onPresence("leave", p)),
      [server.ROOM_USERS]: route((room, p) => room.onRoomUsers(p), true),
      [server.USER_TYPING]: route((room, p) => typeof p.username === "string" && room.onUserTyping(p)),
      [server.ROOM_EVENT]: route((room, e) => room.onRoomEvent(e), true),
      [server.READ_MARKER]: route((room, p) => room.onReadMarker(p), true),
      [server.ERROR]: (p) => this.onServerError(p),
      [server.CONVERSATION]: (p) => {
        const conversation = parseConversation(p);
        if (conversation) this.fire("conversation", conversation);
      },
      [server.MODERATION]: (p) => {
        const notice = parseSanctionNotice(p);
        const room = notice ? this.roomFor(notice.room, false) : void 0;
        if (notice && room) room.onModeration(notice);
      },
      [server.SANCTIONED]: (p) => {
        const notice = parseSanctionNotice(p);
        const room = notice ? this.roomFor(notice.room, false) : void 0;
        if (notice && room) room.onSanctioned(notice);
      },
      [server.ROOM_SETTINGS]: route((room, p) => room.onRoomSettings(p), true),
      [server.REVIEW]: (p) => {
        const count = parseReviewCount(p);
        const room = count ? this.roomMap.get(count.room) : void 0;
        if (count && room) room.onReview(count);
      },
      [server.ROLES]: (p) => {
        const name = p?.room;
        const room = typeof name === "string" ? this.roomMap.get(name) : void 0;
        const roles = room ? parseRolesEvent(p, room.username) : null;
        if (roles && room && !room.isClosed) this.fire("roles", roles);
      }
    };
  }
  // ---- Listening -------------------------------------------------------------------
  /** Listen to an event; returns the function that stops listening. */
  on(event, listener) {
    let set = this.listeners.get(event);
    if (!set) {
      set = /* @__PURE__ */ new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }
  fire(event, ...args) {
    for (const listener of [...this.listeners.get(event) ?? []]) listener(...args);
  }
  // ---- State (the active room's, unless a room is named) ----------------------------
  /** The protocol this session speaks. */
  get protocolVersion() {
    return this.protocol;
  }
  /** The active room's name. */
  get room() {
    return this.active.name;
  }
  get activeRoom() {
    return this.active.name;
  }
  get timeline() {
    return this.active.timeline;
  }
  get outbox() {
    return this.active.outbox;
  }
  get username() {
    return this.active.username;
  }
  get connection() {
    return this.state ?? "connecting";
  }
  get isJoined() {
    return this.active.isJoined;
  }
  get users() {
    return this.active.users;
  }
  get userCount() {
    return this.active.userCount;
  }
  /** Others typing now in the active room, in the order they started. */
  get typingNames() {
    return this.active.typingNames;
  }
  /** Every room, in the order joined, with its unread counts. */
  get rooms() {
    return [...this.roomMap.values()].map((room) => this.summary(room));
  }
  /** Total unread messages over every room (a tab title). */
  get totalUnread() {
    let total = 0;
    for (const room of this.roomMap.values()) total += room.unread;
    return total;
  }
  /** A room's settings (the active room's by default); null while they are the defaults. */
  settings(room) {
    return this.target(room)?.settings ?? null;
  }
  /** Staff: the items waiting in a room's review queue (null until the server said). */
  reviewCount(room) {
    return this.target(room)?.reviewCount ?? null;
  }
  /** One room's state (timeline, outbox, users, unread, firstUnreadId, …); undefined when not in it. */
  roomState(room) {
    return this.roomMap.get(room);
  }
  // ---- Actions ---------------------------------------------------------------------
  /** Open the connection and join the rooms; messages kept from before a reload go out again. */
  start() {
    if (this.socket || this.stopped) return;
    for (const room of this.roomMap.values()) room.restoreOutbox();
    this.setConnection("connecting");
    const socketOptions = { ...DEFAULT_SOCKET_OPTIONS, ...this.options.socketOptions };
    if (this.protocol === 2) socketOptions.auth = { ...socketOptions.auth, protocol: 2 };
    if (this.options.auth) socketOptions.auth = this.signedAuth(socketOptions.auth);
    const socket = this.options.connect(this.options.url, socketOptions);
    this.socket = socket;
    for (const [event, handler] of Object.entries(this.handlers)) socket.on(event, handler);
    if (socket.connected) this.onConnect();
    else socket.connect?.();
  }
  /**
   * Queue a message (it shows at once as pending) and send it when possible: to the active
   * room, or `room`; `replyTo` (protocol 2) answers that message; `files` (uploaded for
   * that room with uploadFile) are shared with it, and the text may be empty then. The
   * outbox keeps them: a re-send, even after a reload, shares the same files.
   */
  send(text, options = {}) {
    const room = this.target(options.room);
    if (!room) return { ok: false, error: `Not in room ${options.room}` };
    if (options.replyTo !== void 0 && this.protocol !== 2) return { ok: false, error: NOT_PROTOCOL_2 };
    return room.send(text, options.replyTo, options.files);
  }
  /** Send again a message the server refused (same client_id, fresh backoff). */
  retry(clientId) {
    this.roomOfClientId(clientId)?.retry(clientId);
  }
  /** Give up a message that was not acknowledged. */
  discard(clientId) {
    (this.roomOfClientId(clientId) ?? this.active).discard(clientId);
  }
  /** The input changed; `hasText` tells whether anything not blank is left in it (active room). */
  typing(hasText) {
    if (!this.stopped) this.active.typing(hasText);
  }
  /**
   * Protocol 2: join another room on this connection (and keep it across reconnections).
   * `activate` makes it the active room; `username` is our name there (default: the session's).
   */
  joinRoom(room, options = {}) {
    if (this.protocol !== 2) return { ok: false, error: NOT_PROTOCOL_2 };
    if (this.stopped) return { ok: false, error: "The session has ended." };
    const check = isPrivateRoom(room) ? { ok: true, value: room } : validateRoom(room);
    if (!check.ok) return check;
    let state = this.roomMap.get(check.value);
    if (!state) {
      state = this.addRoom(check.value, options.username ?? this.options.username, void 0, options.invite);
      if (this.socket?.connected) state.connect();
      this.fireRooms();
    }
    if (options.activate) this.setActiveRoom(check.value);
    return { ok: true, room: check.value };
  }
  /**
   * Protocol 2: leave one room (the connection stays, with the others). Leaving the active
   * room makes the first remaining one active. Resolves once the server answered.
   */
  async leaveRoom(room) {
    const state = this.roomMap.get(room);
    if (!state) return;
    if (this.protocol !== 2) return this.leave();
    this.roomMap.delete(room);
    if (this.active === state) {
      const next = this.roomMap.values().next().value;
      if (next) this.setActiveRoom(next.name);
    }
    this.fireRooms();
    await state.leave();
  }
  /** Protocol 2: show another joined room; no reconnection. False when not in that room. */
  setActiveRoom(room) {
    const next = this.roomMap.get(room);
    if (!next) return false;
    if (next === this.active) return true;
    this.active.deactivate();
    this.active = next;
    next.activate();
    this.fire("activeRoom", next.name);
    this.fireRooms();
    return true;
  }
  /**
   * Signed in: the person now looks at `room` (shown, the page visible and focused), or at
   * none (null). The server does not notify anyone of messages in a room they look at: the
   * previous room is told `focused: false`, the new one `true`, repeated every
   * `focusRepeatMs` (60 s) and after every (re)join. A guest session sends nothing.
   */
  setFocus(room) {
    if (this.stopped || room === this.focused) return;
    const previous = this.focused;
    this.focused = room;
    if (this.focusTimer) clearInterval(this.focusTimer);
    this.focusTimer = null;
    if (previous) this.sendFocus(previous, false);
    if (room === null) return;
    this.sendFocus(room, true);
    this.focusTimer = setInterval(() => {
      if (this.focused) this.sendFocus(this.focused, true);
    }, this.options.focusRepeatMs ?? 6e4);
  }
  /** The room setFocus named last (null: none). */
  get focusedRoom() {
    return this.focused;
  }
  sendFocus(room, focused) {
    if (!this.options.auth || !this.roomMap.get(room)?.isJoined) return;
    void this.request(EVENTS.client.FOCUS, { room, focused }, false);
  }
  /** Protocol 2: edit one of our messages. */
  edit(id, text, room) {
    return this.act(room, (r) => r.edit(id, text));
  }
  /** Protocol 2: delete one of our messages (it becomes a tombstone). */
  deleteMessage(id, room) {
    return this.act(room, (r) => r.deleteMessage(id));
  }
  /** Protocol 2: toggle our reaction `emoji` on message `id` (`add: true` adds, `false` removes). */
  react(id, emoji, options = {}) {
    return this.act(options.room, (r) => r.react(id, emoji, options.add));
  }
  /**
   * Protocol 2: report message `id` to the room's moderators, with an optional reason
   * (at most 500 characters); resolves to the server's answer (`report`: its id).
   */
  report(id, options = {}) {
    return this.act(options.room, (r) => r.report(id, options.reason));
  }
  /** Protocol 2: the messages up to `id` (default: the newest held) have been seen. */
  markRead(room, id) {
    this.target(room)?.markRead(id);
  }
  /** Protocol 2: the person is back (the page was hidden): the divider marks what is unread now. */
  placeDivider(room) {
    this.target(room)?.placeDivider();
  }
  /** Protocol 2: the id to put a "new messages" divider before, or null. */
  firstUnreadId(room) {
    return this.target(room)?.firstUnreadId ?? null;
  }
  /** The page of history before the oldest message held; resolves to how many were new. */
  loadOlder(room) {
    return this.target(room)?.loadOlder() ?? Promise.resolve(0);
  }
  /** Load history back until message `id` is held (to scroll to a reply's original). */
  loadHistoryTo(id, room) {
    return this.target(room)?.loadHistoryTo(id) ?? Promise.resolve(false);
  }
  /** Protocol 2: the quote of message `id`: from the timeline, a reply_preview, or fetched. */
  quote(id, room) {
    const state = this.target(room);
    if (!state) return Promise.resolve(null);
    const known = state.quote(id);
    return known ? Promise.resolve(known) : state.fetchQuote(id);
  }
  /**
   * Leave every room for good: unsent messages are dropped, the server is told, and the
   * connection closes once it answered (or the ack timed out).
   */
  async leave() {
    if (this.stopped) return;
    const rooms = [...this.roomMap.values()];
    for (const room of rooms) room.deactivate();
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const joined = rooms.filter((room) => room.isJoined);
    for (const room of rooms) {
      room.close();
      room.outbox.clear();
    }
    this.resolveOutstanding();
    this.setConnection("left");
    await Promise.all(joined.map((room) => room.goodbye()));
    this.closeSocket();
  }
  /** Feed a server event by hand, as if the socket delivered it (tests, custom transports). */
  receive(event, payload) {
    this.handlers[event]?.(payload);
  }
  // ---- Rooms -----------------------------------------------------------------------
  addRoom(name, username, timeline, invite) {
    const room = new RoomSession(name, this.host, {
      username,
      clientKey: this.options.clientKey,
      timeline,
      outboxStore: this.outboxStoreFor(name),
      invite
    });
    this.roomMap.set(name, room);
    if (this.socket && !this.stopped) room.restoreOutbox();
    return room;
  }
  /** The room a server event names; protocol 1 (or no room given) means the only room. */
  roomFor(name, strict) {
    if (typeof name === "string") return this.roomMap.get(name);
    if (strict) return void 0;
    return this.protocol === 1 || this.roomMap.size === 1 ? this.active : void 0;
  }
  /** The room named, or the active one; undefined once it was left. */
  target(room) {
    return this.roomMap.get(room ?? this.active.name);
  }
  roomOfClientId(clientId) {
    for (const room of this.roomMap.values()) if (room.outbox.has(clientId)) return room;
    return void 0;
  }
  act(room, run) {
    const state = this.target(room);
    if (!state) return Promise.resolve({ ok: false, error: `Not in room ${room}`, code: "not_in_room" });
    return run(state);
  }
  summary(room) {
    return {
      room: room.name,
      username: room.username,
      joined: room.isJoined,
      active: room === this.active,
      unread: room.unread,
      mentions: room.mentions,
      readId: room.readId
    };
  }
  fireRooms() {
    this.fire("rooms", this.rooms);
  }
  /** The callbacks every room uses: the socket, the options and the session's events. */
  makeHost() {
    const options = this.options;
    return {
      protocol: this.protocol,
      ackTimeoutMs: this.ackTimeoutMs,
      messageMax: options.messageMax ?? LIMITS.messageMax,
      resendRateLimited: options.resendRateLimited !== false,
      sendDuringGapFill: options.sendDuringGapFill === true,
      connected: () => !!this.socket?.connected && !this.stopped,
      request: (event, payload, keepAlive) => this.request(event, payload, keepAlive),
      emit: (event, payload) => {
        if (this.socket?.connected) this.socket.emit(event, payload);
      },
      now: this.now,
      makeClientId: options.makeClientId ?? (() => newClientId()),
      describe: options.describeError ?? ((_code, text) => text),
      backoff: (attempts) => this.backoff(attempts),
      isActive: (room) => room === this.active,
      timeline: (room, changes, scroll) => this.fire("timeline", changes, { scroll, room: room.name }),
      message: (_room, message) => this.fire("message", message),
      roomJoined: (room, info) => this.fire("roomJoined", { ...info, room: room.name }),
      username: (room) => this.fire("username", room.username, room.name),
      users: (room) => this.fire("users", room.users, room.userCount, room.name),
      typing: (room, names) => this.fire("typing", names, room.name),
      selfTyping: (room, active) => {
        if (room === this.active) this.fire("selfTyping", active);
      },
      roomEvent: (_room, event) => this.fire("roomEvent", event),
      error: (_room, error) => this.fire("error", error),
      joined: (room) => {
        if (room.name === this.focused) this.sendFocus(room.name, true);
        this.everJoined = true;
        this.setConnection("connected");
        this.fire("errorCleared");
      },
      refused: (room, error) => this.onRefused(room, error),
      summaryChanged: () => this.fireRooms(),
      moderation: (_room, notice) => this.fire("moderation", notice),
      sanctioned: (room, notice) => this.onSanctioned(room, notice),
      settings: (room, settings) => this.fire("settings", settings, room.name),
      review: (_room, count) => this.fire("review", count)
    };
  }
  /** A room's join was refused for good: with no other room left, the session stops. */
  onRefused(room, error) {
    const others = [...this.roomMap.values()].filter((r) => r !== room);
    if (this.protocol === 1 || others.length === 0) {
      this.stopWith(error);
      return;
    }
    this.roomMap.delete(room.name);
    if (this.active === room) this.setActiveRoom(others[0].name);
    this.fire("error", error);
    this.fireRooms();
  }
  /**
   * A moderator sanctioned us. A kick or ban already took us out on the server: leave the
   * room here too so no reconnection joins it again (protocol 1: the session stops, without
   * an error: the `sanctioned` listener words it).
   */
  onSanctioned(room, notice) {
    if (notice.action !== "kick" && notice.action !== "ban") {
      this.fire("sanctioned", notice);
      return;
    }
    room.close();
    room.outbox.clear();
    if (this.protocol === 1) {
      this.closeSocket();
      this.fire("sanctioned", notice);
      this.setConnection("stopped");
      return;
    }
    this.roomMap.delete(room.name);
    const next = this.roomMap.values().next().value;
    if (this.active === room && next) this.setActiveRoom(next.name);
    this.fireRooms();
    this.fire("sanctioned", notice);
  }
  // ---- Connection ------------------------------------------------------------------
  onConnect() {
    if (this.stopped) return;
    this.authFailures = 0;
    this.setConnection(this.everJoined ? "reconnecting" : "connecting");
    if (this.roomMap.size === 0) this.setConnection("connected");
    for (const room of this.roomMap.values()) room.connect();
  }
  onDisconnect(reason) {
    for (const room of this.roomMap.values()) room.disconnect();
    this.resolveOutstanding();
    if (this.stopped) return;
    this.setConnection("reconnecting");
    if (reason === "io server disconnect") {
      if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        if (!this.stopped) this.socket?.connect?.();
      }, this.backoff(1));
    }
  }
  onConnectError(error) {
    if (this.stopped) return;
    this.setConnection(this.everJoined ? "reconnecting" : "connecting");
    const code = error?.data?.code;
    if (code === "token_expired" || code === "invalid_token") this.renewToken(code);
  }
  /**
   * The handshake's auth as a function: the Socket.IO client calls it before every connection
   * (reconnections included), so each one carries the freshest access token.
   */
  signedAuth(base) {
    const auth = this.options.auth;
    return (cb) => {
      auth.token().then(
        (token) => {
          if (!token && this.lastToken) {
            this.sessionEnded();
            return;
          }
          this.lastToken = token;
          cb(token ? { ...base, token } : { ...base });
        },
        // The account server is unreachable: try the last token; a refusal comes back as token_expired.
        () => cb(this.lastToken ? { ...base, token: this.lastToken } : { ...base })
      );
    };
  }
  /**
   * The server refused the token: refresh it and connect again (the Socket.IO client does not
   * reconnect by itself after a refusal). The rooms and their outboxes stay as they are.
   */
  renewToken(code) {
    const auth = this.options.auth;
    if (!auth || this.renewing) return;
    if (this.authFailures >= MAX_AUTH_RETRIES || code === "invalid_token" && this.authFailures > 0) {
      this.sessionEnded();
      return;
    }
    this.authFailures += 1;
    this.renewing = true;
    const attempt = (tries) => {
      auth.refresh().then(
        (token) => {
          this.renewing = false;
          if (this.stopped) return;
          if (!token) {
            this.sessionEnded();
            return;
          }
          this.lastToken = token;
          this.socket?.connect?.();
        },
        () => {
          if (this.stopped) {
            this.renewing = false;
            return;
          }
          this.authTimer = setTimeout(() => {
            this.authTimer = null;
            if (!this.stopped) attempt(tries + 1);
          }, this.backoff(tries + 1));
        }
      );
    };
    attempt(0);
  }
  sessionEnded() {
    this.stopWith({ message: this.describe("invalid_token", SESSION_ENDED), code: "invalid_token", fatal: true, source: "join" });
  }
  onServerError(payload) {
    if (this.stopped || !payload) return;
    const text = typeof payload.message === "string" ? payload.message : "";
    const message = this.describe(payload.code, text);
    const named = typeof payload.room === "string" ? this.roomMap.get(payload.room) : void 0;
    const only = this.roomMap.size === 1 ? this.active : void 0;
    if (payload.code === "name_taken" && (named ?? only)) {
      const room = named ?? only;
      room.close();
      const error2 = { message, code: payload.code, fatal: true, source: "join" };
      this.onRefused(room, this.protocol === 2 ? { ...error2, room: room.name } : error2);
      return;
    }
    const error = { message, code: payload.code, fatal: false, source: "server" };
    this.fire("error", named ? { ...error, room: named.name } : error);
    if (payload.code === "not_in_room" || payload.code === "name_taken") {
      for (const room of named ? [named] : [...this.roomMap.values()]) if (room.isJoined) room.rejoin();
    }
  }
  describe(code, text) {
    return (this.options.describeError ?? ((_code, serverText) => serverText))(code, text);
  }
  stopWith(error) {
    this.fire("error", error);
    this.closeSocket();
    this.setConnection("stopped");
  }
  backoff(attempts) {
    return Math.min(this.retryBaseDelayMs * 2 ** Math.max(0, attempts - 1), this.retryMaxDelayMs);
  }
  setConnection(state) {
    if (state === this.state) return;
    this.state = state;
    this.fire("connection", state);
  }
  /** Emit with an ack; resolves null when not connected, on disconnection or timeout. */
  request(event, payload, keepAlive = true) {
    const socket = this.socket;
    if (!socket?.connected) return Promise.resolve(null);
    return new Promise((resolve) => {
      let done = false;
      const finish = (value) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.outstanding.delete(cancel);
        resolve(value && typeof value === "object" ? value : null);
      };
      const cancel = () => finish(null);
      const timer = setTimeout(cancel, this.ackTimeoutMs);
      if (!keepAlive) timer.unref?.();
      this.outstanding.add(cancel);
      if (typeof socket.timeout === "function") {
        socket.timeout(this.ackTimeoutMs).emit(event, payload, (err, ack) => finish(err ? null : ack));
      } else {
        socket.emit(event, payload, (ack) => finish(ack));
      }
    });
  }
  resolveOutstanding() {
    for (const cancel of [...this.outstanding]) cancel();
  }
  /** Stop for good: no more reconnections, timers or callbacks. */
  closeSocket() {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
    if (this.focusTimer) clearInterval(this.focusTimer);
    this.focusTimer = null;
    for (const room of this.roomMap.values()) room.close();
    this.resolveOutstanding();
    const socket = this.socket;
    if (!socket) return;
    for (const [event, handler] of Object.entries(this.handlers)) socket.off?.(event, handler);
    socket.disconnect();
  }
};

// src/avatar.ts
function fnv1a32(text) {
  let hash = FNV_OFFSET;
  for (const char of text) {
    hash ^= char.codePointAt(0);
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}
function avatarColor(username) {
  return AVATAR_COLORS[fnv1a32(username) % AVATAR_COLORS.length];
}
function avatarInitial(username) {
  const first = Array.from(username.trim())[0];
  return first ? first.toUpperCase() : "?";
}

// src/notifications.ts
var NOTIFY_LEVELS = ["all", "mentions", "none"];
function settingOf(raw) {
  const level = NOTIFY_LEVELS.includes(raw.level) ? raw.level : "mentions";
  return {
    room: String(raw.room ?? ""),
    level,
    mutedUntil: typeof raw.muted_until === "string" && raw.muted_until ? raw.muted_until : null
  };
}
var NotificationsClient = class {
  constructor(options) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    const fetcher = options.fetch ?? globalThis.fetch;
    if (!fetcher) throw new Error("NotificationsClient needs fetch (pass the `fetch` option)");
    this.fetcher = options.fetch ? fetcher : fetcher.bind(globalThis);
    this.tokens = options.tokens;
  }
  /** The VAPID application server key (base64url) for `pushManager.subscribe`; anyone may ask. */
  async key() {
    const answer = await apiRequest(this.fetcher, this.baseUrl, "GET", "/push/key");
    if (typeof answer.public_key !== "string" || !answer.public_key) throw new ApiError(502, "invalid_answer", "The server sent no key");
    return answer.public_key;
  }
  /** Register this browser's subscription for the account; resolves to the device's id. */
  async addWebPushDevice(subscription, label) {
    const body = { kind: "webpush", subscription };
    if (label) body.label = label;
    const answer = await this.authed("POST", "/push/devices", body);
    return Number(answer.id);
  }
  /** Forget a device (log-out); one already gone (404) counts as done. */
  async removeDevice(id) {
    try {
      await this.authed("DELETE", `/push/devices/${encodeURIComponent(String(id))}`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
    }
  }
  /** The rooms and conversations whose setting is not the default. */
  async settings() {
    const answer = await this.authed("GET", "/notifications");
    return Array.isArray(answer.rooms) ? answer.rooms.filter((r) => r && typeof r === "object").map(settingOf) : [];
  }
  /** Set a room's level and/or mute it for `muteMinutes` (0 lifts the mute). */
  async setRoom(room, change) {
    const body = {};
    if (change.level !== void 0) body.level = change.level;
    if (change.muteMinutes !== void 0) body.mute_minutes = Math.max(0, Math.round(change.muteMinutes));
    const answer = await this.authed("PUT", `/notifications/${encodeURIComponent(room)}`, body);
    return settingOf({ room, ...answer });
  }
  async authed(method, path, body) {
    const token = await this.tokens.accessToken();
    if (!token) throw new ApiError(401, "unauthenticated", "Log in first");
    try {
      return await apiRequest(this.fetcher, this.baseUrl, method, path, { body, token });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || !this.tokens.refreshNow) throw error;
      const fresh = await this.tokens.refreshNow();
      if (!fresh) throw error;
      return apiRequest(this.fetcher, this.baseUrl, method, path, { body, token: fresh });
    }
  }
};
export {
  AUTOMOD_ACTIONS,
  AUTOMOD_DEFAULTS,
  AUTOMOD_RULES,
  AVATAR_COLORS,
  AccountClient,
  ApiError,
  ChatSession,
  DEFAULT_SOCKET_OPTIONS,
  ERRORS,
  ERROR_CODES,
  EVENTS,
  EXCERPT_LENGTH,
  FILES_PER_MESSAGE,
  ID_DIGITS,
  LIMITS,
  LogCursor,
  MAX_NOTICES,
  ModerationClient,
  NOTIFY_LEVELS,
  NotificationsClient,
  Outbox,
  PATTERNS,
  POST_POLICIES,
  PY_WHITESPACE,
  ROOM_ERROR,
  ReactionState,
  RoomLog,
  RoomSession,
  SESSION_ENDED,
  TYPING,
  Timeline,
  TypingSender,
  TypingWatch,
  USERNAME_ERROR,
  avatarColor,
  avatarInitial,
  canNameModerators,
  codePointLength,
  defaultRandomBytes,
  excerpt,
  fetchFile,
  fileUrl,
  filesError,
  filesOf,
  fnv1a32,
  formatId,
  formatPosition,
  formatSize,
  inviteLink,
  isAbortError,
  isClientId,
  isClientKey,
  isCombining,
  isImage,
  isPrivateRoom,
  isStaff,
  laterPosition,
  mayPost,
  mentionParts,
  mentionsMe,
  messageError,
  newClientId,
  newClientKey,
  parseConversation,
  parseFileEntry,
  parseId,
  parsePosition,
  parseReviewCount,
  parseRoles,
  parseRolesEvent,
  parseRoomSettings,
  parseSanctionNotice,
  previewOf,
  roleIn,
  sameName,
  splitWords,
  strip,
  uploadFile,
  usernameIdentity,
  validateMessage,
  validateRoom,
  validateUsername,
  variantOf
};
