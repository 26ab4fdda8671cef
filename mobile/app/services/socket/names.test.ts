import serverCases from '../../../test/fixtures/protocol-cases.json';
import { isCombining, sameName, usernameIdentity } from './names';

type Case = [string, string];
const cases = serverCases.identity as Case[];

describe('look-alike names', () => {
  it('holds as one name exactly the names the server holds as one', () => {
    const disagreements: string[] = [];
    for (const [a, serverA] of cases) {
      for (const [b, serverB] of cases) {
        const server = serverA === serverB;
        if (sameName(a, b) !== server) disagreements.push(`${a} / ${b}: server says ${server}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it.each(cases)('%j is held as %j', (name, identity) => {
    expect(usernameIdentity(name)).toBe(identity);
  });

  it('follows the examples of docs/protocol.md', () => {
    expect(sameName('Alice', 'ALICE')).toBe(true);
    expect(sameName('Alice', 'Ａｌｉｃｅ')).toBe(true);
    expect(sameName('Élodie', 'Elodie')).toBe(true);
    expect(sameName('\u0430lice', 'alice')).toBe(true); // Cyrillic а
    expect(sameName('b0b', 'bob')).toBe(true);
    expect(sameName('rnary', 'mary')).toBe(true);
    expect(sameName('Jo  Ann', 'Jo Ann')).toBe(true);
    expect(sameName('alice', 'alicia')).toBe(false);
  });

  it('drops combining marks only (canonical class other than 0), as Python does', () => {
    expect(isCombining('\u0301')).toBe(true); // acute, class 230
    expect(isCombining('\u0334')).toBe(true); // tilde overlay, class 1
    expect(isCombining('\u0345')).toBe(true); // ypogegrammeni, class 240
    expect(isCombining('\u093f')).toBe(false); // Devanagari vowel sign I: a mark of class 0
    expect(isCombining('\u0941')).toBe(false); // Devanagari vowel sign U: Mn of class 0
    expect(isCombining('\u094d')).toBe(true); // virama, class 9
    expect(isCombining('a')).toBe(false);
  });
});
