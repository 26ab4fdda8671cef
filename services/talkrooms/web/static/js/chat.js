/** Entry point of the chat page: wires the DOM events to the session and the views. */

import { ChatView } from './chat-view.js';
import { loadStrings, t } from './i18n.js';
import { MessageActions } from './message-actions.js';
import { RoomsView } from './rooms-view.js';
import { ChatSession } from './session.js';
import { LAST_USERNAME_KEY, clientKey, readJson, write, writeJson } from './storage.js';
import { Timeline } from './timeline.js';
import { codePointLength, strip } from './validation.js';

loadStrings();

const root = document.getElementById('chat');
const { username, room } = root.dataset;
const messageMax = Number(root.dataset.messageMax) || 2000;
const form = document.getElementById('composer-form');
const input = document.getElementById('message-input');
/** The other rooms this person had open on this device: joined again on the next visit. */
const roomsKey = `talkrooms.rooms.${username}`;
const savedRooms = readJson(roomsKey, []);

const timeline = new Timeline();
const view = new ChatView(document, timeline, username);
const rooms = new RoomsView(document, {
  pick: (name) => session.switchRoom(name),
  join: (name) => session.joinRoom(name),
  leave: (name) => void leaveRoom(name),
});
const session = new ChatSession({
  username,
  room,
  clientKey: clientKey(),
  messageMax,
  timeline,
  view,
  rooms: Array.isArray(savedRooms) ? savedRooms.filter((r) => typeof r === 'string' && r !== room) : [],
  onRooms: (summaries) => {
    rooms.render(summaries);
    writeJson(roomsKey, summaries.map((r) => r.room));
    onRoomsChanged();
  },
});
const actions = new MessageActions(document, session, view, input);
write(LAST_USERNAME_KEY, username);

let shownRoom = room;

/** The rooms or the counts changed: title, address, and the divider of a newly shown room. */
function onRoomsChanged() {
  if (session.room !== shownRoom) {
    shownRoom = session.room;
    actions.reset();
    // A reload opens the room shown now.
    const url = new URL(window.location.href);
    url.searchParams.set('room', shownRoom);
    window.history.replaceState(null, '', url);
    seen();
  }
  rooms.setTitle(shownRoom, session.totalUnread);
  view.setDivider(session.firstUnreadId());
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
  window.location.assign(`/?room=${encodeURIComponent(shownRoom)}`);
}

function tooLong() {
  return codePointLength(strip(input.value)) > messageMax;
}

function submit() {
  if (!strip(input.value)) return;
  const result = session.send(input.value, actions.replyTo);
  if (!result.ok) {
    view.showInputError(t('error_message', { max: messageMax }));
    return;
  }
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

session.start();
