/**
 * Entry point of the chat page: wires the DOM events to the session and the views. Signed
 * in (the refresh cookie still works), the connection carries the account's access token
 * and the page adds the account's private conversations, profile card and profile editor.
 */

import { isPrivateRoom } from '../vendor/talkrooms-client/talkrooms-client.js';
import { accounts, apiErrorText, restoreAccount } from './account.js';
import { Attachments } from './attachments.js';
import { ChatView } from './chat-view.js';
import { FilesView } from './files-view.js';
import { loadStrings, t } from './i18n.js';
import { MessageActions } from './message-actions.js';
import { ModerationUI } from './moderation.js';
import { NotificationsUI } from './notifications.js';
import { ReviewQueue } from './review-queue.js';
import { RoomSettingsUI } from './room-settings.js';
import { ProfileCard } from './profile-card.js';
import { ProfileEditor } from './profile-editor.js';
import { paintAvatar } from './render.js';
import { RoomsView } from './rooms-view.js';
import { ChatSession } from './session.js';
import { LAST_USERNAME_KEY, clientKey, inviteKey, read, readJson, write, writeJson } from './storage.js';
import { Timeline } from './timeline.js';
import { codePointLength, strip } from './validation.js';

loadStrings();

const root = document.getElementById('chat');
const { room } = root.dataset;
/** The signed-in account (the chat uses its name whatever the address says), or null. */
const account = await restoreAccount();
const username = account ? account.username : root.dataset.username;
const messageMax = Number(root.dataset.messageMax) || 2000;
const form = document.getElementById('composer-form');
const input = document.getElementById('message-input');
/** The other rooms this person had open on this device: joined again on the next visit. */
const roomsKey = `talkrooms.rooms.${username}`;
const savedRooms = readJson(roomsKey, []);
/** The private conversation shown before a reload (this tab): shown again once listed. */
const ACTIVE_CONVERSATION_KEY = 'talkrooms.active_conversation';

const timeline = new Timeline();
const view = new ChatView(document, timeline, username);
const rooms = new RoomsView(document, {
  pick: (name) => session.switchRoom(name),
  join: (name) => session.joinRoom(name),
  leave: (name) => void leaveRoom(name),
  openConversation: async (name) => {
    try {
      await openConversation(name);
    } catch (error) {
      throw new Error(apiErrorText(error));
    }
  },
});
view.roomLabel = (name) => rooms.label(name);
const session = new ChatSession({
  accounts: account ? accounts : null,
  roomLabel: (name) => rooms.label(name),
  username,
  room,
  clientKey: clientKey(),
  // From an invite link opened in this tab (login.js): needed to join an invite-only room.
  invite: read(inviteKey(room), 'session') ?? undefined,
  messageMax,
  timeline,
  view,
  rooms: Array.isArray(savedRooms) ? savedRooms.filter((r) => typeof r === 'string' && r !== room) : [],
  onRooms: (summaries) => {
    rooms.render(summaries);
    // Conversations come back from the account's list; only public rooms are remembered.
    writeJson(roomsKey, summaries.map((r) => r.room).filter((name) => !isPrivateRoom(name)));
    onRoomsChanged();
  },
});
const actions = new MessageActions(document, session, view, input);
// Roles, badges and the staff's tools; before start(), so the first join asks for the roles.
const moderation = new ModerationUI(document, { session, view, actions, accounts: account ? accounts : null });
new ReviewQueue(document, { session, moderation });
new RoomSettingsUI(document, { session, view, actions, moderation, signedIn: Boolean(account) });
// The favicon's unread count, mention toasts, focus; signed in, Web Push and per-room levels.
const notifications = new NotificationsUI(document, {
  session,
  accounts: account ? accounts : null,
  label: (name) => rooms.label(name),
  open: (name) => openRoom(name),
});

// ---- Files: the attach button, drag and drop, paste; thumbnails and the lightbox ------------

const files = new FilesView(document, {
  // A private conversation's files are read with the member's token.
  token: () => (account ? accounts.accessToken() : Promise.resolve(null)),
  roomOf: () => session.room,
});
files.onError = (text) => view.showError(text);
view.files = files;
view.list.addEventListener('click', (event) => files.handleClick(event));
const attachments = new Attachments(document, {
  room: () => session.room,
  token: () => (account ? accounts.accessToken() : Promise.resolve(null)),
  // A guest signs its uploads with exactly the name and client_key it joined with.
  guest: (name) => (account ? null : { username: session.usernameIn(name), clientKey: clientKey() }),
  files,
  onChange: () => view.showInputError(''),
});
const fileInput = document.getElementById('file-input');
const attachButton = document.getElementById('attach-button');
attachButton.addEventListener('click', () => fileInput.click());
fileInput.addEventListener('change', () => {
  attachments.add(fileInput.files);
  fileInput.value = '';
  input.focus();
});

/** Files dragged over the page: the message list says where to drop them. */
const dragHasFiles = (event) => Array.from(event.dataTransfer?.types ?? []).includes('Files');
let dragDepth = 0;
root.addEventListener('dragenter', (event) => {
  if (!dragHasFiles(event) || input.disabled) return;
  event.preventDefault();
  dragDepth += 1;
  root.classList.add('is-dropping');
});
root.addEventListener('dragover', (event) => {
  if (!dragHasFiles(event) || input.disabled) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = 'copy';
});
root.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) root.classList.remove('is-dropping');
});
root.addEventListener('drop', (event) => {
  dragDepth = 0;
  root.classList.remove('is-dropping');
  const dropped = event.dataTransfer?.files;
  if (!dropped?.length) return;
  event.preventDefault();
  if (!input.disabled) attachments.add(dropped);
});
// Paste (a screenshot): files on the clipboard become attachments; text pastes as text.
document.addEventListener('paste', (event) => {
  const pasted = Array.from(event.clipboardData?.files ?? []);
  if (!pasted.length || input.disabled) return;
  event.preventDefault();
  attachments.add(pasted);
});
if (!account) write(LAST_USERNAME_KEY, username);

let shownRoom = room;

/** The rooms or the counts changed: title, address, and the divider of a newly shown room. */
function onRoomsChanged() {
  if (session.room !== shownRoom) {
    shownRoom = session.room;
    actions.reset();
    if (isPrivateRoom(shownRoom)) {
      // The address takes public rooms only: a reload shows the conversation again from here.
      write(ACTIVE_CONVERSATION_KEY, shownRoom, 'session');
    } else {
      write(ACTIVE_CONVERSATION_KEY, null, 'session');
      // A reload opens the room shown now.
      const url = new URL(window.location.href);
      url.searchParams.set('room', shownRoom);
      window.history.replaceState(null, '', url);
    }
    updateComposer();
    attachments.render();
    seen();
  }
  rooms.setTitle(shownRoom, session.totalUnread);
  notifications.setUnread(session.totalUnread);
  view.setDivider(session.firstUnreadId());
}

/** Show a room a toast or a notification named: joined already, or joined now. */
function openRoom(name) {
  if (session.rooms.some((r) => r.room === name)) {
    session.switchRoom(name);
    return;
  }
  if (!isPrivateRoom(name)) {
    session.joinRoom(name);
    return;
  }
  // A conversation this page has not listed yet (opened since): fetch it, then show it.
  if (account) {
    void accounts.conversation(name).then((conversation) => {
      addConversation(conversation);
      session.switchRoom(name);
    }, () => {});
  }
}

/** The newest message of the shown room is in view: it counts as read. */
function seen() {
  if (document.visibilityState === 'visible' && view.isAtBottom()) session.markRead();
}

async function leaveRoom(name) {
  if (session.rooms.length <= 1) {
    await leaveChat();
    return;
  }
  await session.leaveRoom(name);
}

async function leaveChat() {
  document.getElementById('leave-button').disabled = true;
  await session.leave();
  writeJson(roomsKey, null);
  const back = isPrivateRoom(shownRoom) ? room : shownRoom;
  window.location.assign(`/?room=${encodeURIComponent(back)}`);
}

function tooLong() {
  return codePointLength(strip(input.value)) > messageMax;
}

function submit() {
  const shared = attachments.ready();
  if (attachments.busy()) {
    view.showInputError(t('file_wait_uploads'));
    return;
  }
  if (!strip(input.value) && !shared.length) return;
  const result = session.send(input.value, actions.replyTo, shared);
  if (!result.ok) {
    view.showInputError(shared.length && codePointLength(strip(input.value)) <= messageMax ? result.error : t('error_message', { max: messageMax }));
    return;
  }
  if (shared.length) attachments.sent();
  input.value = '';
  actions.cancelReply();
  view.showInputError('');
  input.focus();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  submit();
});

input.addEventListener('keydown', (event) => {
  // Enter sends; Shift+Enter is a new line; never while an IME composes a character.
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  }
});

input.addEventListener('input', () => {
  session.typing(Boolean(strip(input.value)));
  view.showInputError(tooLong() ? t('error_message', { max: messageMax }) : '');
});

view.onBottom = seen;
view.onTop = () => void session.loadOlder();
session.core.on('timeline', (_changes, info) => {
  if (info.room !== session.room) return;
  seen();
  view.setDivider(session.firstUnreadId());
});
session.core.on('roomJoined', (info) => {
  if (info.room === session.room) seen();
});
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  // Back on the page: what came meanwhile gets the divider, then counts as seen.
  session.placeDivider();
  seen();
});

document.getElementById('leave-button').addEventListener('click', () => void leaveChat());

// ---- Accounts: private conversations, profiles, blocks -------------------------------------

/** Usernames this account blocked. */
const blocked = new Set();

/** Open (or find) the conversation with `name`, join its room and show it. */
async function openConversation(name) {
  const conversation = await accounts.openConversation(name);
  addConversation(conversation);
  session.joinConversation(conversation.room, true);
}

/** A conversation to list; its room is joined so that its unread count stays live. */
function addConversation(conversation) {
  rooms.setConversation(conversation);
  if (conversation.blocked) blocked.add(conversation.with.username);
  else blocked.delete(conversation.with.username);
  if (!session.rooms.some((r) => r.room === conversation.room)) session.joinConversation(conversation.room);
  if (conversation.room === session.room) {
    view.refreshRoomName();
    rooms.setTitle(session.room, session.totalUnread);
  }
  updateComposer();
}

/** In a conversation where a block exists, the composer says so instead of taking text. */
function updateComposer() {
  const notice = document.getElementById('conversation-notice');
  const conversation = rooms.conversations.get(session.room);
  const closed = Boolean(conversation && !conversation.canWrite);
  notice.hidden = !closed;
  if (closed) {
    const other = conversation.with.displayName || conversation.with.username;
    notice.textContent = conversation.blocked ? t('conversation_you_blocked', { name: other }) : t('conversation_closed', { name: other });
  } else {
    notice.textContent = '';
  }
  if (session.core.connection === 'connected') view.setComposerEnabled(!closed);
}

const card = new ProfileCard(document, {
  accounts,
  me: () => accounts.account,
  isBlocked: (name) => blocked.has(name),
  userOf: (name) => view.user(name),
  onMessage: (name) => openConversation(name),
  onBlockChange: (name, nowBlocked) => {
    if (nowBlocked) blocked.add(name);
    else blocked.delete(name);
    // The server tells every connection of both with a `conversation` event; this is sooner.
    for (const conversation of rooms.conversations.values()) {
      if (conversation.with.username === name) void accounts.conversation(conversation.room).then(addConversation, () => {});
    }
  },
  onProfile: (profile) => {
    view.rememberPerson({ username: profile.username, display_name: profile.displayName, color: profile.color, account: true });
  },
  onEdit: () => void editor.open(),
  onLogout: () => void logOut(),
});
const editor = new ProfileEditor(document, {
  accounts,
  onSaved: (profile) => {
    showAccount(profile.displayName, profile.color);
    view.rememberPerson({ username: profile.username, display_name: profile.displayName, color: profile.color, account: true });
  },
});
view.onProfile = (name) => void card.open(name);

const accountButton = document.getElementById('account-button');

/** The header's button for one's own profile card. */
function showAccount(name, color) {
  accountButton.hidden = false;
  document.getElementById('account-button-name').textContent = name;
  paintAvatar(document.getElementById('account-button-avatar'), name, color);
}

async function logOut() {
  card.close();
  // While the token still works: this browser stops notifying the account.
  await notifications.logOut();
  await session.leave();
  await accounts.logout();
  writeJson(roomsKey, null);
  write(ACTIVE_CONVERSATION_KEY, null, 'session');
  const back = isPrivateRoom(shownRoom) ? room : shownRoom;
  window.location.assign(`/?room=${encodeURIComponent(back)}`);
}

rooms.setSignedIn(Boolean(account));
if (account) {
  showAccount(account.username, null);
  accountButton.addEventListener('click', () => void card.open(account.username));
  session.core.on('conversation', (conversation) => addConversation(conversation));
  session.core.on('connection', () => updateComposer());
  const reopen = read(ACTIVE_CONVERSATION_KEY, 'session');
  void accounts.profile().then((profile) => showAccount(profile.displayName, profile.color), () => {});
  void accounts.blocks().then((list) => {
    for (const entry of list) blocked.add(entry.username);
  }, () => {});
  void accounts.conversations().then(
    (list) => {
      for (const conversation of list) addConversation(conversation);
      if (reopen && rooms.conversations.has(reopen)) session.switchRoom(reopen);
    },
    () => {},
  );
}

session.start();
