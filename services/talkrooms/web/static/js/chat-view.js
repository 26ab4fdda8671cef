/**
 * The chat page's DOM: message list (sorted like the timeline), scroll position and the
 * "new messages" pill, header (count, connection state), online list, typing line, errors.
 * It renders; it never talks to the socket.
 */

import { language, t } from './i18n.js';
import { messageElement, noticeElement, userElement } from './render.js';

const STICK_TO_BOTTOM_PX = 48;

export class ChatView {
  constructor(doc, timeline, username) {
    this.timeline = timeline;
    this.username = username;
    this.nodes = new Map(); // timeline key -> <li>
    const $ = (id) => doc.getElementById(id);
    this.root = $('chat');
    this.list = $('messages');
    this.pill = $('new-messages');
    this.userCount = $('user-count');
    this.connection = $('connection-state');
    this.users = $('users');
    this.usersPanelCount = $('users-panel-count');
    this.usersToggle = $('users-toggle');
    this.typing = $('typing');
    this.selfTyping = $('self-typing');
    this.errorBox = $('chat-error');
    this.errorText = $('chat-error-text');
    this.errorLink = $('chat-error-link');
    this.input = $('message-input');
    this.sendButton = $('send-button');
    this.inputError = $('message-error');

    this.list.addEventListener('scroll', () => {
      if (this.isAtBottom()) this.pill.hidden = true;
    });
    this.pill.addEventListener('click', () => {
      this.scrollToBottom();
      this.input.focus();
    });
    this.usersToggle.addEventListener('click', () => {
      const open = this.root.classList.toggle('users-open');
      this.usersToggle.setAttribute('aria-expanded', String(open));
    });
  }

  setUsername(username) {
    this.username = username;
  }

  /** Apply timeline changes; follow the newest message unless the reader scrolled up. */
  apply(changes, { scroll = false } = {}) {
    if (!changes.length) return;
    const stick = this.isAtBottom();
    let added = false;
    for (const change of changes) {
      if (change.op === 'remove') {
        this.nodes.get(change.key)?.remove();
        this.nodes.delete(change.key);
        continue;
      }
      const { item } = change;
      const node = item.kind === 'notice' ? noticeElement(item) : messageElement(item, item.username === this.username);
      if (change.replaces) {
        this.nodes.get(change.replaces)?.remove();
        this.nodes.delete(change.replaces);
      }
      const existing = this.nodes.get(item.key);
      if (existing) {
        existing.replaceWith(node);
      } else {
        node.classList.add('enter');
        this._insert(item.key, node);
        if (!change.replaces) added = true;
      }
      this.nodes.set(item.key, node);
    }
    if (stick || scroll) this.scrollToBottom();
    else if (added) this.pill.hidden = false;
  }

  /** Insert before the first later key already on the page. */
  _insert(key, node) {
    const keys = this.timeline.keys;
    for (let i = this.timeline.indexOf(key) + 1; i > 0 && i < keys.length; i += 1) {
      const next = this.nodes.get(keys[i]);
      if (next) {
        this.list.insertBefore(node, next);
        return;
      }
    }
    this.list.append(node);
  }

  isAtBottom() {
    const { scrollHeight, scrollTop, clientHeight } = this.list;
    return scrollHeight - scrollTop - clientHeight <= STICK_TO_BOTTOM_PX;
  }

  scrollToBottom() {
    this.list.scrollTop = this.list.scrollHeight;
    this.pill.hidden = true;
  }

  /** 'connecting' | 'connected' | 'reconnecting' | 'error' */
  setConnection(state) {
    this.connection.dataset.state = state;
    this.connection.textContent = t(`state_${state}`);
    this.root.dataset.connection = state;
  }

  setUsers(users, count) {
    // The server sorts by code point; people expect "Élodie" next to "Eve", not after "Zoë".
    const collator = new Intl.Collator(language(), { sensitivity: 'base' });
    const sorted = [...users].sort((a, b) => collator.compare(a.username, b.username));
    const items = sorted.map((user) => userElement(user, user.username === this.username));
    this.users.replaceChildren(...items);
    this.userCount.textContent = t('users_count', { count });
    this.usersPanelCount.textContent = String(count);
  }

  /** Others typing (names sorted). */
  setTyping(names) {
    let text = '';
    if (names.length === 1) text = t('typing_one', { name: names[0] });
    else if (names.length === 2) text = t('typing_two', { first: names[0], second: names[1] });
    else if (names.length > 2) text = t('typing_many');
    this.typing.textContent = text;
    this.typing.classList.toggle('active', names.length > 0);
  }

  setSelfTyping(active) {
    this.selfTyping.textContent = active ? t('self_typing') : '';
  }

  /** A problem the user must act on (name taken, refused join); `link` offers the login page. */
  showError(text, { link = false } = {}) {
    this.errorText.textContent = text;
    this.errorLink.hidden = !link;
    this.errorBox.hidden = false;
  }

  clearError() {
    this.errorBox.hidden = true;
    this.errorText.textContent = '';
  }

  showInputError(text) {
    this.inputError.textContent = text;
    this.input.setAttribute('aria-invalid', text ? 'true' : 'false');
  }

  setComposerEnabled(enabled) {
    this.input.disabled = !enabled;
    this.sendButton.disabled = !enabled;
  }
}
