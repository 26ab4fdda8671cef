/** A fake `fetch` for the HTTP clients' tests: records each request, answers with the test's handler. */

export interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: any;
}

export type Answer = { status: number; body?: unknown };

export function fakeFetch(handler: (call: Call) => Answer) {
  const calls: Call[] = [];
  const fetchFn = (async (url: string, init: RequestInit = {}) => {
    const call: Call = {
      url,
      method: init.method ?? 'GET',
      headers: (init.headers as Record<string, string>) ?? {},
      body: init.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(call);
    const answer = handler(call);
    return {
      ok: answer.status >= 200 && answer.status < 300,
      status: answer.status,
      headers: { get: () => null },
      json: async () => {
        if (answer.body === undefined) throw new SyntaxError('no body');
        return answer.body;
      },
    } as unknown as Response;
  }) as unknown as typeof fetch;
  return { fetch: fetchFn, calls };
}

/** A TokenSource whose access token is `token` and whose refresh gives `fresh`. */
export function tokens(token: string | null = 'access-1', fresh: string | null = 'access-2') {
  return { accessToken: jest.fn(async () => token), refreshNow: jest.fn(async () => fresh) };
}
