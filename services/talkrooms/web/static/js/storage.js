/**
 * localStorage / sessionStorage that never throws: private modes and disabled storage
 * fall back to memory for this page's lifetime.
 */

import { isClientKey, newClientKey } from '../vendor/talkrooms-client/talkrooms-client.js';

const memory = new Map();

function area(kind) {
  try {
    const store = kind === 'session' ? window.sessionStorage : window.localStorage;
    const probe = '__talkrooms_probe__';
    store.setItem(probe, probe);
    store.removeItem(probe);
    return store;
  } catch {
    return null;
  }
}

export function read(key, kind = 'local') {
  const store = area(kind);
  return store ? store.getItem(key) : memory.get(`${kind}:${key}`) ?? null;
}

export function write(key, value, kind = 'local') {
  const store = area(kind);
  try {
    if (store) {
      if (value === null) store.removeItem(key);
      else store.setItem(key, value);
      return;
    }
  } catch {
    // Quota exceeded: keep the value in memory instead.
  }
  if (value === null) memory.delete(`${kind}:${key}`);
  else memory.set(`${kind}:${key}`, value);
}

export function readJson(key, fallback, kind = 'local') {
  try {
    const raw = read(key, kind);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

export function writeJson(key, value, kind = 'local') {
  write(key, value === null ? null : JSON.stringify(value), kind);
}

/** This device's client_key: made once, then kept (same person across tabs and reloads). */
export function clientKey() {
  let key = read('talkrooms.client_key');
  if (!isClientKey(key)) {
    key = newClientKey();
    write('talkrooms.client_key', key);
  }
  return key;
}

export const LAST_USERNAME_KEY = 'talkrooms.username';

/** Where an invite link's code waits (this tab) between the login page and the room's join. */
export const inviteKey = (room) => `talkrooms.invite.${room}`;
