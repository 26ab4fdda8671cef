import { format, getLanguage, plural, setLanguage, strings, typingText } from './index';
import en from './en';
import fr from './fr';

afterEach(() => setLanguage('en'));

describe('i18n', () => {
  it('defaults to English outside French devices', () => {
    expect(getLanguage()).toBe('en');
    expect(strings().login.submit).toBe('Join the room');
  });

  it('says who is typing, for one, two or more people', () => {
    expect(typingText([])).toBe('');
    expect(typingText(['bob'])).toBe('bob is typing…');
    expect(typingText(['bob', 'carol'])).toBe('bob and carol are typing…');
    expect(typingText(['bob', 'carol', 'dave', 'erin'])).toBe('bob, carol and 2 others are typing…');
  });

  it('speaks French', () => {
    setLanguage('fr');
    expect(strings().login.submit).toBe('Rejoindre la Room');
    expect(typingText(['Zoë'])).toBe('Zoë écrit…');
    expect(typingText(['Zoë', 'Léo'])).toBe('Zoë et Léo écrivent…');
    expect(plural(strings().login.users, 0)).toBe('0 utilisateur');
    expect(plural(strings().login.users, 2)).toBe('2 utilisateurs');
  });

  it('has every English key in French', () => {
    const keys = (o: object, prefix = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) =>
        v && typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
      );
    expect(keys(fr)).toEqual(keys(en));
  });

  it('fills placeholders', () => {
    expect(format('{a} and {b}', { a: 1, b: 'x' })).toBe('1 and x');
    expect(plural(en.login.users, 1)).toBe('1 user');
  });
});
