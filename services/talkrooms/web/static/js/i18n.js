/**
 * UI strings. The server picks English or French from Accept-Language and renders the
 * catalogue into <body data-strings>; this module formats them and the local times.
 */

let strings = {};
let lang = 'en';

export function loadStrings(doc = document) {
  try {
    strings = JSON.parse(doc.body.dataset.strings || '{}');
  } catch {
    strings = {};
  }
  lang = doc.documentElement.lang || navigator.language || 'en';
}

/** `t('users_count', {count: 3})` -> "3 online"; unknown keys come back as the key. */
export function t(key, params = {}) {
  const template = strings[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

/** Plural-aware: `tn('messages_count', 2)` picks `messages_count_other` ("2 messages"). */
export function tn(key, count, params = {}) {
  const category = new Intl.PluralRules(lang).select(count);
  const specific = `${key}_${category}`;
  return t(specific in strings ? specific : `${key}_other`, { count, ...params });
}

export function has(key) {
  return key in strings;
}

export function language() {
  return lang;
}

/** "14:03" in the user's time zone and language. */
export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(date);
}

/** The local date alone ("6 Dec 2026"). */
export function formatDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium' }).format(date);
}

/** Full local date and time, for the tooltip of a timestamp. */
export function formatDateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium' }).format(date);
}
