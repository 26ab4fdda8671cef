/**
 * The chat page's binding of the client core (@talkrooms/client, client/ in the repository,
 * built to ../vendor/talkrooms-client/): the core joins, rejoins after every reconnection,
 * fills gaps, keeps the outbox and the typing state; this file hands it the page's socket
 * and sessionStorage, and turns its events into calls on the view (chat-view.js).
 *
 * Delivery (docs/protocol.md): every message carries a client_id and stays in the outbox
 * until the server acknowledged it; after a reconnection the outbox is re-sent with the
 * same client_ids (the server de-duplicates), and the hole since the last contiguous id is
 * fetched with get_history since_id, so the reader sees no duplicate and no hole.
 */

import { io } from '../vendor/socket.io-client/socket.io.esm.min.js';
import { ChatSession as CoreSession } from '../vendor/talkrooms-client/talkrooms-client.js';
import { language, t, has } from './i18n.js';
import { readJson, writeJson } from './storage.js';

/** The server's English text, or its translation when the UI is not in English. */
function describeError(code, serverText) {
  if (language().startsWith('en') || !has(`error_${code}`)) return serverText || t(`error_${code}`);
  return t(`error_${code}`);
}

export class ChatSession {
  constructor({ username, room, clientKey, messageMax, timeline, view, connect = io }) {
    this.room = room;
    this.timeline = timeline;
    this.view = view;
    this.emptyNoticeKey = null;
    const outboxKey = `talkrooms.outbox.${room}.${username}`;
    this.core = new CoreSession({
      url: globalThis.location?.origin ?? '',
      username,
      room,
      clientKey,
      messageMax,
      timeline,
      connect,
      // WebSocket first; long-polling where a proxy or network refuses WebSockets.
      socketOptions: { transports: ['websocket', 'polling'], tryAllTransports: true },
      // Messages typed before a reload and never acknowledged go out again (same client_id).
      outboxStore: {
        load: () => readJson(outboxKey, [], 'session'),
        save: (entries) => writeJson(outboxKey, entries.length ? entries : null, 'session'),
      },
      // A refused message waits for the person's "Retry" button.
      resendRateLimited: false,
      // Pending messages go out as soon as the room is joined again, while the gap fills.
      sendDuringGapFill: true,
      describeError,
    });
    this._bind();
  }

  /** Messages waiting for their ack (client_id -> entry). */
  get outbox() {
    return this.core.outbox;
  }

  get username() {
    return this.core.username;
  }

  _bind() {
    const { core, view } = this;
    core.on('timeline', (changes, { scroll }) => this._apply(changes, scroll));
    core.on('roomJoined', ({ first, messages, username }) => {
      if (!first) return;
      view.apply(this.timeline.addNotice('welcome', { room: this.room, name: username }), { scroll: true });
      if (!messages) {
        const changes = this.timeline.addNotice('empty');
        this.emptyNoticeKey = changes[0].item.key;
        view.apply(changes);
      }
    });
    core.on('connection', (state) => {
      if (state === 'left') return;
      view.setConnection(state === 'stopped' ? 'error' : state);
      if (state === 'connected') view.setComposerEnabled(true);
    });
    core.on('username', (name) => view.setUsername(name));
    core.on('errorCleared', () => view.clearError());
    core.on('error', (error) => {
      if (error.fatal) {
        // name_taken or invalid: waiting will not help; the person must pick again.
        view.showError(error.message, { link: true });
        view.setComposerEnabled(false);
      } else if (error.source === 'server' && error.code !== 'not_in_room') {
        view.showError(error.message);
      }
    });
    core.on('users', (users, count) => view.setUsers(users, count));
    core.on('typing', (names) => view.setTyping([...names].sort()));
    core.on('selfTyping', (active) => view.setSelfTyping(active));
  }

  _apply(changes, scroll) {
    if (this.emptyNoticeKey && changes.some((c) => c.op === 'upsert' && c.item.kind === 'message')) {
      changes = [...changes, ...this.timeline.removeNotice(this.emptyNoticeKey)];
      this.emptyNoticeKey = null;
    }
    this.view.apply(changes, { scroll });
  }

  start() {
    this.core.start();
  }

  /** Queue a message; it shows at once as pending. Returns the validation result. */
  send(text) {
    return this.core.send(text);
  }

  /** The person pressed "Retry" on a refused message: same client_id, fresh attempt. */
  retry(clientId) {
    this.core.retry(clientId);
  }

  discard(clientId) {
    this.core.discard(clientId);
  }

  /** The input changed; `hasText` tells whether anything is left in it. */
  typing(hasText) {
    this.core.typing(hasText);
  }

  /** Leave the room for good (the Leave button); resolves once the server answered. */
  leave() {
    return this.core.leave();
  }

  /** A `new_message` as if the socket delivered it. */
  _onLiveMessage(message) {
    this.core.receive('new_message', message);
  }
}
