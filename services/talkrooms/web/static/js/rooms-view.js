/**
 * The chat page's room list (protocol 2): the rooms joined on this connection with their
 * unread and mention counts, a form to join another room, a button to leave one, and the
 * tab title with the total unread count. It renders and reports clicks; chat.js acts.
 */

import { t } from './i18n.js';
import { el } from './render.js';
import { validateRoom } from './validation.js';

export class RoomsView {
  /** `actions`: {pick(room), join(room) -> {ok, error?}, leave(room)}. */
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

  /** The rooms as the session summarises them: [{room, active, unread, mentions, joined}]. */
  render(rooms) {
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
    const active = rooms.find((room) => room.active);
    this.active = active?.room ?? null;
    const unread = rooms.reduce((sum, room) => sum + (room.active ? 0 : room.unread), 0);
    if (this.toggleBadge) {
      this.toggleBadge.textContent = unread ? String(unread) : '';
      this.toggleBadge.hidden = unread === 0;
    }
  }

  /** The tab title: the room, with the total unread count in front when there is any. */
  setTitle(room, unread) {
    const title = t('chat_title', { room });
    this.doc.title = unread > 0 ? t('title_unread', { count: unread, title }) : title;
  }
}
