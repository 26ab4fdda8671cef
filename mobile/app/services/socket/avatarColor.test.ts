/// <reference types="node" />
import { readFileSync, existsSync } from 'fs';
import { join } from 'path';

import { AVATAR_COLORS, avatarColor, avatarInitial, fnv1a32 } from './avatarColor';

// The reference table of docs/protocol.md ("Avatar colour"), which every client checks.
const REFERENCE: [string, string][] = [
  ['alice', '#FD9644'],
  ['bob', '#F7B731'],
  ['dave', '#FF6B6B'],
  ['ivan', '#4ECDC4'],
  ['judy', '#45B7D1'],
  ['x', '#A55EEA'],
  ['peggy', '#26DE81'],
  ['Élodie', '#45B7D1'],
  ['Zoë', '#FF6B6B'],
  ['李雷', '#F7B731'],
  ['😀 emoji', '#26DE81'],
  ['TalkRooms Bot', '#45B7D1'],
];

describe('avatar colour', () => {
  it.each(REFERENCE)('%s is %s', (username, colour) => {
    expect(avatarColor(username)).toBe(colour);
  });

  it('has the seven protocol colours in order', () => {
    expect(AVATAR_COLORS).toEqual([
      '#FF6B6B',
      '#4ECDC4',
      '#45B7D1',
      '#F7B731',
      '#A55EEA',
      '#26DE81',
      '#FD9644',
    ]);
  });

  it('is 32-bit FNV-1a over code points', () => {
    expect(fnv1a32('')).toBe(2166136261);
    expect(fnv1a32('a')).toBe(0xe40c292c); // the published FNV-1a test vector
    // An astral character is one code point, not two UTF-16 halves.
    expect(fnv1a32('😀')).toBe(Math.imul(2166136261 ^ 0x1f600, 16777619) >>> 0);
  });

  it('agrees with the table in docs/protocol.md', () => {
    const doc = join(__dirname, '../../../../docs/protocol.md');
    if (!existsSync(doc)) return; // the app also builds outside the monorepo
    const text = readFileSync(doc, 'utf8');
    const section = text.slice(text.indexOf('## Avatar colour'));
    const rows = [...section.matchAll(/^\| `([^`]+)` \| `(#[0-9A-F]{6})` \|$/gm)].map(
      (m) => [m[1], m[2]] as [string, string],
    );
    expect(rows).toEqual(REFERENCE);
    const colours = section.match(/COLORS = \[([^\]]+)\]/)?.[1].match(/#[0-9A-F]{6}/g);
    expect(colours).toEqual([...AVATAR_COLORS]);
  });
});

describe('avatar initial', () => {
  it('is the first letter, upper-cased, whole even outside the BMP', () => {
    expect(avatarInitial('alice')).toBe('A');
    expect(avatarInitial('élodie')).toBe('É');
    expect(avatarInitial('😀 emoji')).toBe('😀');
    expect(avatarInitial('')).toBe('?');
  });
});
