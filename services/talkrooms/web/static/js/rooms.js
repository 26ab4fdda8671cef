/** The login page's list of active rooms (GET /api/rooms), refreshed while visible. */

import { t, tn } from './i18n.js';
import { el } from './render.js';

const REFRESH_MS = 10000;

export class ActiveRooms {
  /** @param {(room: string) => void} onPick */
  constructor(list, status, onPick, refreshMs = REFRESH_MS) {
    this.list = list;
    this.status = status;
    this.onPick = onPick;
    this.refreshMs = refreshMs;
    this.timer = null;
    list.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-room]');
      if (button) onPick(button.dataset.room);
    });
  }

  start() {
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) this.stop();
      else this.refresh();
    });
    this.refresh();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  async refresh() {
    this.stop();
    try {
      const response = await fetch('/api/rooms?limit=20', { headers: { Accept: 'application/json' }, cache: 'no-store' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      this.render(Array.isArray(body.rooms) ? body.rooms : []);
    } catch {
      this.status.textContent = t('active_rooms_error');
    }
    if (!document.hidden) this.timer = setTimeout(() => this.refresh(), this.refreshMs);
  }

  render(rooms) {
    const items = rooms.map((room) => {
      const li = el('li');
      const button = el('button', 'room-button');
      button.type = 'button';
      button.dataset.room = room.room;
      button.append(
        el('span', 'room-button-name', `#${room.room}`),
        el('span', 'room-button-stats', t('room_stats', { users: room.users ?? 0, messages: tn('messages_count', room.messages ?? 0) })),
      );
      li.append(button);
      return li;
    });
    this.list.replaceChildren(...items);
    this.status.textContent = items.length ? '' : t('active_rooms_empty');
  }
}
