/**
 * One person in one room over Socket.IO: join (and rejoin after every reconnection),
 * history and gap filling, the outbox of messages waiting for their ack, typing.
 *
 * Delivery (docs/protocol.md): every message carries a client_id and stays in the outbox
 * until the server acknowledged it; after a reconnection the outbox is re-sent with the
 * same client_ids (the server de-duplicates), and the hole since the last contiguous id is
 * fetched with get_history since_id, so the reader sees no duplicate and no hole.
 */

import { io } from '../vendor/socket.io-client/socket.io.esm.min.js';
import { language, t, has } from './i18n.js';
import { newClientId } from './ids.js';
import { readJson, writeJson } from './storage.js';
import { formatId } from './timeline.js';
import { TypingSender, TypingWatch } from './typing.js';
import { validateMessage } from './validation.js';

const ACK_TIMEOUT_MS = 10000;
const REJOIN_DELAY_MS = 2000;
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000];
const MAX_FILL_ROUNDS = 20;

/** The server's English text, or its translation when the UI is not in English. */
function describeError(code, serverText) {
  if (language().startsWith('en') || !has(`error_${code}`)) return serverText || t(`error_${code}`);
  return t(`error_${code}`);
}

export class ChatSession {
  constructor({ username, room, clientKey, messageMax, timeline, view, connect = io }) {
    this.username = username;
    this.room = room;
    this.clientKey = clientKey;
    this.messageMax = messageMax;
    this.timeline = timeline;
    this.view = view;
    this.connect = connect;
    this.socket = null;
    this.joined = false;
    this.stopped = false;
    this.connectionSeq = 0;
    this.outbox = new Map(); // client_id -> {client_id, text, timestamp, state, attempt, retries, timer}
    this.outboxKey = `talkrooms.outbox.${room}.${username}`;
    this.filling = false;
    this.emptyNoticeKey = null;
    this.typingSender = new TypingSender((isTyping) => this._emitTyping(isTyping));
    this.typingWatch = new TypingWatch((names) => view.setTyping(names));
  }

  start() {
    this._restoreOutbox();
    this.view.setConnection('connecting');
    const socket = this.connect({
      path: '/socket.io/',
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      timeout: ACK_TIMEOUT_MS,
    });
    this.socket = socket;
    socket.on('connect', () => this._join());
    socket.on('disconnect', (reason) => this._onDisconnect(reason));
    socket.on('connect_error', () => this.view.setConnection(this.timeline.lastId === null ? 'connecting' : 'reconnecting'));
    socket.on('room_joined', (data) => this._onRoomJoined(data));
    socket.on('new_message', (message) => this._onLiveMessage(message));
    socket.on('user_joined', (data) => this._onPresenceNotice('join', data));
    socket.on('user_left', (data) => this._onPresenceNotice('leave', data));
    socket.on('room_users', (data) => this._onRoomUsers(data));
    socket.on('user_typing', (data) => this._onUserTyping(data));
    socket.on('error', (data) => this._onServerError(data));
  }

  // -- joining -----------------------------------------------------------------------

  _join() {
    if (this.stopped) return;
    const seq = ++this.connectionSeq;
    this.joined = false;
    this.view.setConnection(this.timeline.lastId === null ? 'connecting' : 'reconnecting');
    const payload = { username: this.username, room: this.room, client_key: this.clientKey };
    this.socket.timeout(ACK_TIMEOUT_MS).emit('join_room', payload, (err, ack) => {
      if (seq !== this.connectionSeq || !this.socket.connected || this.stopped) return;
      if (err) {
        this._later(() => this._rejoin(seq), REJOIN_DELAY_MS);
        return;
      }
      if (!ack?.ok) {
        this._onJoinRefused(seq, ack ?? {});
        return;
      }
      this.joined = true;
      this.username = ack.username;
      this.view.setUsername(ack.username);
      this.view.setConnection('connected');
      this.view.clearError();
      this.view.setComposerEnabled(true);
      this._flushOutbox();
    });
  }

  _rejoin(seq) {
    if (seq === this.connectionSeq && this.socket.connected && !this.joined) this._join();
  }

  _onJoinRefused(seq, ack) {
    if (ack.code === 'rate_limited' || ack.code === 'unavailable') {
      this._later(() => this._rejoin(seq), REJOIN_DELAY_MS);
      return;
    }
    // name_taken or invalid: waiting will not help; the person must pick again.
    this._stopWith(describeError(ack.code, ack.error));
  }

  _stopWith(text) {
    this.stopped = true;
    this.joined = false;
    this.view.setConnection('error');
    this.view.showError(text, { link: true });
    this.view.setComposerEnabled(false);
    this.socket.disconnect();
  }

  _onDisconnect(reason) {
    this.joined = false;
    this.connectionSeq += 1;
    this.typingSender.reset();
    this.view.setSelfTyping(false);
    this.typingWatch.clear();
    for (const entry of this.outbox.values()) {
      if (entry.state === 'inflight') entry.state = 'queued';
    }
    if (this.stopped) return;
    this.view.setConnection('reconnecting');
    // The client does not reconnect by itself after a server-side disconnect.
    if (reason === 'io server disconnect') this._later(() => this.socket.connect(), REJOIN_DELAY_MS);
  }

  _onRoomJoined(data) {
    if (data?.room !== this.room) return;
    const first = this.timeline.lastId === null;
    const messages = Array.isArray(data.messages) ? data.messages : [];
    this._merge(messages);
    if (first) {
      this.timeline.begin();
      this.view.apply(this.timeline.addNotice('welcome', { room: this.room, name: data.username }), { scroll: true });
      if (!messages.length) {
        const changes = this.timeline.addNotice('empty');
        this.emptyNoticeKey = changes[0].item.key;
        this.view.apply(changes);
      }
    } else if (this.timeline.hasGap()) {
      this._fillGap();
    }
  }

  // -- receiving -----------------------------------------------------------------------

  /** Merge stored messages into the list; any that came back from the outbox leave it. */
  _merge(messages, { scroll = false } = {}) {
    const changes = this.timeline.addMessages(messages);
    let delivered = false;
    for (const message of messages) {
      const entry = message?.client_id ? this.outbox.get(message.client_id) : undefined;
      if (entry) {
        clearTimeout(entry.timer);
        this.outbox.delete(message.client_id);
        delivered = true;
      }
    }
    if (delivered) this._saveOutbox();
    if (changes.length && this.emptyNoticeKey) {
      changes.push(...this.timeline.removeNotice(this.emptyNoticeKey));
      this.emptyNoticeKey = null;
    }
    this.view.apply(changes, { scroll });
  }

  _onLiveMessage(message) {
    if (message?.room !== this.room) return;
    this.typingWatch.drop(message.username);
    this._merge([message], { scroll: message.username === this.username });
    if (this.timeline.hasGap()) this._fillGap();
  }

  _onPresenceNotice(variant, data) {
    if (!data?.username) return;
    if (variant === 'leave') this.typingWatch.drop(data.username);
    this.view.apply(this.timeline.addNotice(variant, { name: data.username }));
  }

  _onRoomUsers(data) {
    if (data?.room !== this.room || !Array.isArray(data.users)) return;
    this.view.setUsers(data.users, data.count ?? data.users.length);
  }

  _onUserTyping(data) {
    if (!data?.username || data.username === this.username) return;
    this.typingWatch.set(data.username, Boolean(data.is_typing));
  }

  _onServerError(data) {
    if (data?.code === 'name_taken') {
      this._stopWith(describeError('name_taken', data.message));
      return;
    }
    if (data?.code === 'not_in_room' && this.socket.connected) {
      this._join();
      return;
    }
    this.view.showError(describeError(data?.code, data?.message));
  }

  /** Fetch every message after `lastId` (get_history since_id, page by page). */
  async _fillGap() {
    if (this.filling) return;
    this.filling = true;
    try {
      for (let round = 0; round < MAX_FILL_ROUNDS && this.timeline.hasGap(); round += 1) {
        const since = this.timeline.lastId;
        const highest = await this._fetchSince(since);
        if (highest === null) {
          // Not connected or the store is down: the next room_joined or message retries.
          if (this.socket.connected) this._later(() => this._fillGap(), REJOIN_DELAY_MS);
          return;
        }
        if (highest > since) this.timeline.acceptFetched(highest);
        else this.timeline.skipHole(); // the server no longer has those ids
      }
    } finally {
      this.filling = false;
    }
  }

  async _fetchSince(since) {
    let cursor = since;
    for (;;) {
      const ack = await this._call('get_history', { room: this.room, since_id: formatId(cursor) });
      if (!ack?.ok || !Array.isArray(ack.messages)) return null;
      this._merge(ack.messages);
      if (!ack.messages.length) return cursor;
      cursor = Math.max(cursor, Number(ack.messages[ack.messages.length - 1].id));
      if (!ack.has_more) return cursor;
    }
  }

  /** emit with an ack; resolves to the ack, or null when not connected / no answer. */
  _call(event, payload) {
    return new Promise((resolve) => {
      if (!this.socket.connected) {
        resolve(null);
        return;
      }
      this.socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (err, ack) => resolve(err ? null : ack));
    });
  }

  // -- sending -------------------------------------------------------------------------

  /** Queue a message; it shows at once as pending. Returns the validation result. */
  send(text) {
    const check = validateMessage(text, this.messageMax);
    if (!check.ok) return check;
    const entry = this._queue(newClientId(), check.value, new Date().toISOString());
    this.typingSender.stop();
    this._transmit(entry);
    return check;
  }

  _queue(clientId, text, timestamp) {
    const entry = { client_id: clientId, text, timestamp, state: 'queued', attempt: 0, retries: 0, timer: null };
    this.outbox.set(clientId, entry);
    this._saveOutbox();
    const pending = { client_id: clientId, message: text, username: this.username, timestamp };
    this.view.apply(this.timeline.addPending(pending), { scroll: true });
    return entry;
  }

  _transmit(entry) {
    if (!this.joined || !this.socket.connected || entry.state !== 'queued') return;
    if (!this.outbox.has(entry.client_id)) return;
    clearTimeout(entry.timer);
    entry.state = 'inflight';
    entry.attempt += 1;
    const attempt = entry.attempt;
    const payload = { message: entry.text, client_id: entry.client_id };
    // Never emit while disconnected: socket.io-client would replay the buffer before our
    // join_room on reconnection, and the server would answer not_in_room.
    this.socket.timeout(ACK_TIMEOUT_MS).emit('send_message', payload, (err, ack) => this._onSendAck(entry, attempt, err, ack));
  }

  _onSendAck(entry, attempt, err, ack) {
    if (ack?.ok && ack.message) {
      this._merge([ack.message]);
      if (this.timeline.hasGap()) this._fillGap();
      return;
    }
    if (!this.outbox.has(entry.client_id) || attempt !== entry.attempt) return;
    entry.state = 'queued';
    if (err) {
      // No answer in time, or the connection dropped: resend (same client_id) when joined.
      if (this.joined) this._retryLater(entry);
      return;
    }
    switch (ack?.code) {
      case 'unavailable':
        this._retryLater(entry);
        break;
      case 'not_in_room':
        if (this.socket.connected) this._join();
        break;
      case 'rate_limited':
        this._fail(entry, describeError('rate_limited', ack.error), true);
        break;
      default:
        this._fail(entry, describeError(ack?.code, ack?.error), false);
    }
  }

  _retryLater(entry) {
    const delay = RETRY_DELAYS_MS[Math.min(entry.retries, RETRY_DELAYS_MS.length - 1)];
    entry.retries += 1;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this._transmit(entry), delay);
  }

  _fail(entry, error, retryable) {
    entry.state = 'failed';
    this.view.apply(this.timeline.updatePending(entry.client_id, { status: 'failed', error, retryable }));
  }

  _flushOutbox() {
    for (const entry of this.outbox.values()) {
      if (entry.state === 'queued') this._transmit(entry);
    }
  }

  /** The person pressed "Retry" on a refused message: same client_id, fresh attempt. */
  retry(clientId) {
    const entry = this.outbox.get(clientId);
    if (!entry || entry.state !== 'failed') return;
    entry.state = 'queued';
    entry.retries = 0;
    this.view.apply(this.timeline.updatePending(clientId, { status: 'pending', error: null }));
    this._transmit(entry);
  }

  discard(clientId) {
    const entry = this.outbox.get(clientId);
    if (entry) clearTimeout(entry.timer);
    this.outbox.delete(clientId);
    this._saveOutbox();
    this.view.apply(this.timeline.removePending(clientId));
  }

  _saveOutbox() {
    const entries = [...this.outbox.values()].map(({ client_id, text, timestamp }) => ({ client_id, text, timestamp }));
    writeJson(this.outboxKey, entries.length ? entries : null, 'session');
  }

  /** Messages typed before a reload and never acknowledged go out again (same client_id). */
  _restoreOutbox() {
    const saved = readJson(this.outboxKey, [], 'session');
    if (!Array.isArray(saved)) return;
    for (const { client_id: clientId, text, timestamp } of saved) {
      if (typeof clientId === 'string' && typeof text === 'string' && !this.outbox.has(clientId)) {
        this._queue(clientId, text, typeof timestamp === 'string' ? timestamp : new Date().toISOString());
      }
    }
  }

  // -- typing and leaving --------------------------------------------------------------

  /** The input changed; `hasText` tells whether anything is left in it. */
  typing(hasText) {
    this.typingSender.input(hasText);
  }

  _emitTyping(isTyping) {
    this.view.setSelfTyping(isTyping);
    if (this.joined && this.socket.connected) this.socket.emit('typing', { is_typing: isTyping });
  }

  /** Leave the room for good (the Leave button); resolves once the server answered. */
  async leave() {
    this.typingSender.stop();
    if (this.joined) await this._call('leave_room', {});
    this.stopped = true;
    this.joined = false;
    for (const entry of this.outbox.values()) clearTimeout(entry.timer);
    this.outbox.clear();
    this._saveOutbox();
    this.socket.disconnect();
  }

  _later(action, delay) {
    setTimeout(() => {
      if (!this.stopped) action();
    }, delay);
  }
}
