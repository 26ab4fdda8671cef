import {
  ApiError,
  ChatSession,
  FILES_PER_MESSAGE,
  fetchFile,
  fileUrl,
  filesOf,
  formatSize,
  isAbortError,
  isImage,
  parseFileEntry,
  uploadFile,
  type FileEntry,
  type SavedEntry,
  type SessionOptions,
} from '../../src/index.js';
import { FakeSocket, flushPromises, joinWith, makeMessage, ok } from '../support/FakeSocket.js';

const PHOTO: FileEntry = {
  id: 'a'.repeat(32),
  name: 'holiday.jpg',
  size: 123456,
  type: 'image/jpeg',
  kind: 'image',
  width: 600,
  height: 1200,
  variants: ['display', 'thumb'],
};
const PDF: FileEntry = { id: 'b'.repeat(32), name: 'minutes.pdf', size: 2048, type: 'application/pdf', kind: 'file' };

/** A stand-in for XMLHttpRequest: records what is sent; the test plays the server. */
class FakeXhr {
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: FormData | null = null;
  status = 0;
  responseText = '';
  responseType = '';
  response: unknown = null;
  responseHeaders: Record<string, string> = {};
  aborted = false;
  upload: { onprogress: ((event: ProgressEvent) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  onabort: (() => void) | null = null;

  open(method: string, url: string): void {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  getResponseHeader(name: string): string | null {
    return this.responseHeaders[name] ?? null;
  }
  send(body: FormData): void {
    this.body = body;
  }
  abort(): void {
    this.aborted = true;
    this.onabort?.();
  }
  // ---- the server's side ----
  progress(loaded: number, total: number): void {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true } as ProgressEvent);
  }
  answer(status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.status = status;
    this.responseText = typeof body === 'string' ? body : JSON.stringify(body);
    this.responseHeaders = headers;
    this.onload?.();
  }
}

function fakeXhr() {
  const made: FakeXhr[] = [];
  const factory = () => {
    const xhr = new FakeXhr();
    made.push(xhr);
    return xhr as unknown as XMLHttpRequest;
  };
  return { factory, made };
}

const blob = (text: string, type = 'text/plain') => new Blob([text], { type });

describe('file helpers', () => {
  it('builds the URL of a file and of its variants', () => {
    expect(fileUrl('https://chat.test/', PHOTO.id)).toBe(`https://chat.test/api/v1/files/${PHOTO.id}`);
    expect(fileUrl('', PHOTO.id, 'thumb')).toBe(`/api/v1/files/${PHOTO.id}/thumb`);
    expect(fileUrl('https://chat.test', PHOTO.id, 'display')).toBe(`https://chat.test/api/v1/files/${PHOTO.id}/display`);
  });

  it('tells images from other files', () => {
    expect(isImage(PHOTO)).toBe(true);
    expect(isImage(PDF)).toBe(false);
    expect(isImage(null)).toBe(false);
  });

  it('formats sizes for people, in English or with translated units', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(512)).toBe('512 B');
    expect(formatSize(1024)).toBe('1 KB');
    expect(formatSize(1536)).toBe('1.5 KB');
    expect(formatSize(123456)).toBe('121 KB');
    expect(formatSize(10 * 1024 * 1024)).toBe('10 MB');
    expect(formatSize(10238)).toBe('10 KB');
    expect(formatSize(-5)).toBe('0 B');
    expect(formatSize(1536, { units: ['o', 'Ko', 'Mo', 'Go'], decimal: ',' })).toBe('1,5 Ko');
  });

  it('keeps only well-formed file entries', () => {
    expect(parseFileEntry({ ...PHOTO, extra: 1 })).toEqual(PHOTO);
    expect(parseFileEntry({ id: 'not-an-id', name: 'x' })).toBeNull();
    expect(parseFileEntry(null)).toBeNull();
    expect(filesOf([PDF, { id: 'zz' }, 'nope'])).toEqual([PDF]);
    expect(filesOf(undefined)).toEqual([]);
  });
});

describe('uploadFile', () => {
  it('posts the file and the room with the access token, reports progress and resolves with the entry', async () => {
    const { factory, made } = fakeXhr();
    const progress: Array<[number, number]> = [];
    const done = uploadFile({
      baseUrl: 'https://chat.test/',
      room: 'general',
      file: blob('hello'),
      name: 'hello.txt',
      token: 'tok',
      onProgress: (sent, total) => progress.push([sent, total]),
      xhr: factory,
    });
    const xhr = made[0];
    expect(xhr.method).toBe('POST');
    expect(xhr.url).toBe('https://chat.test/api/v1/uploads');
    expect(xhr.headers.Authorization).toBe('Bearer tok');
    expect(xhr.body!.get('room')).toBe('general');
    expect(xhr.body!.get('username')).toBeNull();
    const part = xhr.body!.get('file') as File;
    expect(part.name).toBe('hello.txt');
    expect(await part.text()).toBe('hello');
    xhr.progress(2, 5);
    xhr.progress(5, 5);
    xhr.answer(201, { ...PDF, name: 'hello.txt' });
    await expect(done).resolves.toEqual({ ...PDF, name: 'hello.txt' });
    expect(progress).toEqual([
      [2, 5],
      [5, 5],
    ]);
  });

  it('sends a guest name and client_key as form fields, and no Authorization', async () => {
    const { factory, made } = fakeXhr();
    const done = uploadFile({ baseUrl: '', room: 'general', file: blob('x'), guest: { username: 'Zoë', clientKey: 'k'.repeat(32) }, xhr: factory });
    const xhr = made[0];
    expect(xhr.url).toBe('/api/v1/uploads');
    expect(xhr.headers.Authorization).toBeUndefined();
    expect(xhr.body!.get('username')).toBe('Zoë');
    expect(xhr.body!.get('client_key')).toBe('k'.repeat(32));
    expect((xhr.body!.get('file') as File).name).toBe('file');
    xhr.answer(201, PHOTO);
    await expect(done).resolves.toEqual(PHOTO);
  });

  it("passes a React Native file ({uri, name, type}) as the form's file part", () => {
    const { factory, made } = fakeXhr();
    const appended: Array<[string, unknown]> = [];
    const RealFormData = globalThis.FormData;
    class RecordingFormData {
      append(name: string, value: unknown): void {
        appended.push([name, value]);
      }
    }
    (globalThis as any).FormData = RecordingFormData;
    try {
      void uploadFile({ baseUrl: '', room: 'general', file: { uri: 'file:///photo.jpg', name: 'photo.jpg', type: 'image/jpeg' }, xhr: factory }).catch(() => undefined);
    } finally {
      (globalThis as any).FormData = RealFormData;
    }
    expect(appended).toContainEqual(['file', { uri: 'file:///photo.jpg', name: 'photo.jpg', type: 'image/jpeg' }]);
    made[0].abort();
  });

  it.each([
    [413, { error: 'The file is larger than 10 MB', code: 'too_large' }, 'too_large', 'The file is larger than 10 MB'],
    [415, { error: 'This type of file cannot be shared', code: 'unsupported_type' }, 'unsupported_type', 'This type of file cannot be shared'],
    [404, { error: 'No such conversation', code: 'not_found' }, 'not_found', 'No such conversation'],
  ])('rejects a %i with the server text', async (status, body, code, message) => {
    const { factory, made } = fakeXhr();
    const done = uploadFile({ baseUrl: '', room: 'general', file: blob('x'), xhr: factory });
    made[0].answer(status, body);
    const error = await done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status, code, message });
  });

  it('rejects a 429 with its Retry-After, and a bare 413 of a proxy with a code', async () => {
    const { factory, made } = fakeXhr();
    const limited = uploadFile({ baseUrl: '', room: 'general', file: blob('x'), xhr: factory });
    made[0].answer(429, { error: 'Too many uploads', code: 'rate_limited' }, { 'Retry-After': '12' });
    await expect(limited).rejects.toMatchObject({ status: 429, code: 'rate_limited', retryAfter: 12, message: 'Too many uploads' });
    const proxied = uploadFile({ baseUrl: '', room: 'general', file: blob('x'), xhr: factory });
    made[1].answer(413, '<html>413 Request Entity Too Large</html>');
    await expect(proxied).rejects.toMatchObject({ status: 413, code: 'too_large' });
  });

  it('rejects with network_error when the server cannot be reached', async () => {
    const { factory, made } = fakeXhr();
    const done = uploadFile({ baseUrl: '', room: 'general', file: blob('x'), xhr: factory });
    made[0].onerror!();
    await expect(done).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('cancels the request when its signal aborts', async () => {
    const { factory, made } = fakeXhr();
    const controller = new AbortController();
    const done = uploadFile({ baseUrl: '', room: 'general', file: blob('x'), signal: controller.signal, xhr: factory });
    made[0].progress(1, 10);
    controller.abort();
    const error = await done.catch((e: unknown) => e);
    expect(made[0].aborted).toBe(true);
    expect(isAbortError(error)).toBe(true);
    // A signal aborted already: nothing is sent.
    const again = uploadFile({ baseUrl: '', room: 'general', file: blob('x'), signal: controller.signal, xhr: factory });
    await expect(again).rejects.toMatchObject({ code: 'aborted' });
    expect(made).toHaveLength(1);
  });
});

describe('fetchFile', () => {
  it('fetches a variant with the access token and returns its bytes', async () => {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const fetchFn = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return { ok: true, status: 200, blob: async () => blob('jpeg bytes', 'image/jpeg') } as unknown as Response;
    }) as unknown as typeof fetch;
    const bytes = await fetchFile({ baseUrl: 'https://chat.test', id: PHOTO.id, variant: 'thumb', token: 'tok', fetch: fetchFn });
    expect(await bytes.text()).toBe('jpeg bytes');
    expect(calls[0].url).toBe(`https://chat.test/api/v1/files/${PHOTO.id}/thumb`);
    expect(calls[0].init.headers).toEqual({ Authorization: 'Bearer tok' });
  });

  it('rejects a refusal with the server text', async () => {
    const fetchFn = (async () =>
      ({ ok: false, status: 404, headers: { get: () => null }, json: async () => ({ error: 'Not found', code: 'not_found' }) }) as unknown as Response) as unknown as typeof fetch;
    await expect(fetchFile({ baseUrl: '', id: PHOTO.id, fetch: fetchFn })).rejects.toMatchObject({ status: 404, code: 'not_found', message: 'Not found' });
  });
});

describe('sending files', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function setup(overrides: Partial<SessionOptions> = {}) {
    const socket = new FakeSocket();
    let n = 0;
    const session = new ChatSession({
      url: 'http://chat.test',
      username: 'alice',
      room: 'general',
      clientKey: 'k'.repeat(32),
      protocol: 2,
      connect: () => socket,
      makeClientId: () => `cid-${++n}`,
      ...overrides,
    });
    session.start();
    return { session, socket };
  }

  it('puts the file ids in send_message, shows them while pending, and allows an empty text', async () => {
    const { session, socket } = setup();
    await joinWith(socket);
    const sent = session.send('', { files: [PHOTO, PDF] });
    expect(sent).toEqual({ ok: true, value: '', clientId: 'cid-1' });
    expect(socket.last('send_message').payload).toEqual({ message: '', client_id: 'cid-1', room: 'general', files: [PHOTO.id, PDF.id] });
    const pending = session.timeline.list().find((i) => i.kind === 'pending');
    expect(pending).toMatchObject({ kind: 'pending', message: '', files: [PHOTO, PDF] });
    const stored = makeMessage(2, 'alice', '', { client_id: 'cid-1', files: [PHOTO, PDF] });
    socket.last('send_message').ack!(ok({ message: stored, duplicate: false }));
    await flushPromises();
    const item = session.timeline.list().find((i) => i.kind === 'message' && i.id === stored.id);
    expect(item).toMatchObject({ message: '', files: [PHOTO, PDF], status: 'sent' });
  });

  it('sends a caption with the files', async () => {
    const { session, socket } = setup();
    await joinWith(socket);
    session.send('  look  ', { files: [PHOTO] });
    expect(socket.last('send_message').payload).toMatchObject({ message: 'look', files: [PHOTO.id] });
  });

  it('still refuses an empty text without files, and a malformed or too long list of files', async () => {
    const { session, socket } = setup();
    await joinWith(socket);
    expect(session.send('  ')).toMatchObject({ ok: false });
    expect(session.send('', { files: [] })).toMatchObject({ ok: false });
    const many = Array.from({ length: FILES_PER_MESSAGE + 1 }, () => PDF);
    expect(session.send('x', { files: many })).toEqual({ ok: false, error: `files must be a list of 1-${FILES_PER_MESSAGE} file ids (from /api/v1/uploads)` });
    expect(session.send('x', { files: [{ ...PDF, id: '../etc' }] })).toMatchObject({ ok: false });
    expect(socket.sent('send_message')).toHaveLength(0);
  });

  it('re-sends the same files with the same client_id after a lost connection', async () => {
    const { session, socket } = setup();
    await joinWith(socket);
    session.send('here', { files: [PDF] });
    socket.drop();
    socket.clearEmitted();
    await joinWith(socket);
    socket.last('get_history').ack!(ok({ room: 'general', messages: [], has_more: false, cursor: '000000000001.000000000000' }));
    await flushPromises();
    expect(socket.last('send_message').payload).toEqual({ message: 'here', client_id: 'cid-1', room: 'general', files: [PDF.id] });
  });

  it('keeps the files of an unacknowledged message across a reload', async () => {
    let saved: SavedEntry[] = [];
    const store = { load: () => saved, save: (entries: SavedEntry[]) => (saved = entries) };
    const first = setup({ outboxStore: store });
    first.session.send('', { files: [PHOTO] });
    expect(saved).toEqual([expect.objectContaining({ client_id: 'cid-1', text: '', files: [PHOTO] })]);
    const second = setup({ outboxStore: store, makeClientId: () => 'unused' });
    await joinWith(second.socket);
    expect(second.socket.last('send_message').payload).toEqual({ message: '', client_id: 'cid-1', room: 'general', files: [PHOTO.id] });
  });

  it("shows others' files from history and live, and drops them when the message is deleted", async () => {
    const { session, socket } = setup();
    await joinWith(socket, [makeMessage(1, 'bob', 'a photo', { files: [PHOTO] })]);
    const first = session.timeline.list().find((i) => i.kind === 'message' && i.id === '000000000001');
    expect(first).toMatchObject({ files: [PHOTO] });
    socket.fire('room_event', {
      id: '000000000001.000000000001',
      room: 'general',
      message_id: '000000000001',
      type: 'delete',
      message: makeMessage(1, 'bob', '', { deleted: true, deleted_at: '2026-11-25T14:01:00.000Z' }),
    });
    await flushPromises();
    const gone = session.timeline.list().find((i) => i.kind === 'message' && i.id === '000000000001');
    expect(gone).toMatchObject({ deleted: true });
    expect((gone as { files?: unknown }).files).toBeUndefined();
  });
});
