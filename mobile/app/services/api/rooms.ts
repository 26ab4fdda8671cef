import type { ActiveRoom, ActiveRoomsResponse } from '../socket/protocol';

/**
 * GET {server}/api/rooms: the rooms with people or recent messages.
 * Throws on a network error, a non-2xx answer or an unexpected shape.
 */
export async function fetchActiveRooms(
  serverUrl: string,
  options: { fetchImpl?: typeof fetch; timeoutMs?: number } = {},
): Promise<ActiveRoom[]> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = setTimeout(() => controller?.abort(), options.timeoutMs ?? 5000);
  try {
    const response = await fetchImpl(`${serverUrl.replace(/\/+$/, '')}/api/rooms`, {
      headers: { Accept: 'application/json' },
      signal: controller?.signal,
    });
    if (!response.ok) throw new Error(`GET /api/rooms answered ${response.status}`);
    const body = (await response.json()) as Partial<ActiveRoomsResponse>;
    if (!body || !Array.isArray(body.rooms)) throw new Error('GET /api/rooms: no rooms list');
    return body.rooms.filter(
      (r): r is ActiveRoom => !!r && typeof r.room === 'string' && typeof r.users === 'number',
    );
  } finally {
    clearTimeout(timer);
  }
}
