/// <reference types="node" />
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';

import serverCases from '../../../test/fixtures/protocol-cases.json';
import {
  MESSAGE_ERROR,
  ROOM_ERROR,
  USERNAME_ERROR,
  codePointLength,
  strip,
  validateMessage,
  validateRoom,
  validateServerUrl,
  validateUsername,
} from './validation';

type Case = [string, string | null];

// The server's own answers (talkrooms.protocol), kept up to date by
// services/tests/unit/test_mobile_contract.py.
describe("the server's answers", () => {
  it.each(serverCases.strip as Case[])('strips %j to %j like Python', (raw, value) => {
    expect(strip(raw)).toBe(value);
  });

  it.each(serverCases.username as Case[])('username %j -> %j', (raw, value) => {
    expect(validateUsername(raw)).toEqual(
      value === null ? { ok: false, error: USERNAME_ERROR } : { ok: true, value },
    );
  });

  it.each(serverCases.room as Case[])('room %j -> %j', (raw, value) => {
    expect(validateRoom(raw)).toEqual(
      value === null ? { ok: false, error: ROOM_ERROR } : { ok: true, value },
    );
  });

  it.each(serverCases.message as Case[])('message %j -> %j', (raw, value) => {
    expect(validateMessage(raw)).toEqual(
      value === null ? { ok: false, error: MESSAGE_ERROR } : { ok: true, value },
    );
  });

  it('uses the message limit the fixture was made with', () => {
    expect(serverCases.message_max).toBe(2000);
  });
});

describe('trimming', () => {
  it('is not JavaScript trim(): it keeps U+FEFF and removes U+001C-U+001F and U+0085', () => {
    expect(strip('\ufeffhi\ufeff')).toBe('\ufeffhi\ufeff');
    expect('\ufeffhi'.trim()).toBe('hi');
    expect(strip('\u001c\u001d\u001e\u001fhi\u0085')).toBe('hi');
    expect('\u001chi\u0085'.trim()).toBe('\u001chi\u0085');
  });

  it('removes exactly the set docs/protocol.md lists', () => {
    const doc = join(__dirname, '../../../../docs/protocol.md');
    if (!existsSync(doc)) return; // the app also builds outside the monorepo
    const text = readFileSync(doc, 'utf8');
    const sentence = text.slice(text.indexOf('"Trimmed" means'), text.indexOf('(JavaScript'));
    const listed = new Set<number>();
    for (const m of sentence.matchAll(/U\+([0-9A-F]{4})(?:–U\+([0-9A-F]{4}))?/g)) {
      const first = parseInt(m[1], 16);
      const last = m[2] ? parseInt(m[2], 16) : first;
      for (let c = first; c <= last; c += 1) listed.add(c);
    }
    expect(listed.size).toBeGreaterThan(20);
    const differing: string[] = [];
    for (let c = 0; c <= 0x10ffff; c += 1) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const ch = String.fromCodePoint(c);
      if ((strip(`${ch}x${ch}`) === 'x') !== listed.has(c)) differing.push(c.toString(16));
    }
    expect(differing).toEqual([]);
  });
});

describe('username', () => {
  it.each([
    ['alice', 'alice'],
    ['  Bob  ', 'Bob'],
    ['Jean-Luc Picard', 'Jean-Luc Picard'],
    ['ann.b_c', 'ann.b_c'],
    ['Élodie', 'Élodie'],
    ['李雷', '李雷'],
    ['x'.repeat(32), 'x'.repeat(32)],
    ['7', '7'],
    ['\u001cbob\u0085', 'bob'],
    ['\u{1d400}'.repeat(32), '\u{1d400}'.repeat(32)],
    // NFC: "e" + combining acute becomes one code point.
    ['Zoe\u0301', 'Zoé'],
  ])('accepts %j as %j', (raw, value) => {
    expect(validateUsername(raw)).toEqual({ ok: true, value });
  });

  it.each([
    [''],
    ['   '],
    ['x'.repeat(33)],
    ['...'],
    ['-_ .'],
    ['bob!'],
    ['a@b'],
    ['😀 emoji'],
    ['<script>'],
    ['tab\there'],
    ['\ufeffbob'],
  ])('refuses %j with the server message', (raw) => {
    expect(validateUsername(raw)).toEqual({ ok: false, error: USERNAME_ERROR });
  });

  it('uses the exact protocol message', () => {
    expect(USERNAME_ERROR).toBe('Username must be 1-32 characters: letters, digits, spaces, - _ .');
  });
});

describe('room', () => {
  it.each([
    ['general', 'general'],
    ['  Tech ', 'tech'],
    ['my-room_2', 'my-room_2'],
    ['r'.repeat(32), 'r'.repeat(32)],
  ])('accepts %j as %j', (raw, value) => {
    expect(validateRoom(raw)).toEqual({ ok: true, value });
  });

  it.each([[''], ['  '], ['r'.repeat(33)], ['my room'], ['café'], ['a.b'], ['#general']])(
    'refuses %j with the server message',
    (raw) => {
      expect(validateRoom(raw)).toEqual({ ok: false, error: ROOM_ERROR });
    },
  );

  it('uses the exact protocol message', () => {
    expect(ROOM_ERROR).toBe('Room id must be 1-32 characters: a-z, 0-9, - _');
  });
});

describe('message', () => {
  it('trims and accepts 1 to 2000 characters', () => {
    expect(validateMessage('  hi  ')).toEqual({ ok: true, value: 'hi' });
    expect(validateMessage('a'.repeat(2000))).toEqual({ ok: true, value: 'a'.repeat(2000) });
  });

  it('counts code points like the server, not UTF-16 units', () => {
    const emoji = '😀'.repeat(2000);
    expect(emoji.length).toBe(4000);
    expect(codePointLength(emoji)).toBe(2000);
    expect(validateMessage(emoji).ok).toBe(true);
    expect(validateMessage(`${emoji}😀`)).toEqual({ ok: false, error: MESSAGE_ERROR });
  });

  it('refuses empty, blank and too long messages with the server message', () => {
    for (const raw of ['', '   \n ', 'a'.repeat(2001), '\u001c\u001f', '\u0085']) {
      expect(validateMessage(raw)).toEqual({ ok: false, error: MESSAGE_ERROR });
    }
    expect(MESSAGE_ERROR).toBe('Message must be 1-2000 characters');
  });
});

describe('server url', () => {
  it('accepts http and https addresses and drops a trailing slash', () => {
    expect(validateServerUrl('http://192.168.1.20:5000/')).toEqual({
      ok: true,
      value: 'http://192.168.1.20:5000',
    });
    expect(validateServerUrl(' https://chat.example.org ')).toEqual({
      ok: true,
      value: 'https://chat.example.org',
    });
  });

  it('refuses anything else', () => {
    for (const raw of ['', 'localhost:5000', 'ws://x', 'http://', 'http://a b']) {
      expect(validateServerUrl(raw).ok).toBe(false);
    }
  });
});
