/**
 * The chat page's room list (protocol 2): the rooms joined on this connection with their
 * unread and mention counts, a form to join another room, a button to leave one, and the
 * tab title with the total unread count; below, "Private messages": the account's
 * conversations (the other person's display name and the room's unread count) and a
 * "New message" form that opens one by username. It renders and reports clicks; chat.js acts.
 */

import { isPrivateRoom } from '../vendor/talkrooms-client/talkrooms-client.js';
import { t } from './i18n.js';
import { avatar, el } from './render.js';
import { validateRoom } from './validation.js';

export class RoomsView {
  /**
   * `actions`: {pick(room), join(room) -> {ok, error?}, leave(room), openConversation(username)
   * -> Promise (rejects with the words to show)}.
   */
  constructor(doc, actions) {
    const $ = (id) => doc.getElementById(id);
    this.doc = doc;
    this.root = $('chat');
    this.list = $('rooms');
    this.form = $('join-room-form');
    this.input = $('join-room-input');
    this.error = $('join-room-error');
    this.toggle = $('rooms-toggle');
    this.toggleBadge = $('rooms-toggle-badge');
    this.active = null;
    this.conversationList = $('conversations');
    this.guestHint = $('private-messages-guest');
    this.newForm = $('new-message-form');
    this.newInput = $('new-message-input');
    this.newError = $('new-message-error');
    /** room -> Conversation (client core's shape), newest first as the server lists them. */
    this.conversations = new Map();
    this.summaries = [];
    this.conversationList.addEventListener('click', (event) => {
      const pick = event.target.closest('button[data-room]');
      if (!pick) return;
      actions.pick(pick.dataset.room);
      this.root.classList.remove('rooms-open');
    });
    this.newForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const username = this.newInput.value.trim();
      if (!username) return;
      this.newError.textContent = '';
      try {
        await actions.openConversation(username);
        this.newInput.value = '';
        this.root.classList.remove('rooms-open');
      } catch (error) {
        this.newError.textContent = String(error?.message ?? error);
      }
    });

    this.list.addEventListener('click', (event) => {
      const leave = event.target.closest('button[data-leave-room]');
      if (leave) {
        leave.disabled = true;
        actions.leave(leave.dataset.leaveRoom);
        return;
      }
      const pick = event.target.closest('button[data-room]');
      if (pick) {
        actions.pick(pick.dataset.room);
        this.root.classList.remove('rooms-open');
      }
    });
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const check = validateRoom(this.input.value);
      if (!check.ok) {
        this.showError(t('error_room'));
        return;
      }
      const result = actions.join(check.value);
      if (!result.ok) {
        this.showError(result.error);
        return;
      }
      this.input.value = '';
      this.showError('');
      this.root.classList.remove('rooms-open');
    });
    this.input.addEventListener('input', () => {
      if (this.error.textContent) this.showError('');
    });
    this.toggle?.addEventListener('click', () => {
      const open = this.root.classList.toggle('rooms-open');
      this.toggle.setAttribute('aria-expanded', String(open));
    });
  }

  showError(text) {
    this.error.textContent = text;
    this.input.setAttribute('aria-invalid', text ? 'true' : 'false');
  }

  /** Signed in: conversations and "New message"; a guest: the hint that they need an account. */
  setSignedIn(signedIn) {
    this.guestHint.hidden = signedIn;
    this.newForm.hidden = !signedIn;
  }

  /** A conversation opened or changed (the `conversation` event, or the list at start). */
  setConversation(conversation) {
    this.conversations.set(conversation.room, conversation);
    this.render(this.summaries);
  }

  /** How the page names a room: "#general", or the other person of a conversation. */
  label(room) {
    if (!isPrivateRoom(room)) return `#${room}`;
    const other = this.conversations.get(room)?.with;
    return other ? `@${other.displayName || other.username}` : t('private_conversation');
  }

  /** The rooms as the session summarises them: [{room, active, unread, mentions, joined}]. */
  render(rooms) {
    this.summaries = rooms;
    this._renderConversations(rooms);
    rooms = rooms.filter((room) => !isPrivateRoom(room.room));
    const items = rooms.map((room) => {
      const li = el('li', `room-item${room.active ? ' active' : ''}${room.joined ? '' : ' joining'}`);
      li.dataset.roomItem = room.room;
      const pick = el('button', 'room-link');
      pick.type = 'button';
      pick.dataset.room = room.room;
      if (room.active) pick.setAttribute('aria-current', 'true');
      pick.append(el('span', 'room-link-name', `#${room.room}`));
      if (room.mentions > 0 && !room.active) {
        const badge = el('span', 'mention-badge', `@${room.mentions}`);
        badge.title = t('mentions_count', { count: room.mentions });
        pick.append(badge);
      }
      if (room.unread > 0 && !room.active) {
        const badge = el('span', 'unread-badge', String(room.unread));
        badge.title = t('unread_count', { count: room.unread });
        pick.append(badge);
      }
      const leave = el('button', 'room-leave', '×');
      leave.type = 'button';
      leave.dataset.leaveRoom = room.room;
      leave.title = t('leave_room', { room: room.room });
      leave.setAttribute('aria-label', t('leave_room', { room: room.room }));
      li.append(pick, leave);
      return li;
    });
    this.list.replaceChildren(...items);
    const active = this.summaries.find((room) => room.active);
    this.active = active?.room ?? null;
    const unread = this.summaries.reduce((sum, room) => sum + (room.active ? 0 : room.unread), 0);
    if (this.toggleBadge) {
      this.toggleBadge.textContent = unread ? String(unread) : '';
      this.toggleBadge.hidden = unread === 0;
    }
  }

  /** Every conversation, newest first, with the counts of its room when it is joined. */
  _renderConversations(summaries) {
    const byRoom = new Map(summaries.map((summary) => [summary.room, summary]));
    const items = [...this.conversations.values()].map((conversation) => {
      const summary = byRoom.get(conversation.room);
      const active = Boolean(summary?.active);
      const li = el('li', `room-item conversation-item${active ? ' active' : ''}${summary?.joined ? '' : ' joining'}${conversation.canWrite ? '' : ' blocked'}`);
      li.dataset.roomItem = conversation.room;
      li.dataset.with = conversation.with.username;
      const pick = el('button', 'room-link');
      pick.type = 'button';
      pick.dataset.room = conversation.room;
      if (active) pick.setAttribute('aria-current', 'true');
      const name = conversation.with.displayName || conversation.with.username;
      const small = avatar(name, conversation.with.color);
      small.classList.add('conversation-avatar');
      pick.append(small, el('span', 'room-link-name', name));
      pick.title = `@${conversation.with.username}`;
      const unread = summary?.unread ?? 0;
      if (unread > 0 && !active) {
        const badge = el('span', 'unread-badge', String(unread));
        badge.title = t('unread_count', { count: unread });
        pick.append(badge);
      }
      li.append(pick);
      return li;
    });
    this.conversationList.replaceChildren(...items);
  }

  /** The tab title: the room, with the total unread count in front when there is any. */
  setTitle(room, unread) {
    const title = isPrivateRoom(room) ? t('chat_title_private', { name: this.label(room) }) : t('chat_title', { room });
    this.doc.title = unread > 0 ? t('title_unread', { count: unread, title }) : title;
  }
}
