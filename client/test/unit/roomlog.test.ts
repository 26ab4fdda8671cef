import {
  LogCursor,
  ReactionState,
  RoomLog,
  Timeline,
  formatId,
  mentionParts,
  mentionsMe,
  parsePosition,
  usernameIdentity,
  type RoomEvent,
} from '../../src/index.js';
import { msg } from '../support/views.js';

const pos = (s: number, n: number) => `${formatId(s)}.${formatId(n)}`;
const reaction = (s: number, n: number, id: number, username: string, emoji: string, added: boolean, count: number): RoomEvent => ({
  id: pos(s, n),
  room: 'r',
  type: 'reaction',
  message_id: formatId(id),
  emoji,
  username,
  added,
  count,
});

describe('log positions', () => {
  it('parses both kinds and sorts them as strings', () => {
    expect(parsePosition('000000000042')).toEqual({ messageId: 42, counter: null });
    expect(parsePosition('000000000042.000000000007')).toEqual({ messageId: 42, counter: 7 });
    expect(parsePosition('42.7')).toBeNull();
    expect(['000000000043', pos(42, 7), '000000000042'].sort()).toEqual(['000000000042', pos(42, 7), '000000000043']);
  });

  it('resumes from the later of the last message and the last event, but never past a hole', () => {
    const cursor = new LogCursor();
    expect(cursor.since(5)).toBe(formatId(5));
    cursor.start(pos(5, 2));
    expect(cursor.since(5)).toBe(pos(5, 2));
    expect(cursor.since(9)).toBe(formatId(9));
    expect(cursor.note(pos(9, 3))).toBe(true);
    expect(cursor.note(pos(9, 3))).toBe(false); // a copy
    expect(cursor.note(pos(9, 5))).toBe(true); // 4 is missing
    expect(cursor.hasGap()).toBe(true);
    expect(cursor.since(12)).toBe(pos(9, 3)); // event 4 may lie before message 12
    expect(cursor.since(8)).toBe(formatId(8)); // we miss message 9, before event 3
    cursor.note(pos(9, 4));
    expect([cursor.counter, cursor.hasGap()]).toEqual([5, false]);
  });

  it('counts a hole as filled once a page covered it, and skips one the server no longer has', () => {
    const cursor = new LogCursor();
    cursor.start(pos(1, 1));
    cursor.note(pos(3, 4));
    cursor.covered(formatId(3)); // the page ended after message 3: events 2, 3 were folded in
    expect([cursor.counter, cursor.hasGap()]).toEqual([1, true]);
    cursor.covered(pos(3, 4));
    expect([cursor.counter, cursor.hasGap()]).toEqual([4, false]);
    cursor.note(pos(4, 9));
    cursor.skipHole();
    expect([cursor.counter, cursor.position]).toEqual([9, pos(4, 9)]);
  });
});

describe('ReactionState', () => {
  const at = (n: number) => pos(1, n);

  it('applies counts as absolute and users as a set, each change once', () => {
    const state = new ReactionState(usernameIdentity);
    expect(state.event('👍', 'bob', true, 1, at(1), false)).toBe(true);
    expect(state.event('👍', 'bob', true, 1, at(1), false)).toBe(false);
    state.event('👍', 'ALICE', true, 2, at(2), true);
    expect(state.list()).toEqual([{ emoji: '👍', count: 2, users: ['bob', 'ALICE'], me: true }]);
    state.event('👍', 'alice', false, 1, at(3), true);
    expect(state.list()).toEqual([{ emoji: '👍', count: 1, users: ['bob'], me: false }]);
  });

  it('lets no older event or snapshot undo a newer change', () => {
    const state = new ReactionState(usernameIdentity);
    state.event('🎉', 'bob', false, 0, at(5), false); // bob removed it (event 5)...
    state.event('🎉', 'bob', true, 1, at(4), false); // ...his adding it (event 4) arrives late
    expect(state.list()).toEqual([]);
    state.event('👍', 'carol', true, 1, at(6), false);
    state.snapshot([{ emoji: '🎉', count: 1, users: ['bob'], me: false }], at(4)); // a page as of 4
    expect(state.list()).toEqual([{ emoji: '👍', count: 1, users: ['carol'], me: false }]);
    state.snapshot([{ emoji: '❤️', count: 1, users: ['dave'], me: true }], at(7)); // as of 7: all else gone
    expect(state.list()).toEqual([{ emoji: '❤️', count: 1, users: ['dave'], me: true }]);
  });
});

describe('RoomLog', () => {
  it('renders the state of events on held messages and re-applies events that raced a page', () => {
    const log = new RoomLog(new Timeline(), () => 'alice');
    log.addMessages([msg(1), msg(2)], formatId(2));
    log.begin(pos(2, 0));
    // An event on message 3 arrives before message 3 itself (a history page in flight).
    log.applyEvent(reaction(3, 1, 3, 'bob', '👍', true, 1));
    const { changes, added } = log.addMessages([msg(3, { reactions: [] })], formatId(2));
    expect([...added]).toEqual([formatId(3)]);
    expect(changes).toHaveLength(1);
    expect(log.timeline.message(formatId(3))?.reactions).toEqual([{ emoji: '👍', count: 1, users: ['bob'], me: false }]);
  });

  it('keeps a message deleted whatever arrives after', () => {
    const log = new RoomLog(new Timeline(), () => 'alice');
    log.addMessages([msg(1, { reactions: [{ emoji: '👍', count: 1, users: ['bob'], me: false }] })], formatId(1));
    const deleted = { ...msg(1), message: '', deleted: true as const, deleted_at: '2026-11-25T15:00:00.000Z' };
    log.applyEvent({ id: pos(1, 2), room: 'r', type: 'delete', message_id: formatId(1), message: deleted });
    log.applyEvent({ id: pos(1, 1), room: 'r', type: 'edit', message_id: formatId(1), message: { ...msg(1), message: 'late', edited_at: '2026-11-25T14:59:00.000Z' } });
    log.applyEvent(reaction(1, 3, 1, 'carol', '🎉', true, 1));
    log.addMessages([msg(1, { message: 'stale page' })], formatId(1));
    expect(log.timeline.message(formatId(1))).toMatchObject({ message: '', deleted: true, deleted_at: deleted.deleted_at });
    expect(log.timeline.message(formatId(1))?.reactions).toBeUndefined();
  });

  it('marks a message that mentions us, by the look-alike rules', () => {
    const log = new RoomLog(new Timeline(), () => 'Élodie');
    log.addMessages([msg(1, { message: 'hi @elodie', mentions: ['elodie'] }), msg(2, { mentions: ['bob'] })], formatId(2));
    expect(log.timeline.messages().map((m) => m.mentionsMe)).toEqual([true, false]);
  });
});

describe('mentions', () => {
  it('highlights only the listed @names, as written', () => {
    expect(mentionParts('hi @Bob and @bobby, @carol.', ['Bob', 'carol'])).toEqual([
      { text: 'hi ' },
      { text: '@Bob', mention: 'Bob' },
      { text: ' and @bobby, ' },
      { text: '@carol', mention: 'carol' },
      { text: '.' },
    ]);
    expect(mentionParts('mail me: a@bob.org', ['bob'])).toEqual([{ text: 'mail me: a@bob.org' }]);
    expect(mentionParts('no one', undefined)).toEqual([{ text: 'no one' }]);
  });

  it('tells a message that mentions me', () => {
    expect(mentionsMe(['ALICE'], 'alice')).toBe(true);
    expect(mentionsMe(['аlice'], 'alice')).toBe(true); // Cyrillic а
    expect(mentionsMe(['alicia'], 'alice')).toBe(false);
    expect(mentionsMe(undefined, 'alice')).toBe(false);
  });
});
