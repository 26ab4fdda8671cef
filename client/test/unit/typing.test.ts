import { TypingSender, TypingWatch } from '../../src/index.js';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('TypingSender', () => {
  it('sends true at most every 2 s and false after 3 s idle', () => {
    const sent: boolean[] = [];
    const sender = new TypingSender((v) => sent.push(v), { now: () => Date.now() });
    sender.input(true);
    sender.input(true);
    jest.advanceTimersByTime(2000);
    sender.input(true);
    expect(sent).toEqual([true, true]);
    jest.advanceTimersByTime(3000);
    expect(sent).toEqual([true, true, false]);
  });

  it('sends nothing while it may not, and then true at once', () => {
    const sent: boolean[] = [];
    let joined = false;
    const sender = new TypingSender((v) => sent.push(v), { canSend: () => joined });
    sender.input(true);
    joined = true;
    sender.input(true);
    sender.input(false);
    expect(sent).toEqual([true, false]);
  });
});

describe('TypingWatch', () => {
  it('keeps the order people started and forgets them after 6 s', () => {
    const seen: string[][] = [];
    const watch = new TypingWatch((names) => seen.push(names));
    watch.set('carol', true);
    watch.set('bob', true);
    jest.advanceTimersByTime(4000);
    watch.set('carol', true); // a refresh: no change event
    expect(seen).toEqual([['carol'], ['carol', 'bob']]);
    jest.advanceTimersByTime(2000);
    expect(watch.names()).toEqual(['carol']);
    watch.set('carol', false);
    expect(watch.names()).toEqual([]);
  });
});
