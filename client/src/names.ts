/**
 * "Names that look alike are one name" (docs/protocol.md, join_room): the key under which
 * the server holds a name in a room, ported from `username_identity` in
 * the server's protocol rules. The app uses it to recognise itself in `room_users`,
 * `user_typing` and messages, whatever spelling the server returned (another tab of the
 * same person may have joined as "ALICE").
 */

import { splitWords } from './validation.js';

// The server's table, word for word: letters of other scripts (and digits) that pass for
// Latin letters once case is folded. test/fixtures/names.json holds the server's answers
// for these (services/tests/unit/test_mobile_contract.py checks it against the server's rules).
const LOOKALIKES: Record<string, string> = {
  // Cyrillic
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  һ: 'h',
  н: 'h',
  і: 'i',
  ї: 'i',
  ј: 'j',
  к: 'k',
  ӏ: 'l',
  м: 'm',
  о: 'o',
  р: 'p',
  ԛ: 'q',
  с: 'c',
  ѕ: 's',
  т: 't',
  у: 'y',
  х: 'x',
  ԝ: 'w',
  ԁ: 'd',
  ь: 'b',
  // Greek
  α: 'a',
  β: 'b',
  ε: 'e',
  ζ: 'z',
  η: 'h',
  ι: 'i',
  κ: 'k',
  μ: 'm',
  ν: 'n',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'y',
  χ: 'x',
  ϲ: 'c',
  // Latin and digits
  ı: 'i',
  ȷ: 'j',
  ɡ: 'g',
  '0': 'o',
  '1': 'l',
};

// Probes for the canonical combining class, which JavaScript does not expose: NFD puts
// adjacent marks in increasing class order, so a character moves past U+0334 (class 1)
// when its class is above 1, and U+0345 (class 240) moves past it when its class is from
// 1 to 239. Neither happens only for class 0 (what Python's `unicodedata.combining` says).
const LOW_CLASS_PROBE = '\u0334';
const HIGH_CLASS_PROBE = '\u0345';

function normalize(text: string, form: 'NFC' | 'NFD' | 'NFKC' | 'NFKD'): string {
  // Some JS engines ship without normalisation tables; the server's answer still rules.
  return typeof text.normalize === 'function' ? text.normalize(form) : text;
}

/** True for a combining character (canonical combining class other than 0). */
export function isCombining(char: string): boolean {
  if (!/\p{M}/u.test(char)) return false; // every class-0-or-not question is about marks
  const low = char + LOW_CLASS_PROBE;
  const high = HIGH_CLASS_PROBE + char;
  return normalize(low, 'NFD') !== low || normalize(high, 'NFD') !== high;
}

// Where Python's casefold() differs from lower-casing: final sigma folds to σ, and
// Cherokee folds to its capital letters (the older, complete set).
const FINAL_SIGMA = /ς/g;
const CHEROKEE = /[\u13a0-\u13f5\u13f8-\u13fd\uab70-\uabbf]/gu;

/**
 * Python's `casefold()` in JavaScript: lower, upper, lower again turns "ß" and "ẞ" into
 * "ss" (full case mappings), then the two places where folding is not lower-casing.
 */
function casefold(text: string): string {
  return text
    .toLowerCase()
    .toUpperCase()
    .toLowerCase()
    .replace(FINAL_SIGMA, 'σ')
    .replace(CHEROKEE, (c) => c.toUpperCase());
}

/** The server's `username_identity`: one key for names that look alike. */
export function usernameIdentity(username: string): string {
  const decomposed = normalize(username, 'NFKD');
  let bare = '';
  for (const char of decomposed) if (!isCombining(char)) bare += char;
  let folded = '';
  for (const char of casefold(normalize(bare, 'NFKC'))) folded += LOOKALIKES[char] ?? char;
  return splitWords(folded.replace(/rn/g, 'm')).join(' ');
}

/** The same person's name for the server (`Alice`, `ALICE` and `Аlice` are one name). */
export function sameName(a: string, b: string): boolean {
  return a === b || usernameIdentity(a) === usernameIdentity(b);
}
