import { CLIENT_ID_PATTERN, CLIENT_KEY_PATTERN, makeClientId, makeClientKey } from './ids';

// expo-crypto is backed by Node's crypto under Jest (jest.setup.ts).
describe('ids', () => {
  it('makes client_ids the server accepts, all different', () => {
    const ids = new Set(Array.from({ length: 200 }, () => makeClientId()));
    expect(ids.size).toBe(200);
    for (const id of ids) {
      expect(id).toMatch(CLIENT_ID_PATTERN);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('makes a 32-character client_key of [A-Za-z0-9_-]', () => {
    const key = makeClientKey();
    expect(key).toHaveLength(32);
    expect(key).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(key).toMatch(CLIENT_KEY_PATTERN);
    expect(makeClientKey()).not.toBe(key);
  });
});
