/**
 * Entry point of the login page: live validation, room suggestions, active rooms, and the
 * account card (log in, create an account, log out). Signed in, the join form asks only
 * for the room: the chat uses the account.
 */

import { isPrivateRoom } from '../vendor/talkrooms-client/talkrooms-client.js';
import { accounts, apiErrorText, restoreAccount } from './account.js';
import { loadStrings, t } from './i18n.js';
import { ActiveRooms } from './rooms.js';
import { LAST_USERNAME_KEY, inviteKey, read, write } from './storage.js';
import { validateRoom, validateUsername } from './validation.js';

loadStrings();

// An invite link (`/?room=<room>&invite=<code>`, docs/moderation.md): the chat page sends the
// code with its join of that room. Kept for this tab only.
{
  const params = new URLSearchParams(window.location.search);
  const invited = params.get('room');
  const code = params.get('invite');
  if (invited && code) write(inviteKey(invited), code, 'session');
}

// A notification's link (sw.js: `/?room=<room>&open=1`; a public room or a private
// conversation's `dm:` id): signed in already, or as soon as the person signs in here, the
// page goes on to that room instead of waiting on the join form.
const linkedRoom = (() => {
  const params = new URLSearchParams(window.location.search);
  if (params.get('open') !== '1') return null;
  const room = (params.get('room') ?? '').trim().toLowerCase();
  if (isPrivateRoom(room)) return room;
  const check = validateRoom(room);
  return check.ok ? check.value : null;
})();

/** Open the linked room as `account`; false when there is none. */
function openLinkedRoom(account) {
  if (!account || !linkedRoom) return false;
  const target = new URL('/chat', window.location.origin);
  target.searchParams.set('username', account.username);
  target.searchParams.set('room', linkedRoom);
  // Replaced: "back" from the room does not come here to be sent on again.
  window.location.replace(target.href);
  return true;
}

const form = document.getElementById('login-form');
const fields = {
  username: { input: document.getElementById('username'), validate: validateUsername, touched: false },
  room: { input: document.getElementById('room'), validate: validateRoom, touched: false },
};

// A private conversation's id is no room a guest can join: the field does not offer it.
if (isPrivateRoom(fields.room.input.value.trim().toLowerCase())) fields.room.input.value = '';

/** Show or clear the error of one field; returns whether it is valid. */
function check(name) {
  const field = fields[name];
  const result = field.validate(field.input.value);
  const error = document.getElementById(`${name}-error`);
  error.textContent = result.ok ? '' : t(`error_${name}`);
  field.input.setAttribute('aria-invalid', result.ok ? 'false' : 'true');
  field.input.closest('.field').classList.toggle('invalid', !result.ok);
  return result.ok;
}

for (const [name, field] of Object.entries(fields)) {
  // Live: an error shows while typing once the field holds something. An empty field only
  // complains on submit, so that tabbing through the form does not shift the page.
  field.input.addEventListener('input', () => {
    if (field.touched || field.input.value !== '') check(name);
  });
  field.input.addEventListener('blur', () => {
    if (field.input.value === '') return;
    field.touched = true;
    check(name);
  });
}

/** The account the join form uses (null: a guest picks a name). */
let signedIn = null;

form.addEventListener('submit', (event) => {
  if (signedIn) fields.username.input.value = signedIn.username;
  const invalid = Object.keys(fields).filter((name) => !check(name));
  if (invalid.length) {
    event.preventDefault();
    fields[invalid[0]].input.focus();
    return;
  }
  if (!signedIn) write(LAST_USERNAME_KEY, validateUsername(fields.username.input.value).value);
});

function pickRoom(room) {
  fields.room.input.value = room;
  check('room');
  if (fields.username.input.value === '' && !signedIn) fields.username.input.focus();
  else document.getElementById('join-button').focus();
}

for (const chip of document.querySelectorAll('.chip[data-room]')) {
  chip.addEventListener('click', () => pickRoom(chip.dataset.room));
}

if (fields.username.input.value === '') {
  fields.username.input.value = read(LAST_USERNAME_KEY) ?? '';
}

new ActiveRooms(document.getElementById('active-rooms'), document.getElementById('active-rooms-status'), pickRoom).start();

// ---- The account card --------------------------------------------------------------------

const $ = (id) => document.getElementById(id);
const guestPart = $('account-guest');
const signedInPart = $('account-signed-in');
const accountForms = {
  login: { tab: $('tab-login'), form: $('account-login-form'), error: $('account-login-error'), submit: $('login-submit') },
  register: { tab: $('tab-register'), form: $('account-register-form'), error: $('account-register-error'), submit: $('register-submit') },
};
const guestUsername = fields.username.input.value;

function showTab(name) {
  for (const [key, part] of Object.entries(accountForms)) {
    const on = key === name;
    part.tab.setAttribute('aria-pressed', String(on));
    part.form.hidden = !on;
  }
}

function showAccountError(part, text) {
  part.error.textContent = text;
  part.error.hidden = !text;
}

/** Signed in: the card says who, the join form asks only for the room. */
function render(account) {
  signedIn = account;
  guestPart.hidden = Boolean(account);
  signedInPart.hidden = !account;
  $('username-field').hidden = Boolean(account);
  const joiningAs = $('joining-as');
  joiningAs.hidden = !account;
  if (account) {
    $('account-name').textContent = account.username;
    joiningAs.textContent = t('joining_as', { name: account.username });
    fields.username.input.value = account.username;
    check('username');
  } else {
    $('account-name').textContent = '';
    joiningAs.textContent = '';
    fields.username.input.value = guestUsername || (read(LAST_USERNAME_KEY) ?? '');
    fields.username.input.setAttribute('aria-invalid', 'false');
    fields.username.input.closest('.field').classList.remove('invalid');
    $('username-error').textContent = '';
  }
}

for (const name of Object.keys(accountForms)) accountForms[name].tab.addEventListener('click', () => showTab(name));

async function submitAccount(name, event) {
  event.preventDefault();
  const part = accountForms[name];
  const data = new FormData(part.form);
  const username = String(data.get('username') ?? '').trim();
  const password = String(data.get('password') ?? '');
  if (!username || !password) {
    showAccountError(part, t('account_fields_missing'));
    return;
  }
  part.submit.disabled = true;
  showAccountError(part, '');
  try {
    const email = String(data.get('email') ?? '').trim();
    const account = name === 'login' ? await accounts.login(username, password) : await accounts.register(username, password, email || undefined);
    part.form.reset();
    render(account);
    if (openLinkedRoom(account)) return;
    fields.room.input.focus();
  } catch (error) {
    showAccountError(part, apiErrorText(error));
  } finally {
    part.submit.disabled = false;
  }
}

accountForms.login.form.addEventListener('submit', (event) => void submitAccount('login', event));
accountForms.register.form.addEventListener('submit', (event) => void submitAccount('register', event));

$('logout-button').addEventListener('click', async () => {
  $('logout-button').disabled = true;
  await accounts.logout();
  $('logout-button').disabled = false;
  render(null);
});

restoreAccount().then((account) => {
  if (account) render(account);
  openLinkedRoom(account);
});
