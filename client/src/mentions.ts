/**
 * Mentions (docs/protocol.md, protocol 2): the server lists in `mentions` the `@name`s of a
 * message that named someone present, as written. A view highlights exactly those, and a
 * message mentions us when one of them is our name under the look-alike rules.
 */

import { sameName } from './names.js';

/** What may follow `@` in a mention: letters, digits, marks, `.`, `_`, `-`. */
const NAME_CHAR = /[\p{L}\p{M}\p{N}._-]/u;
/** What may follow a mentioned name inside the run of name characters (punctuation). */
const TRAILING = /^[._-]*$/;

/** True when one of `mentions` is `username` (Alice, ALICE and Аlice are one name). */
export function mentionsMe(mentions: readonly string[] | undefined, username: string): boolean {
  return Array.isArray(mentions) && mentions.some((name) => typeof name === 'string' && sameName(name, username));
}

export interface MentionPart {
  text: string;
  /** The name mentioned (as written, without `@`) when this part is a mention. */
  mention?: string;
}

/**
 * Split `text` into plain parts and the `@name` parts listed in `mentions`; the parts join
 * back to `text`. An `@name` not in the list (nobody by that name was there) stays plain,
 * and so does one followed by more letters (`@bob` in `@bobby`); trailing `.`, `_` or `-`
 * (`@bob.`) may follow.
 */
export function mentionParts(text: string, mentions: readonly string[] | undefined): MentionPart[] {
  const names = [...new Set((mentions ?? []).filter((m) => typeof m === 'string' && m))].sort((a, b) => b.length - a.length);
  if (!names.length || !text.includes('@')) return text ? [{ text }] : [];
  const parts: MentionPart[] = [];
  let plain = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === '@' && (i === 0 || !NAME_CHAR.test(previousChar(text, i)))) {
      const run = nameRun(text, i + 1);
      const name = names.find((n) => run.startsWith(n) && TRAILING.test(run.slice(n.length)));
      if (name) {
        if (plain) parts.push({ text: plain });
        plain = '';
        parts.push({ text: `@${name}`, mention: name });
        i += 1 + name.length;
        continue;
      }
    }
    plain += text[i];
    i += 1;
  }
  if (plain) parts.push({ text: plain });
  return parts;
}

function previousChar(text: string, index: number): string {
  const code = text.charCodeAt(index - 1);
  // A low surrogate: take the whole code point.
  return code >= 0xdc00 && code <= 0xdfff && index >= 2 ? text.slice(index - 2, index) : text[index - 1];
}

/** The name characters from `index` on. */
function nameRun(text: string, index: number): string {
  let run = '';
  for (const char of text.slice(index)) {
    if (!NAME_CHAR.test(char)) break;
    run += char;
  }
  return run;
}
