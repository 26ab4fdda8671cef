/**
 * The chat page's binding of the client core (@talkrooms/client, client/ in the repository,
 * built to ../vendor/talkrooms-client/): the core joins, rejoins every room after every
 * reconnection, catches up each room's log (messages, edits, deletions, reactions), keeps
 * the outbox, typing, read markers and unread counts; this file hands it the page's socket
 * and sessionStorage, and turns its events into calls on the view (chat-view.js) for the
 * active room, and on the room list.
 *
 * Delivery (docs/protocol.md): every message carries a client_id and stays in the outbox
 * until the server acknowledged it; after a reconnection the outbox is re-sent with the
 * same client_ids (the server de-duplicates), and each room fetches its log since the last
 * position it holds without a hole, so the reader sees no duplicate and no hole.
 */

import { io } from '../vendor/socket.io-client/socket.io.esm.min.js';
import { ChatSession as CoreSession, sameName } from '../vendor/talkrooms-client/talkrooms-client.js';
import { language, t, has } from './i18n.js';
import { readJson, writeJson } from './storage.js';

/** The server's English text, or its translation when the UI is not in English. */
function describeError(code, serverText) {
  if (language().startsWith('en') || !has(`error_${code}`)) return serverText || t(`error_${code}`);
  return t(`error_${code}`);
}

export class ChatSession {
  /**
   * `rooms`: more rooms to join besides `room` (protocol 2); `onRooms(summaries)` hears the
   * room list and its unread counts change. `accounts`: the page's AccountClient when signed
   * in (the handshake carries its access token, refreshed when the server says it expired).
   * `roomLabel(room)`: how a room is named in messages ("#general", "@Bob"). `invite`: the
   * first room's invite code (from an invite link).
   */
  constructor({ username, room, clientKey, messageMax, timeline, view, connect = io, rooms = [], onRooms = () => {}, accounts = null, roomLabel = (name) => `#${name}`, invite = undefined }) {
    this.roomLabel = roomLabel;
    this.timeline = timeline;
    this.view = view;
    this.onRooms = onRooms;
    /** room -> key of its "no messages yet" notice, while it shows. */
    this.emptyNotices = new Map();
    this.core = new CoreSession({
      url: globalThis.location?.origin ?? '',
      username,
      room,
      rooms,
      invite,
      protocol: 2,
      clientKey,
      messageMax,
      timeline,
      connect,
      // WebSocket first; long-polling where a proxy or network refuses WebSockets.
      socketOptions: { transports: ['websocket', 'polling'], tryAllTransports: true },
      // Messages typed before a reload and never acknowledged go out again (same client_id).
      outboxStoreFor: (name) => {
        const key = `talkrooms.outbox.${name}.${username}`;
        return {
          load: () => readJson(key, [], 'session'),
          save: (entries) => writeJson(key, entries.length ? entries : null, 'session'),
        };
      },
      // A refused message waits for the person's "Retry" button.
      resendRateLimited: false,
      // Pending messages go out as soon as the room is joined again, while the gap fills.
      sendDuringGapFill: true,
      describeError,
      auth: accounts ? { token: () => accounts.accessToken(), refresh: () => accounts.refreshNow() } : undefined,
    });
    view.tools = true;
    view.isMe = (name) => sameName(name, this.core.username);
    this._bind();
  }

  /** Messages waiting for their ack (client_id -> entry), in the active room. */
  get outbox() {
    return this.core.outbox;
  }

  get username() {
    return this.core.username;
  }

  get room() {
    return this.core.activeRoom;
  }

  /** The rooms joined, with their unread and mention counts. */
  get rooms() {
    return this.core.rooms;
  }

  get totalUnread() {
    return this.core.totalUnread;
  }

  /** The timeline of the room shown. */
  get activeTimeline() {
    return this.core.timeline;
  }

  _bind() {
    const { core, view } = this;
    const shown = (room) => room === core.activeRoom;
    core.on('timeline', (changes, { scroll, room }) => this._apply(room, changes, scroll));
    core.on('roomJoined', ({ first, messages, username, room }) => {
      if (!first) return;
      const timeline = core.roomState(room)?.timeline;
      if (!timeline) return;
      // A private conversation is named after the other person, never by its drawn id.
      const welcome = this.roomLabel(room).startsWith('#')
        ? { room, name: username }
        : { room, name: username, text: t('welcome_private', { name: this.roomLabel(room).replace(/^@/, '') }) };
      this._apply(room, timeline.addNotice('welcome', welcome), true);
      if (!messages) {
        const changes = timeline.addNotice('empty');
        this.emptyNotices.set(room, changes[0].item.key);
        this._apply(room, changes, false);
      }
      if (shown(room)) {
        view.setDivider?.(core.firstUnreadId(room));
        view.scrollToDividerOrBottom?.();
      }
    });
    core.on('connection', (state) => {
      if (state === 'left') return;
      view.setConnection(state === 'stopped' ? 'error' : state);
      if (state === 'connected') view.setComposerEnabled(true);
    });
    core.on('username', (name, room) => shown(room) && view.setUsername(name));
    core.on('errorCleared', () => view.clearError());
    core.on('error', (error) => {
      // A refusal that closed one room of several: the others go on.
      const roomGone = error.room !== undefined && !core.roomState(error.room);
      if (error.fatal && error.code === 'invalid_token') {
        // The account's session ended (logged out elsewhere, password changed): log in again.
        view.showError(error.message, { link: true, linkText: t('log_in_again') });
        view.setComposerEnabled(false);
      } else if (error.fatal && !roomGone && error.code === 'banned') {
        // A moderator banned this person (the server's text says until when).
        view.showError(error.message, { link: true, linkText: t('choose_other_room') });
        view.setComposerEnabled(false);
      } else if (error.fatal && !roomGone) {
        // name_taken or invalid: waiting will not help; the person must pick again.
        view.showError(error.message, { link: true });
        view.setComposerEnabled(false);
      } else if (roomGone) {
        view.showError(t('error_room_refused', { room: this.roomLabel(error.room).replace(/^#/, ''), reason: error.message }));
      } else if (error.source === 'server' && error.code !== 'not_in_room') {
        view.showError(error.message);
      } else if (error.source === 'send' && (error.code === 'blocked' || error.code === 'auto_moderated')) {
        // The message stays marked "Not sent" with the reason (a block, or which rule of
        // the room refused it); say it where it is seen.
        view.showError(error.message);
      }
    });
    core.on('users', (users, count, room) => shown(room) && view.setUsers(users, count));
    core.on('typing', (names, room) => shown(room) && view.setTyping([...names].sort()));
    core.on('selfTyping', (active) => view.setSelfTyping(active));
    core.on('rooms', (rooms) => this.onRooms(rooms));
    core.on('activeRoom', (room) => this._show(room));
  }

  _apply(room, changes, scroll) {
    const key = this.emptyNotices.get(room);
    const timeline = this.core.roomState(room)?.timeline;
    if (key && timeline && changes.some((c) => c.op === 'upsert' && c.item.kind === 'message')) {
      changes = [...changes, ...timeline.removeNotice(key)];
      this.emptyNotices.delete(room);
    }
    if (room !== this.core.activeRoom) return;
    this.view.apply(changes, { scroll });
  }

  /** The active room changed: the view shows its list, people and typing. */
  _show(room) {
    const state = this.core.roomState(room);
    if (!state) return;
    const { view } = this;
    view.setUsername(state.username);
    view.showRoom?.(room, state.timeline);
    view.setUsers(state.users, state.userCount);
    view.setTyping([...state.typingNames].sort());
    view.setDivider?.(state.firstUnreadId);
    view.scrollToDividerOrBottom?.();
  }

  start() {
    this.core.start();
  }

  /**
   * Queue a message (to the active room; `replyTo` answers a message; `files`: uploaded
   * entries it shares, the text may be empty then); it shows at once as pending.
   */
  send(text, replyTo, files = []) {
    const options = replyTo ? { replyTo } : {};
    if (files.length) options.files = files;
    return this.core.send(text, options);
  }

  /** The name this page joined `room` with (a guest's uploads are signed with it). */
  usernameIn(room) {
    return this.core.roomState(room)?.username ?? this.core.username;
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

  /** Join another room and show it; `{ok: false, error}` for an invalid name. */
  joinRoom(room) {
    return this.core.joinRoom(room, { activate: true });
  }

  /** Join a private conversation's room (its unread count goes live); `activate` shows it. */
  joinConversation(room, activate = false) {
    return this.core.joinRoom(room, { activate });
  }

  /** Show another joined room (no reconnection). */
  switchRoom(room) {
    return this.core.setActiveRoom(room);
  }

  /** Leave one room; resolves once the server answered. */
  leaveRoom(room) {
    return this.core.leaveRoom(room);
  }

  edit(id, text) {
    return this.core.edit(id, text);
  }

  deleteMessage(id) {
    return this.core.deleteMessage(id);
  }

  /** Toggle our reaction on a message of the active room. */
  react(id, emoji) {
    return this.core.react(id, emoji);
  }

  /** The quote of message `id` as known now (timeline, preview or fetched), or null. */
  quote(id) {
    return this.core.roomState(this.core.activeRoom)?.quote(id) ?? null;
  }

  /** Load older history of the active room until message `id` is held. */
  loadHistoryTo(id) {
    return this.core.loadHistoryTo(id);
  }

  loadOlder() {
    return this.core.loadOlder();
  }

  /** The active room was seen up to its newest message. */
  markRead() {
    this.core.markRead();
  }

  /** The person came back to the page: the divider marks what arrived meanwhile. */
  placeDivider() {
    this.core.placeDivider();
    this.view.setDivider?.(this.core.firstUnreadId());
  }

  firstUnreadId() {
    return this.core.firstUnreadId();
  }

  /** Leave every room for good (the Leave button); resolves once the server answered. */
  leave() {
    return this.core.leave();
  }

  /** A `new_message` as if the socket delivered it. */
  _onLiveMessage(message) {
    this.core.receive('new_message', message);
  }
}
