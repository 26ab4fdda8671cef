/**
 * A stand-in XMLHttpRequest for the uploads (the client core's uploadFile makes one): records
 * the request, lets a test report upload progress and play the server's answer.
 */
type Handler = (() => void) | null;

export class FakeXhr {
  /** Every request made since `installFakeXhr`, oldest first. */
  static made: FakeXhr[] = [];

  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: FormData | null = null;
  status = 0;
  responseType = '';
  response: unknown = null;
  responseText = '';
  aborted = false;
  responseHeaders: Record<string, string> = {};
  upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = {
    onprogress: null,
  };
  onload: Handler = null;
  onerror: Handler = null;
  ontimeout: Handler = null;
  onabort: Handler = null;

  constructor() {
    FakeXhr.made.push(this);
  }

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

  /** The form's fields: strings, and the file part as React Native's FormData holds it. */
  fields(): Record<string, unknown> {
    const parts = (this.body as unknown as { _parts?: [string, unknown][] })?._parts ?? [];
    return Object.fromEntries(parts);
  }

  progress(loaded: number, total: number): void {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true });
  }

  answer(status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.responseHeaders = headers;
    this.onload?.();
  }
}

/**
 * Replace the global XMLHttpRequest until the returned function puts it back, and FormData by
 * React Native's (Jest's is Node's, which cannot hold a `{uri, name, type}` file part).
 */
export function installFakeXhr(): () => void {
  const original = globalThis.XMLHttpRequest;
  const originalFormData = globalThis.FormData;
  FakeXhr.made = [];
  globalThis.XMLHttpRequest = FakeXhr as unknown as typeof XMLHttpRequest;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  globalThis.FormData = require('react-native/Libraries/Network/FormData').default;
  return () => {
    globalThis.XMLHttpRequest = original;
    globalThis.FormData = originalFormData;
  };
}
