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
    MARK_READ: "mark_read"
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
    READ_MARKER: "read_marker"
  }
};
var ERROR_CODES = ["invalid", "not_in_room", "name_taken", "rate_limited", "unavailable", "forbidden", "not_found"];
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
  message: "Message must be 1-{max} characters"
};
var PATTERNS = {
  username: /^[\p{L}\p{M}\p{N} ._-]{1,32}$/u,
  usernameNeeds: /[\p{L}\p{N}]/u,
  room: /^[a-z0-9_-]{1,32}$/,
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
  add(clientId, text, timestamp) {
    const entry = { clientId, text, timestamp, state: "queued", attempts: 0, sends: 0, generation: -1, timer: null };
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
    const saved = this.values().map(({ clientId, text, timestamp }) => ({ client_id: clientId, text, timestamp }));
    try {
      this.store.save(saved);
    } catch {
    }
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

// src/timeline.ts
var ID_DIGITS = 12;
var ID_PATTERN = /^\d{12}$/;
var MAX_NOTICES = 200;
var formatId = (n) => String(n).padStart(ID_DIGITS, "0");
function parseId(id) {
  return typeof id === "string" && /^\d{1,15}$/.test(id) ? Number(id) : NaN;
}
var pad = (n) => String(n).padStart(8, "0");
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
  addPending({ client_id, message, username, timestamp }) {
    this.sentHere.add(client_id);
    this.localSeq += 1;
    const key = `p${pad(this.localSeq)}`;
    const item = { key, kind: "pending", client_id, username, message, timestamp, status: "pending", error: null };
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

// src/session.ts
var MAX_FILL_ROUNDS = 20;
var MAX_HISTORY_PAGES = 1e3;
function isMessage(value) {
  const m = value;
  return !!m && typeof m === "object" && !Number.isNaN(parseId(m.id)) && typeof m.username === "string" && typeof m.message === "string";
}
var ChatSession = class {
  constructor(options) {
    this.listeners = /* @__PURE__ */ new Map();
    this.socket = null;
    this.state = null;
    this.roomUsers = [];
    this.roomCount = 0;
    /** Bumped on every connect, disconnect and forced rejoin: older answers are stale. */
    this.generation = 0;
    this.joined = false;
    /** Joined and the outbox flushed: a new message may go at once without overtaking one. */
    this.sending = false;
    this.everJoined = false;
    this.stopped = false;
    /** Where the current (re)join resumes from: the last id held without a hole. */
    this.resumeFrom = null;
    this.fill = null;
    this.joinAttempts = 0;
    this.joinTimer = null;
    this.fillTimer = null;
    this.reconnectTimer = null;
    this.outstanding = /* @__PURE__ */ new Set();
    this.options = options;
    this.room = options.room;
    this.currentUsername = options.username;
    this.timeline = options.timeline ?? new Timeline();
    this.outbox = new Outbox(options.outboxStore);
    this.ackTimeoutMs = options.ackTimeoutMs ?? 1e4;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 1e3;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 15e3;
    this.now = options.now ?? (() => Date.now());
    this.makeClientId = options.makeClientId ?? (() => newClientId());
    this.describe = options.describeError ?? ((_code, text) => text);
    this.typingSender = new TypingSender((isTyping) => this.emitTyping(isTyping), {
      now: this.now,
      canSend: () => this.joined && !!this.socket?.connected
    });
    this.typingWatch = new TypingWatch((names) => this.fire("typing", names));
    const { server } = EVENTS;
    this.handlers = {
      connect: () => this.onConnect(),
      disconnect: (reason) => this.onDisconnect(reason),
      connect_error: () => this.onConnectError(),
      [server.ROOM_JOINED]: (p) => this.onRoomJoined(p),
      [server.NEW_MESSAGE]: (m) => this.onNewMessage(m),
      [server.USER_JOINED]: (p) => this.onPresence("join", p),
      [server.USER_LEFT]: (p) => this.onPresence("leave", p),
      [server.ROOM_USERS]: (p) => this.onRoomUsers(p),
      [server.USER_TYPING]: (p) => this.onUserTyping(p),
      [server.ERROR]: (p) => this.onServerError(p)
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
  get username() {
    return this.currentUsername;
  }
  get connection() {
    return this.state ?? "connecting";
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
  // ---- Actions ---------------------------------------------------------------------
  /** Open the connection and join the room; messages kept from before a reload go out again. */
  start() {
    if (this.socket || this.stopped) return;
    for (const saved of this.outbox.restore()) {
      if (this.outbox.has(saved.client_id)) continue;
      const timestamp = typeof saved.timestamp === "string" ? saved.timestamp : new Date(this.now()).toISOString();
      this.queue(saved.client_id, saved.text, timestamp);
    }
    this.setConnection("connecting");
    const socket = this.options.connect(this.options.url, { ...DEFAULT_SOCKET_OPTIONS, ...this.options.socketOptions });
    this.socket = socket;
    for (const [event, handler] of Object.entries(this.handlers)) socket.on(event, handler);
    if (socket.connected) this.onConnect();
    else socket.connect?.();
  }
  /** Queue a message (it shows at once as pending) and send it when possible. */
  send(text) {
    const check = validateMessage(text, this.options.messageMax ?? LIMITS.messageMax);
    if (!check.ok) return check;
    this.typingSender.stop();
    const clientId = this.makeClientId();
    const entry = this.queue(clientId, check.value, new Date(this.now()).toISOString());
    this.transmit(entry);
    return { ok: true, value: check.value, clientId };
  }
  /** Send again a message the server refused (same client_id, fresh backoff). */
  retry(clientId) {
    const entry = this.outbox.get(clientId);
    if (!entry || this.stopped) return;
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
    if (!this.stopped) this.typingSender.input(hasText);
  }
  /**
   * Leave the room for good: unsent messages are dropped, the server is told, and the
   * connection closes once it answered (or the ack timed out).
   */
  async leave() {
    if (this.stopped) return;
    this.typingSender.stop();
    const wasJoined = this.joined;
    this.stopped = true;
    this.joined = false;
    this.sending = false;
    this.clearTimers();
    this.resolveOutstanding();
    this.outbox.clear();
    this.setConnection("left");
    if (wasJoined) await this.request(EVENTS.client.LEAVE_ROOM, {}, false);
    this.closeSocket();
  }
  /** Feed a server event by hand, as if the socket delivered it (tests, custom transports). */
  receive(event, payload) {
    this.handlers[event]?.(payload);
  }
  // ---- Joining ---------------------------------------------------------------------
  onConnect() {
    if (this.stopped) return;
    this.generation += 1;
    this.joinAttempts = 0;
    this.setConnection(this.everJoined ? "reconnecting" : "connecting");
    this.join();
  }
  join() {
    if (!this.socket || this.stopped) return;
    this.joined = false;
    this.sending = false;
    this.resumeFrom = this.timeline.lastId;
    const generation = this.generation;
    this.joinAttempts += 1;
    const payload = {
      username: this.options.username,
      room: this.room
    };
    if (this.options.clientKey) payload.client_key = this.options.clientKey;
    void this.request(EVENTS.client.JOIN_ROOM, payload).then((ack) => {
      if (generation !== this.generation || this.stopped) return;
      if (ack === null) {
        if (this.socket?.connected) this.scheduleJoinRetry();
        return;
      }
      if (ack.ok) void this.onJoined(ack.username, generation);
      else this.onJoinRefused(ack);
    });
  }
  async onJoined(username, generation) {
    this.joined = true;
    this.everJoined = true;
    this.joinAttempts = 0;
    if (typeof username === "string" && username && username !== this.currentUsername) {
      this.currentUsername = username;
    }
    this.fire("username", this.currentUsername);
    this.setConnection("connected");
    this.fire("errorCleared");
    const resumeFrom = this.resumeFrom;
    this.resumeFrom = null;
    let filled = null;
    if (resumeFrom !== null) filled = this.fillGap(resumeFrom);
    else if (this.timeline.hasGap()) filled = this.fillGap(this.timeline.lastId);
    if (filled && !this.options.sendDuringGapFill) await filled;
    if (generation !== this.generation || !this.joined) return;
    this.flushOutbox();
  }
  onJoinRefused(ack) {
    const retryable = ack.code === "rate_limited" || ack.code === "unavailable";
    const error = { message: this.describe(ack.code, ack.error), code: ack.code, fatal: !retryable, source: "join" };
    if (retryable) {
      this.fire("error", error);
      this.scheduleJoinRetry();
      return;
    }
    this.stopWith(error);
  }
  stopWith(error) {
    this.fire("error", error);
    this.closeSocket();
    this.setConnection("stopped");
  }
  scheduleJoinRetry() {
    if (this.joinTimer) clearTimeout(this.joinTimer);
    this.joinTimer = setTimeout(() => {
      this.joinTimer = null;
      if (this.socket?.connected && !this.joined && !this.stopped) this.join();
    }, this.backoff(this.joinAttempts));
  }
  /** Join again on the same connection (the server forgot us). */
  rejoin() {
    if (this.stopped || !this.socket?.connected) return;
    this.generation += 1;
    this.joinAttempts = 0;
    this.join();
  }
  onDisconnect(reason) {
    this.joined = false;
    this.sending = false;
    this.generation += 1;
    this.resolveOutstanding();
    if (this.typingSender.isActive) this.fire("selfTyping", false);
    this.typingSender.reset();
    this.typingWatch.clear();
    for (const entry of this.outbox.values()) if (entry.state === "inflight") entry.state = "queued";
    if (this.fillTimer) clearTimeout(this.fillTimer);
    this.fillTimer = null;
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
  onConnectError() {
    if (this.stopped) return;
    this.setConnection(this.everJoined ? "reconnecting" : "connecting");
  }
  // ---- Receiving -------------------------------------------------------------------
  onRoomJoined(payload) {
    if (this.stopped || !payload || payload.room !== this.room) return;
    const list = Array.isArray(payload.messages) ? payload.messages : [];
    if (this.timeline.restartedBy(list)) {
      this.apply(this.timeline.reset());
      this.resumeFrom = null;
    }
    const first = this.timeline.lastId === null;
    this.merge(list);
    if (first) this.timeline.begin();
    this.fire("roomJoined", { first, messages: list.length, username: typeof payload.username === "string" ? payload.username : this.currentUsername });
  }
  onNewMessage(message) {
    if (this.stopped || !isMessage(message) || message.room !== this.room) return;
    this.typingWatch.drop(message.username);
    this.merge([message], sameName(message.username, this.currentUsername));
    this.fillIfGap();
  }
  /** Merge stored messages; any that came back from the outbox leave it. */
  merge(messages, scroll = false) {
    const changes = this.timeline.addMessages(messages);
    for (const message of messages) {
      const clientId = message?.client_id;
      if (typeof clientId === "string" && clientId) this.outbox.settle(clientId);
    }
    this.apply(changes, scroll);
    for (const change of changes) {
      if (change.op === "upsert" && change.item.kind === "message") this.fire("message", change.item);
    }
  }
  onPresence(variant, payload) {
    if (this.stopped || !payload || typeof payload.username !== "string") return;
    if (variant === "leave") this.typingWatch.drop(payload.username);
    this.apply(
      this.timeline.addNotice(variant, {
        name: payload.username,
        text: typeof payload.message === "string" ? payload.message : "",
        timestamp: new Date(this.now()).toISOString()
      })
    );
  }
  onRoomUsers(payload) {
    if (this.stopped || !payload || payload.room !== this.room || !Array.isArray(payload.users)) return;
    this.roomUsers = payload.users;
    this.roomCount = typeof payload.count === "number" ? payload.count : payload.users.length;
    this.fire("users", this.roomUsers, this.roomCount);
  }
  onUserTyping(payload) {
    if (this.stopped || !payload || typeof payload.username !== "string") return;
    if (sameName(payload.username, this.currentUsername)) return;
    this.typingWatch.set(payload.username, Boolean(payload.is_typing));
  }
  onServerError(payload) {
    if (this.stopped || !payload) return;
    const text = typeof payload.message === "string" ? payload.message : "";
    if (payload.code === "name_taken") {
      this.stopWith({ message: this.describe(payload.code, text), code: payload.code, fatal: true, source: "join" });
      return;
    }
    this.fire("error", { message: this.describe(payload.code, text), code: payload.code, fatal: false, source: "server" });
    if (payload.code === "not_in_room" && this.joined) this.rejoin();
  }
  // ---- Gap fill --------------------------------------------------------------------
  fillIfGap() {
    if (this.joined && this.timeline.hasGap()) void this.fillGap(this.timeline.lastId);
  }
  /**
   * Fetch everything after `since` with get_history since_id, page after page while
   * has_more. One fill runs per connection: a jump seen while it runs is covered by it, or
   * by one more round from the new high-water mark.
   */
  fillGap(since) {
    if (this.fill && this.fill.generation === this.generation) return this.fill.done;
    const generation = this.generation;
    const fill = { generation, done: Promise.resolve() };
    fill.done = (async () => {
      try {
        let from = since;
        for (let round = 0; round < MAX_FILL_ROUNDS; round += 1) {
          const reached = await this.fetchSince(from, generation);
          if (reached === null) {
            if (generation === this.generation && this.joined) this.scheduleFillRetry();
            return;
          }
          if (reached > from) this.timeline.acceptFetched(reached);
          else this.timeline.skipHole();
          if (!this.timeline.hasGap()) return;
          from = this.timeline.lastId;
        }
      } finally {
        if (this.fill === fill) this.fill = null;
      }
    })();
    this.fill = fill;
    return fill.done;
  }
  scheduleFillRetry() {
    if (this.fillTimer) clearTimeout(this.fillTimer);
    this.fillTimer = setTimeout(() => {
      this.fillTimer = null;
      if (!this.stopped) this.fillIfGap();
    }, this.backoff(1));
  }
  /** Pages get_history since_id from `from`; the last id reached, or null on failure. */
  async fetchSince(from, generation) {
    let since = from;
    for (let page = 0; page < MAX_HISTORY_PAGES; page += 1) {
      const ack = await this.request(EVENTS.client.GET_HISTORY, {
        room: this.room,
        since_id: formatId(since)
      });
      if (ack === null || !ack.ok || generation !== this.generation) return null;
      const list = Array.isArray(ack.messages) ? ack.messages : [];
      this.merge(list);
      for (const m of list) since = Math.max(since, parseId(m?.id) || 0);
      if (!ack.has_more || list.length === 0) return since;
    }
    return since;
  }
  // ---- Sending ---------------------------------------------------------------------
  queue(clientId, text, timestamp) {
    const entry = this.outbox.add(clientId, text, timestamp);
    this.apply(this.timeline.addPending({ client_id: clientId, message: text, username: this.currentUsername, timestamp }), true);
    return entry;
  }
  transmit(entry) {
    if (!this.socket?.connected || !this.joined || !this.sending || this.stopped) return;
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
    void this.request(EVENTS.client.SEND_MESSAGE, {
      message: entry.text,
      client_id: entry.clientId
    }).then((ack) => this.onSendAck(entry, send, generation, ack));
  }
  onSendAck(entry, send, generation, ack) {
    if (this.stopped) return;
    if (ack?.ok) {
      if (isMessage(ack.message)) this.merge([ack.message]);
      if (this.outbox.settle(entry.clientId)) this.apply(this.timeline.removePending(entry.clientId));
      this.fillIfGap();
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
        if (this.options.resendRateLimited === false) this.fail(entry, ack, true);
        else this.scheduleResend(entry);
        break;
      case "not_in_room":
        if (generation === this.generation) this.rejoin();
        break;
      default:
        this.fail(entry, ack, false);
    }
  }
  fail(entry, ack, retryable) {
    entry.state = "failed";
    entry.error = this.describe(ack.code, ack.error);
    this.apply(this.timeline.updatePending(entry.clientId, { status: "failed", error: entry.error, code: ack.code, retryable }));
    this.fire("error", { message: entry.error, code: ack.code, fatal: false, source: "send", clientId: entry.clientId });
  }
  scheduleResend(entry) {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (this.outbox.has(entry.clientId)) this.transmit(entry);
    }, this.backoff(entry.attempts));
  }
  /** Send, in order, every queued message not acknowledged yet; later ones go at once. */
  flushOutbox() {
    this.sending = true;
    for (const entry of this.outbox.values()) this.transmit(entry);
  }
  backoff(attempts) {
    return Math.min(this.retryBaseDelayMs * 2 ** Math.max(0, attempts - 1), this.retryMaxDelayMs);
  }
  // ---- Typing ----------------------------------------------------------------------
  emitTyping(isTyping) {
    this.fire("selfTyping", isTyping);
    if (this.joined && this.socket?.connected) this.socket.emit(EVENTS.client.TYPING, { is_typing: isTyping });
  }
  // ---- Plumbing --------------------------------------------------------------------
  apply(changes, scroll = false) {
    if (changes.length) this.fire("timeline", changes, { scroll });
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
  clearTimers() {
    for (const timer of [this.joinTimer, this.fillTimer, this.reconnectTimer]) if (timer) clearTimeout(timer);
    this.joinTimer = null;
    this.fillTimer = null;
    this.reconnectTimer = null;
    this.typingSender.reset();
    this.typingWatch.clear();
    this.outbox.cancelTimers();
  }
  /** Stop for good: no more reconnections, timers or callbacks. */
  closeSocket() {
    this.stopped = true;
    this.joined = false;
    this.clearTimers();
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
export {
  AVATAR_COLORS,
  ChatSession,
  DEFAULT_SOCKET_OPTIONS,
  ERRORS,
  ERROR_CODES,
  EVENTS,
  ID_DIGITS,
  LIMITS,
  MAX_NOTICES,
  Outbox,
  PATTERNS,
  PY_WHITESPACE,
  ROOM_ERROR,
  TYPING,
  Timeline,
  TypingSender,
  TypingWatch,
  USERNAME_ERROR,
  avatarColor,
  avatarInitial,
  codePointLength,
  defaultRandomBytes,
  fnv1a32,
  formatId,
  isClientId,
  isClientKey,
  isCombining,
  messageError,
  newClientId,
  newClientKey,
  parseId,
  sameName,
  splitWords,
  strip,
  usernameIdentity,
  validateMessage,
  validateRoom,
  validateUsername
};
