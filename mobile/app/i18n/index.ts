import { getLocales } from 'expo-localization';

import en, { type Translations } from './en';
import fr from './fr';

export type Language = 'en' | 'fr';
export type { Translations };

const TABLES: Record<Language, Translations> = { en, fr };

/** English or French, from the device's preferred languages; English otherwise. */
export function deviceLanguage(): Language {
  try {
    for (const locale of getLocales()) {
      const code = (locale.languageCode ?? '').toLowerCase();
      if (code === 'fr' || code === 'en') return code;
    }
  } catch {
    // No locale information (some test or web set-ups): fall back to English.
  }
  return 'en';
}

let current: Language = deviceLanguage();

export function setLanguage(language: Language): void {
  current = language;
}

export function getLanguage(): Language {
  return current;
}

/** The string table of the current language. */
export function strings(): Translations {
  return TABLES[current];
}

/** Fill {placeholders} in a string. */
export function format(template: string, values: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in values ? String(values[key]) : whole,
  );
}

/** Singular or plural: English uses the singular for 1 only, French for 0 and 1. */
export function plural(
  forms: { one: string; other: string },
  count: number,
  values: Record<string, string | number> = {},
): string {
  const one = current === 'fr' ? count <= 1 : count === 1;
  return format(one ? forms.one : forms.other, { ...values, count });
}

/** "X is typing…" / "X and Y are typing…" / "X, Y and N others are typing…". */
export function typingText(names: string[]): string {
  const t = strings().chat.typing;
  if (names.length === 0) return '';
  if (names.length === 1) return format(t.one, { a: names[0] });
  if (names.length === 2) return format(t.two, { a: names[0], b: names[1] });
  return format(t.many, { a: names[0], b: names[1], count: names.length - 2 });
}
