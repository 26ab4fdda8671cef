import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  AVATAR_COLORS,
  ERRORS,
  avatarColor,
  avatarInitial,
  codePointLength,
  isClientId,
  isClientKey,
  messageError,
  newClientId,
  newClientKey,
  sameName,
  strip,
  validateMessage,
  validateRoom,
  validateUsername,
} from '../../src/index.js';

const PROTOCOL_DOC = join(__dirname, '../../../docs/protocol.md');

describe('validation', () => {
  it('trims what Python strip() trims, not what String.trim() does', () => {
    expect(strip('\u001c hi \u0085')).toBe('hi');
    expect(strip('\ufeffhi')).toBe('\ufeffhi');
  });

  it('counts code points', () => {
    expect(codePointLength('😀😀')).toBe(2);
  });

  it('checks usernames like the server', () => {
    expect(validateUsername('  Élodie ')).toEqual({ ok: true, value: 'Élodie' });
    expect(validateUsername('E\u0301lodie')).toEqual({ ok: true, value: 'Élodie' });
    expect(validateUsername('x'.repeat(33))).toEqual({ ok: false, error: ERRORS.username });
    expect(validateUsername('...')).toEqual({ ok: false, error: ERRORS.username });
    expect(validateUsername(42)).toEqual({ ok: false, error: ERRORS.username });
  });

  it('checks rooms like the server', () => {
    expect(validateRoom(' General ')).toEqual({ ok: true, value: 'general' });
    expect(validateRoom('tech room')).toEqual({ ok: false, error: ERRORS.room });
  });

  it('checks messages with the server limit or a smaller one', () => {
    expect(validateMessage('  hi ')).toEqual({ ok: true, value: 'hi' });
    expect(validateMessage('😀'.repeat(2000)).ok).toBe(true);
    expect(validateMessage('x'.repeat(2001))).toEqual({ ok: false, error: 'Message must be 1-2000 characters' });
    expect(validateMessage('123456', 5)).toEqual({ ok: false, error: messageError(5) });
    expect(messageError(5)).toBe('Message must be 1-5 characters');
  });
});

describe('avatar colours', () => {
  it('match the reference table of docs/protocol.md', () => {
    const table = readFileSync(PROTOCOL_DOC, 'utf8').split('| username | colour |')[1];
    const rows = [...table.matchAll(/^\| `([^`]+)` \| `(#[0-9A-F]{6})` \|$/gm)];
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const [, name, colour] of rows) expect([name, avatarColor(name)]).toEqual([name, colour]);
    expect(AVATAR_COLORS).toHaveLength(7);
  });

  it('take the first code point as the initial', () => {
    expect(avatarInitial('😀 emoji')).toBe('😀');
    expect(avatarInitial(' bob')).toBe('B');
    expect(avatarInitial('')).toBe('?');
  });
});

describe('ids', () => {
  it('makes UUIDs and client keys the server accepts', () => {
    expect(newClientId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newClientId((n) => new Uint8Array(n).fill(255))).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(isClientId(newClientId())).toBe(true);
    const key = newClientKey();
    expect(key).toHaveLength(32);
    expect(isClientKey(key)).toBe(true);
    expect(isClientKey('short')).toBe(false);
  });
});

describe('names that look alike', () => {
  it('are one name', () => {
    expect(sameName('Alice', 'ＡＬＩＣＥ')).toBe(true);
    expect(sameName('аlice', 'alice')).toBe(true); // Cyrillic а
    expect(sameName('Élodie', 'elodie')).toBe(true);
    expect(sameName('alice', 'alicia')).toBe(false);
  });
});
