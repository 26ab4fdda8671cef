import { fetchActiveRooms } from './rooms';

function answer(status: number, body: unknown): typeof fetch {
  return jest.fn(async () => ({ ok: status < 300, status, json: async () => body })) as never;
}

describe('GET /api/rooms', () => {
  it('returns the rooms with their user counts', async () => {
    const fetchImpl = answer(200, {
      rooms: [
        { room: 'general', users: 3, messages: 42, last_activity: '2026-11-25T14:03:07.412Z' },
        { room: 'tech', users: 0, messages: 5, last_activity: '2026-11-25T13:00:00.000Z' },
      ],
      count: 2,
    });
    const rooms = await fetchActiveRooms('http://chat.test:5000/', { fetchImpl });
    expect(fetchImpl).toHaveBeenCalledWith('http://chat.test:5000/api/rooms', expect.anything());
    expect(rooms.map((r) => [r.room, r.users])).toEqual([
      ['general', 3],
      ['tech', 0],
    ]);
  });

  it('fails on an error status or an unexpected body', async () => {
    await expect(fetchActiveRooms('http://x', { fetchImpl: answer(500, {}) })).rejects.toThrow('500');
    await expect(fetchActiveRooms('http://x', { fetchImpl: answer(200, { nope: 1 }) })).rejects.toThrow();
  });
});
