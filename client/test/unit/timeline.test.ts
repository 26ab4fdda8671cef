import { Timeline, formatId, type TimelineChange } from '../../src/index.js';
import { msg } from '../support/views.js';

const ops = (changes: TimelineChange[]) => changes.map((c) => (c.op === 'remove' ? `-${c.key}` : `+${c.item.key}`));

describe('Timeline', () => {
  it('sorts by id, tracks the last id without a hole, and fills it', () => {
    const t = new Timeline();
    t.addMessages([msg(2), msg(1), msg(3)]);
    expect(t.lastId).toBeNull();
    t.begin();
    expect(t.lastId).toBe(3);
    t.addMessages([msg(6)]);
    expect(t.hasGap()).toBe(true);
    t.addMessages([msg(4), msg(5)]);
    expect([t.lastId, t.hasGap()]).toEqual([6, false]);
    expect(t.keys).toEqual([1, 2, 3, 4, 5, 6].map(formatId));
  });

  it('replaces a pending message by its stored copy and shows it once', () => {
    const t = new Timeline();
    t.begin();
    t.addPending({ client_id: 'c1', message: 'hi', username: 'me', timestamp: 'now' });
    const changes = t.addMessages([msg(1, { client_id: 'c1', username: 'me' })]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ op: 'upsert', replaces: 'p00000001' });
    expect(t.message(formatId(1))?.status).toBe('sent');
    // A second copy of the same client_id under another id shows nothing new...
    expect(t.addMessages([msg(2, { client_id: 'c1' })])).toEqual([]);
    // ...and does not count as a hole.
    t.addMessages([msg(3)]);
    expect([t.lastId, t.hasGap()]).toEqual([3, false]);
  });

  it('places notices after the newest message held when they happened', () => {
    const t = new Timeline();
    t.addMessages([msg(1)]);
    t.addNotice('join', { name: 'carol' });
    t.addMessages([msg(2)]);
    expect(t.list().map((i) => i.kind)).toEqual(['message', 'notice', 'message']);
  });

  it('skips ids the server no longer has', () => {
    const t = new Timeline();
    t.addMessages([msg(1)]);
    t.begin();
    t.addMessages([msg(5)]);
    t.skipHole();
    expect([t.lastId, t.hasGap()]).toEqual([5, false]);
  });

  it('tells when the numbering restarted and starts again, keeping pending messages', () => {
    const t = new Timeline();
    t.addMessages([msg(7), msg(8)]);
    t.begin();
    t.addPending({ client_id: 'c1', message: 'unsent', username: 'me', timestamp: 'now' });
    expect(t.restartedBy([msg(8)])).toBe(false);
    expect(t.restartedBy([msg(1)])).toBe(true);
    expect(t.restartedBy([msg(8, { username: 'carol' })])).toBe(true);
    expect(ops(t.reset())).toEqual([`-${formatId(7)}`, `-${formatId(8)}`]);
    expect(t.lastId).toBeNull();
    expect(t.list().map((i) => i.kind)).toEqual(['pending']);
  });

  it('keeps at most 200 notices', () => {
    const t = new Timeline();
    let removed = 0;
    for (let i = 0; i < 205; i += 1) removed += t.addNotice('join', { name: `u${i}` }).filter((c) => c.op === 'remove').length;
    expect(removed).toBe(5);
    expect(t.keys).toHaveLength(200);
  });

  it('ignores what is not a stored message', () => {
    const t = new Timeline();
    expect(t.addMessages([{ id: 'x' }, null, { id: 7 }])).toEqual([]);
  });
});
