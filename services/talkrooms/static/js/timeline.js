/**
 * What the message list holds, in order: stored messages (sorted by id), messages of this
 * page still waiting for their ack, and local notices (welcome, joins, leaves).
 *
 * Pure (no DOM, no socket): merges by id and client_id so a message shows exactly once,
 * and tracks `lastId`, the id up to which the list has no hole, so the session knows
 * when to fetch a gap with get_history since_id. Every change is returned as a list of
 * {op: 'upsert', item, replaces?} / {op: 'remove', key} for the view to apply.
 */

export const ID_DIGITS = 12;
const ID_PATTERN = /^\d{12}$/;

export const formatId = (n) => String(n).padStart(ID_DIGITS, '0');
const pad = (n) => String(n).padStart(8, '0');

export class Timeline {
  constructor() {
    this.items = new Map(); // key -> item
    this.order = []; // keys, sorted as strings
    this.ids = new Set(); // ids of stored messages held
    this.pending = new Map(); // client_id -> key of a message not acknowledged yet
    this.sentHere = new Set(); // client_ids this page sent (their messages show "sent")
    this.lastId = null; // number; null until the first room_joined
    this.maxId = 0;
    this.localSeq = 0;
  }

  /** Keys sort as strings: ids (12 digits) < notices ("<id>~n") < pending ("p…"). */
  get keys() {
    return this.order;
  }

  get(key) {
    return this.items.get(key);
  }

  indexOf(key) {
    const index = this._search(key);
    return this.order[index] === key ? index : -1;
  }

  /** The stored messages, oldest first. */
  messages() {
    return this.order.filter((key) => this.items.get(key).kind === 'message').map((key) => this.items.get(key));
  }

  /** Merge stored messages (history, live, acks); returns the changes. */
  addMessages(messages) {
    const changes = [];
    for (const message of messages) {
      if (!message || typeof message.id !== 'string' || !ID_PATTERN.test(message.id)) continue;
      const pendingKey = message.client_id ? this.pending.get(message.client_id) : undefined;
      if (this.ids.has(message.id)) {
        if (pendingKey) changes.push(this._remove(pendingKey));
        if (message.client_id) this.pending.delete(message.client_id);
        continue;
      }
      const item = {
        key: message.id,
        kind: 'message',
        id: message.id,
        username: String(message.username ?? ''),
        message: String(message.message ?? ''),
        timestamp: message.timestamp,
        client_id: message.client_id,
        status: message.client_id && this.sentHere.has(message.client_id) ? 'sent' : null,
      };
      if (pendingKey) {
        this._drop(pendingKey);
        this.pending.delete(message.client_id);
      }
      this._put(item);
      this.ids.add(message.id);
      this.maxId = Math.max(this.maxId, Number(message.id));
      changes.push(pendingKey ? { op: 'upsert', item, replaces: pendingKey } : { op: 'upsert', item });
    }
    this._advance();
    return changes;
  }

  /** The first room_joined: from here on every id after `lastId` is expected. */
  begin() {
    if (this.lastId === null) this.lastId = this.maxId;
    this._advance();
  }

  /** True when an id above `lastId` is held but one between is missing. */
  hasGap() {
    return this.lastId !== null && this.maxId > this.lastId;
  }

  /** get_history since_id answered up to `id` (number): nothing before it is missing. */
  acceptFetched(id) {
    if (this.lastId === null) return;
    this.lastId = Math.max(this.lastId, id);
    this._advance();
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
    this._advance();
  }

  /** A message this page sends, shown at the bottom until its ack. */
  addPending({ client_id, message, username, timestamp }) {
    this.sentHere.add(client_id);
    const key = `p${pad(++this.localSeq)}`;
    const item = { key, kind: 'pending', client_id, username, message, timestamp, status: 'pending', error: null };
    this._put(item);
    this.pending.set(client_id, key);
    return [{ op: 'upsert', item }];
  }

  /** Change the state of a pending message ('pending' | 'failed', with an error). */
  updatePending(client_id, patch) {
    const key = this.pending.get(client_id);
    if (!key) return [];
    const item = { ...this.items.get(key), ...patch };
    this.items.set(key, item);
    return [{ op: 'upsert', item }];
  }

  removePending(client_id) {
    const key = this.pending.get(client_id);
    if (!key) return [];
    this.pending.delete(client_id);
    return [this._remove(key)];
  }

  isPending(client_id) {
    return this.pending.has(client_id);
  }

  /** A local notice placed after the newest message held now; the view words it. */
  addNotice(variant, params = {}) {
    const key = `${formatId(this.maxId)}~${pad(++this.localSeq)}`;
    const item = { key, kind: 'notice', variant, params };
    this._put(item);
    return [{ op: 'upsert', item }];
  }

  removeNotice(key) {
    return this.items.has(key) ? [this._remove(key)] : [];
  }

  _advance() {
    if (this.lastId === null) return;
    while (this.ids.has(formatId(this.lastId + 1))) this.lastId += 1;
  }

  _search(key) {
    let low = 0;
    let high = this.order.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.order[mid] < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  _put(item) {
    const index = this._search(item.key);
    if (this.order[index] !== item.key) this.order.splice(index, 0, item.key);
    this.items.set(item.key, item);
  }

  _drop(key) {
    const index = this.indexOf(key);
    if (index >= 0) this.order.splice(index, 1);
    this.items.delete(key);
  }

  _remove(key) {
    this._drop(key);
    return { op: 'remove', key };
  }
}
