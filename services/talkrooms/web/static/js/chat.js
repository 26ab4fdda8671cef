/** Entry point of the chat page: wires the DOM events to the session and the view. */

import { ChatView } from './chat-view.js';
import { loadStrings, t } from './i18n.js';
import { ChatSession } from './session.js';
import { LAST_USERNAME_KEY, clientKey, write } from './storage.js';
import { Timeline } from './timeline.js';
import { codePointLength, strip } from './validation.js';

loadStrings();

const root = document.getElementById('chat');
const { username, room } = root.dataset;
const messageMax = Number(root.dataset.messageMax) || 2000;
const form = document.getElementById('composer-form');
const input = document.getElementById('message-input');

const timeline = new Timeline();
const view = new ChatView(document, timeline, username);
const session = new ChatSession({ username, room, clientKey: clientKey(), messageMax, timeline, view });
write(LAST_USERNAME_KEY, username);

function tooLong() {
  return codePointLength(strip(input.value)) > messageMax;
}

function submit() {
  if (!strip(input.value)) return;
  const result = session.send(input.value);
  if (!result.ok) {
    view.showInputError(t('error_message', { max: messageMax }));
    return;
  }
  input.value = '';
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

document.getElementById('messages').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  if (button.dataset.action === 'retry') session.retry(button.dataset.clientId);
  if (button.dataset.action === 'discard') session.discard(button.dataset.clientId);
});

document.getElementById('leave-button').addEventListener('click', async (event) => {
  event.currentTarget.disabled = true;
  await session.leave();
  window.location.assign(`/?room=${encodeURIComponent(room)}`);
});

session.start();
