/** Entry point of the login page: live validation, room suggestions, active rooms. */

import { loadStrings, t } from './i18n.js';
import { ActiveRooms } from './rooms.js';
import { LAST_USERNAME_KEY, read, write } from './storage.js';
import { validateRoom, validateUsername } from './validation.js';

loadStrings();

const form = document.getElementById('login-form');
const fields = {
  username: { input: document.getElementById('username'), validate: validateUsername, touched: false },
  room: { input: document.getElementById('room'), validate: validateRoom, touched: false },
};

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

form.addEventListener('submit', (event) => {
  const invalid = Object.keys(fields).filter((name) => !check(name));
  if (invalid.length) {
    event.preventDefault();
    fields[invalid[0]].input.focus();
    return;
  }
  write(LAST_USERNAME_KEY, validateUsername(fields.username.input.value).value);
});

function pickRoom(room) {
  fields.room.input.value = room;
  check('room');
  if (fields.username.input.value === '') fields.username.input.focus();
  else document.getElementById('join-button').focus();
}

for (const chip of document.querySelectorAll('.chip[data-room]')) {
  chip.addEventListener('click', () => pickRoom(chip.dataset.room));
}

if (fields.username.input.value === '') {
  fields.username.input.value = read(LAST_USERNAME_KEY) ?? '';
}

new ActiveRooms(document.getElementById('active-rooms'), document.getElementById('active-rooms-status'), pickRoom).start();
