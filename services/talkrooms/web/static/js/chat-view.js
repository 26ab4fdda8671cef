/**
 * The chat page's DOM: the active room's message list (sorted like its timeline), scroll
 * position, the "new messages" pill and divider, header (room, count, connection state),
 * online list, typing line, errors. It renders; it never talks to the socket. Switching
 * rooms renders the other room's timeline in the same list.
 */

import { language, t } from './i18n.js';
import { messageElement, noticeElement, userElement, el } from './render.js';

const STICK_TO_BOTTOM_PX = 48;
/** How close to the top a scroll asks for older history. */
const LOAD_OLDER_PX = 80;

export class ChatView {
  constructor(doc, timeline, username) {
    this.doc = doc;
    this.timeline = timeline;
    this.username = username;
    this.nodes = new Map(); // timeline key -> <li>
    /** Protocol 2 features (message menu) once the session says so. */
    this.tools = false;
    /** Our name in the active room: mentions of it are highlighted. */
    this.isMe = (name) => name === this.username;
    /** The message being edited: its editor moves into every new rendering of it. */
    this.editing = null; // { id, node }
    this.dividerId = null;
    this.divider = el('li', 'unread-divider', t('unread_divider'));
    this.divider.setAttribute('role', 'separator');
    const $ = (id) => doc.getElementById(id);
    this.root = $('chat');
    this.list = $('messages');
    this.pill = $('new-messages');
    this.roomName = doc.querySelector('.room-name');
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
    this.attachButton = $('attach-button');
    this.inputError = $('message-error');
    /** Called when the reader reached the newest message or the top (set by chat.js). */
    this.onBottom = () => {};
    this.onTop = () => {};
    /** A name was clicked (online list or a message's author): chat.js opens the profile card. */
    this.onProfile = () => {};
    /** The FilesView that renders shared files (set by chat.js). */
    this.files = null;
    /** How the header names a room ("#general"; a private conversation: the other person). */
    this.roomLabel = (room) => `#${room}`;
    /** Accounts' chosen colours and display names, by username (from the online lists). */
    this.people = new Map();
    /** The shown room's online list, as the server sent it, and its count. */
    this.roomUsers = [];
    this.roomUserCount = 0;
    /** Moderation (set by moderation.js): a person's role badge, and the staff's tools for them. */
    this.roleOf = () => null;
    this.userTools = () => null;
    this.errorLinkText = this.errorLink.textContent;
    this.noticeBox = $('chat-notice');
    this.noticeTimer = null;
    /** What the connection (or a conversation) allows, and why the room holds the composer shut. */
    this.composerWanted = true;
    this.composerLocks = new Set();

    const onName = (event) => {
      const target = event.target.closest('[data-profile]');
      if (!target) return;
      event.preventDefault();
      this.onProfile(target.dataset.profile, target);
    };
    this.list.addEventListener('click', onName);
    this.users.addEventListener('click', onName);

    this.list.addEventListener('scroll', () => {
      if (this.isAtBottom()) {
        this.pill.hidden = true;
        this.onBottom();
      }
      if (this.list.scrollTop < LOAD_OLDER_PX) this.onTop();
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

  /** Render another room's timeline in the list (no reconnection: the session has it). */
  showRoom(room, timeline) {
    this.timeline = timeline;
    this.editing = null;
    this.nodes.clear();
    this.list.replaceChildren();
    this.root.dataset.room = room;
    if (this.roomName) this.roomName.textContent = this.roomLabel(room);
    for (const item of timeline.list()) {
      const node = this._render(item);
      this.list.append(node);
      this.nodes.set(item.key, node);
    }
    this.dividerId = null;
    this.pill.hidden = true;
  }

  /** Apply timeline changes; follow the newest message unless the reader scrolled up. */
  apply(changes, { scroll = false } = {}) {
    if (!changes.length) return;
    const stick = this.isAtBottom();
    const anchor = this._anchor();
    let added = false;
    let addedAtEnd = false;
    for (const change of changes) {
      if (change.op === 'remove') {
        this.nodes.get(change.key)?.remove();
        this.nodes.delete(change.key);
        continue;
      }
      const { item } = change;
      const node = this._render(item);
      if (change.replaces) {
        this.nodes.get(change.replaces)?.remove();
        this.nodes.delete(change.replaces);
      }
      const existing = this.nodes.get(item.key);
      if (existing) {
        existing.replaceWith(node);
      } else {
        node.classList.add('enter');
        const atEnd = this._insert(item.key, node);
        if (!change.replaces) added = true;
        if (atEnd) addedAtEnd = true;
      }
      this.nodes.set(item.key, node);
    }
    this._placeDivider();
    if (stick || scroll) this.scrollToBottom();
    else if (anchor) this._restore(anchor); // older history came in above: keep the reader's place
    if (!stick && !scroll && added && addedAtEnd) this.pill.hidden = false;
  }

  _render(item) {
    if (item.kind === 'notice') return noticeElement(item, { isMe: this.isMe, roomLabel: this.roomLabel });
    const node = messageElement(item, item.username === this.username, {
      tools: this.tools,
      isMe: this.isMe,
      colorOf: (name) => this.people.get(name)?.color,
      files: this.files,
    });
    if (this.editing && item.id === this.editing.id) {
      if (item.deleted) this.editing = null;
      else node.querySelector('.message-text')?.replaceWith(this.editing.node);
    }
    return node;
  }

  /** Insert before the first later key already on the page; true when it went last. */
  _insert(key, node) {
    const keys = this.timeline.keys;
    for (let i = this.timeline.indexOf(key) + 1; i > 0 && i < keys.length; i += 1) {
      const next = this.nodes.get(keys[i]);
      if (next) {
        this.list.insertBefore(node, next);
        return false;
      }
    }
    this.list.append(node);
    return true;
  }

  /** The first node on screen and its offset, to keep it still when items go in above. */
  _anchor() {
    if (this.isAtBottom()) return null;
    const top = this.list.getBoundingClientRect().top;
    for (const node of this.list.children) {
      const rect = node.getBoundingClientRect();
      if (rect.bottom > top) return { node, offset: rect.top - top };
    }
    return null;
  }

  _restore({ node, offset }) {
    if (!node.isConnected) return;
    const top = this.list.getBoundingClientRect().top;
    this.list.scrollTop += node.getBoundingClientRect().top - top - offset;
  }

  /** The "new messages" divider goes before this message id (null: none). */
  setDivider(id) {
    this.dividerId = id;
    this._placeDivider();
  }

  _placeDivider() {
    const target = this.dividerId ? this.nodes.get(this.dividerId) : null;
    if (!target) {
      this.divider.remove();
      return;
    }
    if (target.previousElementSibling !== this.divider) this.list.insertBefore(this.divider, target);
  }

  /** Scroll so that the divider (or the newest message) shows; on opening a room. */
  scrollToDividerOrBottom() {
    if (this.divider.isConnected) {
      this.divider.scrollIntoView({ block: 'start' });
      this.pill.hidden = this.isAtBottom();
    } else {
      this.scrollToBottom();
    }
  }

  /** Bring message `id` into view and flash it; false when it is not on the page. */
  reveal(id) {
    const node = this.nodes.get(id);
    if (!node) return false;
    node.scrollIntoView({ block: 'center' });
    node.classList.remove('flash');
    // Restart the animation (a second click on the same quote).
    void node.offsetWidth;
    node.classList.add('flash');
    return true;
  }

  /** The <li> of a stored message. */
  messageNode(id) {
    return this.nodes.get(id) ?? null;
  }

  /** Start or stop editing message `id` (the editor node replaces its text). */
  setEditing(id, editorNode) {
    this.editing = id ? { id, node: editorNode } : null;
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

  /** The room's people entry of `username` ({username, display_name?, color, account?}), or null. */
  user(username) {
    return this.roomUsers.find((user) => user.username === username) ?? null;
  }

  /** Remember an account's look (colour, display name) seen in an online list or a profile. */
  rememberPerson(user) {
    if (!user?.account || !user.username) return;
    this.people.set(user.username, { color: user.color, display_name: user.display_name });
  }

  /** Show the room's name again (a private conversation's other person became known). */
  refreshRoomName() {
    if (this.roomName && this.root.dataset.room) this.roomName.textContent = this.roomLabel(this.root.dataset.room);
  }

  setUsers(users, count) {
    this.roomUsers = users;
    this.roomUserCount = count;
    for (const user of users) this.rememberPerson(user);
    // The server sorts by code point; people expect "Élodie" next to "Eve", not after "Zoë".
    const collator = new Intl.Collator(language(), { sensitivity: 'base' });
    const sorted = [...users].sort((a, b) => collator.compare(a.username, b.username));
    const items = sorted.map((user) => {
      const isMe = user.username === this.username;
      return userElement(user, isMe, { role: this.roleOf(user.username), tools: this.userTools(user, isMe) });
    });
    this.users.replaceChildren(...items);
    this.userCount.textContent = t('users_count', { count });
    this.usersPanelCount.textContent = String(count);
  }

  /** Render the online list again (the roles or one's own rank changed). */
  refreshUsers() {
    this.setUsers(this.roomUsers, this.roomUserCount);
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
  showError(text, { link = false, linkText = null } = {}) {
    this.errorText.textContent = text;
    this.errorLink.textContent = linkText ?? this.errorLinkText;
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
    this.composerWanted = enabled;
    // A room's rule (posting closed for this person) holds it shut whatever else opens it.
    const open = enabled && this.composerLocks.size === 0;
    this.input.disabled = !open;
    this.sendButton.disabled = !open;
    if (this.attachButton) this.attachButton.disabled = !open;
  }

  /** Hold the composer shut (`locked`) for a reason named `name`, or let it go. */
  setComposerLock(name, locked) {
    if (locked) this.composerLocks.add(name);
    else this.composerLocks.delete(name);
    this.setComposerEnabled(this.composerWanted);
  }

  /** A short confirmation that goes away by itself (a report was sent). */
  showNotice(text, ms = 6000) {
    if (!this.noticeBox) return;
    this.noticeBox.textContent = text;
    this.noticeBox.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      this.noticeBox.hidden = true;
      this.noticeBox.textContent = '';
    }, ms);
  }
}
